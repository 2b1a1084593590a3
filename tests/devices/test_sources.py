"""Every kind of source read through the same interface, from real files and real streams."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from booth.core.source_spec import parse_source_spec
from booth.devices.open_source import open_source
from booth.devices.sources import SourceError
from booth.video.capture import CaptureService
from tests import senders
from tests.waiting import wait_until

PROGRAM = (640, 360)


def write_video(path, frames: int = 30, size=(320, 240), fps: float = 30.0) -> None:
    """A real MJPEG AVI where frame i is a flat grey of level 8·i, so order and looping show."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), 8 * i, np.uint8))
    writer.release()


def levels(capture: CaptureService, count: int, qtbot) -> list[int]:
    """Grey levels of the next `count` frames the capture thread publishes."""
    seen: list[int] = []
    reader = capture.frames.reader()

    def take() -> bool:
        got = reader.latest()
        if got is not None:
            seen.append(int(got.pixels[120, 160, 0]))
        return len(seen) >= count

    wait_until(take, 10)
    return seen


def test_video_file_plays_in_order_and_loops(tmp_path, qtbot):
    path = tmp_path / "loop.avi"
    write_video(path, frames=10)
    capture = CaptureService("primary", open_source(parse_source_spec(f"file:{path}"), PROGRAM, 30))
    capture.start()
    try:
        seen = levels(capture, 25, qtbot)
    finally:
        capture.stop()
    # Level drops back to ~0 when the file loops; between loops it climbs by ~8 per frame.
    loops = sum(1 for a, b in itertools.pairwise(seen) if b < a - 30)
    assert loops >= 1
    assert capture.source.nominal_fps == pytest.approx(30, abs=0.5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("file:{tmp}/missing.mp4", "Video file not found"),
        ("file:{tmp}/garbage.mp4", "Not a playable video file"),
        ("camera:No Such Camera", "No camera named 'No Such Camera'"),
        ("camera:57", "could not be opened"),
    ],
)
def test_bad_local_sources_fail_with_a_message_naming_the_problem(tmp_path, spec, message):
    (tmp_path / "garbage.mp4").write_bytes(b"\x00\x01not a video at all" * 1000)
    source = open_source(parse_source_spec(spec.format(tmp=tmp_path)), PROGRAM, 30)
    with pytest.raises(SourceError) as caught:
        source.open()
    source.close()
    assert message in str(caught.value)


@pytest.mark.slow
def test_dead_url_is_reported_and_retried(qtbot):
    port = senders.free_port()  # nothing listens here
    capture = CaptureService("primary", open_source(parse_source_spec(f"tcp://127.0.0.1:{port}"), PROGRAM, 30))
    capture.start()
    try:
        wait_until(lambda: capture.status().reconnects >= 1, 10)
        status = capture.status()
        assert status.message and "refused" in status.message.lower()
        assert status.frames == 0
    finally:
        capture.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("listener", "url"),
    [
        (senders.mpegts_tcp_listener, "tcp://127.0.0.1:{port}"),
        (senders.mjpeg_http_listener, "http://127.0.0.1:{port}/feed.mjpg"),
        (senders.srt_listener, "srt://127.0.0.1:{port}?mode=caller"),
        (senders.mpegts_udp_sender, "udp://127.0.0.1:{port}"),
        (senders.rtmp_server, "rtmp://127.0.0.1:{port}/live/phone"),
    ],
    ids=["mpegts-tcp", "mjpeg-http", "srt", "mpegts-udp", "rtmp-pull"],
)
def test_network_stream_from_a_real_sender_reaches_the_slot_at_program_size(qtbot, listener, url):
    udp = url.startswith(("srt", "udp"))
    port = senders.free_port(senders.socket.SOCK_DGRAM if udp else senders.socket.SOCK_STREAM)
    with senders.ffmpeg_sender(*listener(port)):
        source = open_source(parse_source_spec(url.format(port=port)), PROGRAM, 30)
        capture = CaptureService("primary", source)
        capture.start()
        try:
            wait_until(lambda: capture.frames.seq >= 10, 20)
            frame = capture.frames.newest()
            status = capture.status()
        finally:
            capture.stop()
    assert frame.pixels.shape == (360, 640, 3)
    # 4:3 sender into a 16:9 program: pillarboxed, black bars left and right, picture in the middle
    assert frame.pixels[:, :40].max() < 20
    assert frame.pixels[:, 200:440].std() > 20
    assert status.state.value == "live" and status.frames >= 10
