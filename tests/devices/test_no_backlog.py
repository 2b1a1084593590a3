"""A network source never serves a backlog: after Booth falls behind, the next pictures are the newest."""

from __future__ import annotations

import time

import pytest

from booth.bench.sender import SenderProcess
from booth.core import timecode
from booth.devices.ffmpeg_source import FfmpegSource

pytestmark = pytest.mark.slow

SIZE = (320, 180)


def stamp_age_s(pixels) -> float:
    value = timecode.read(pixels, timecode.Band.TOP)
    assert value is not None, "the sender stamps every picture"
    now_ms = time.time() * 1000
    return (now_ms - timecode.unwrap(value, round(now_ms))) / 1000


def test_after_booth_falls_behind_the_source_catches_up_instead_of_playing_the_backlog_out():
    with SenderProcess(size="320x180") as sender:
        source = FfmpegSource(sender.url, SIZE, "tcp://sender")
        source.open()
        try:
            for _ in range(30):
                source.read()  # connected and flowing
            assert stamp_age_s(source.read()) < 1.0
            time.sleep(3.0)  # Booth is busy elsewhere: 90 pictures pile up behind the pipe and the socket
            resumed = time.monotonic()
            first = stamp_age_s(source.read())
            ages = [first]
            while time.monotonic() - resumed < 1.0 and len(ages) < 500:
                ages.append(stamp_age_s(source.read()))
            assert first > 2.0  # the pause really built a backlog…
            assert source.dropped >= 3  # …the pictures already waiting in the pipe were skipped, and counted…
            # …and a second later the pictures are fresh again, where playing the backlog out at the
            # frame rate would still show ones two seconds old.
            assert ages[-1] < 0.5, f"still behind the sender: {[round(a, 2) for a in ages[-5:]]}"
        finally:
            source.close()
