"""The encoded program keeps the program clock: PTS are slots (a skipped slot is a gap, never a
shift), and a real sender's stamped pictures read back from the recording show how late they went out."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from booth.app.root import build_booth
from booth.bench.failover import rig_config
from booth.bench.recording_times import video_times
from booth.bench.sender import SenderProcess
from booth.core import timecode
from booth.core.config import ProgramConfig
from booth.core.failover import FailoverSettings
from booth.core.frames import ProgramFrame
from booth.core.output import OutputConfig
from booth.core.timing import TimingConfig
from booth.devices.encoder import EncoderSettings
from booth.program_out.encoder_link import EncoderLink
from booth.program_out.program_out import ProgramOut
from booth.runtime.feed import Feed
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

SIZE = (320, 180)


def test_a_skipped_slot_leaves_a_gap_in_pts_and_the_frames_after_it_keep_their_time(tmp_path):
    feed: Feed[ProgramFrame, object] = Feed(stamp=ProgramFrame.stamp)
    chunks: list[bytes] = []
    link = EncoderLink(EncoderSettings(*SIZE, 30.0, bitrate_kbps=400, keyframe_s=1.0), feed,
                       lambda chunk: chunks.append(chunk.data))  # fmt: skip
    link.start()
    slots = [*range(0, 10), *range(13, 40)]  # slots 10–12 never composed (the machine stalled)
    try:
        for slot in slots:
            pixels = np.zeros((SIZE[1], SIZE[0], 4), np.uint8)
            timecode.draw(pixels, slot, timecode.Band.BOTTOM)
            sent = link.status().frames_sent
            feed.put(ProgramFrame(pixels, slot, time.monotonic(), "primary", slot, 0.0, False, slot, slot / 30.0))
            wait_until(lambda s=sent: link.status().frames_sent > s, 10, f"the encoder to take slot {slot}")
    finally:
        link.stop()
    path = tmp_path / "out.ts"
    path.write_bytes(b"".join(chunks))
    frames = video_times(path)
    assert len(frames) >= 30
    assert [slot for _pts, slot in frames] == slots[: len(frames)]  # (the last GOP may still be in the muxer)
    first_pts = frames[0][0]
    for pts, slot in frames:
        assert pts - first_pts == pytest.approx(slot / 30.0, abs=2e-5)  # 90 kHz ticks, nothing shifted


def test_a_stamping_sender_read_back_from_the_recording_shows_program_time_and_its_delay(qapp, tmp_path):
    with SenderProcess(size="320x180") as sender:
        config = dataclasses.replace(
            rig_config(sender.url, FailoverSettings(), SIZE), secondary=None, program=ProgramConfig(*SIZE, 30),
            timing=TimingConfig(timecode=True),
        )  # fmt: skip
        booth = build_booth(config)
        output = ProgramOut(OutputConfig(bitrate_kbps=600, keyframe_s=1.0), config.program, booth.program,
                            recording_folder=tmp_path / "rec", clips_folder=tmp_path / "clips")  # fmt: skip
        booth.start()
        output.start()
        try:
            wait_until(lambda: booth.source_statuses()[0].delay_ms is not None, 20, "the sender's stamps")
            wait_until(lambda: output.status().frames_sent >= 120, 20, "4 s of program encoded")
            booth_says_ms = booth.source_statuses()[0].delay_ms
            clock = booth.compositor.program_clock
            zero = output.encoder.stream_zero
        finally:
            output.stop()
            booth.stop()
    recording = Path(output.status().recording_path)
    offset = time.time() - time.monotonic()
    pictures = []
    import av

    with av.open(str(recording)) as container:
        for frame in container.decode(video=0):
            luma = frame.to_ndarray(format="gray")
            pictures.append((float(frame.pts * frame.time_base), timecode.read(luma, timecode.Band.BOTTOM),
                             timecode.read(luma, timecode.Band.TOP)))  # fmt: skip
    assert len(pictures) >= 100
    assert all(slot is not None for _pts, slot, _sent in pictures), "every picture carries its program slot"
    first_pts, first_slot, _ = pictures[0]
    assert first_pts - (clock.at(first_slot) - zero) == pytest.approx(pictures[-1][0] - (clock.at(pictures[-1][1])
                                                                                          - zero), abs=1e-4)
    first_stamped = next(i for i, (_p, _s, sent_ms) in enumerate(pictures) if sent_ms is not None)
    shown = pictures[first_stamped:]  # before it: the slate, until the sender's first picture came
    delays = []
    for _pts, slot, sent_ms in shown:
        if sent_ms is not None:
            program_wall_ms = (clock.at(slot) + offset) * 1000
            delays.append(program_wall_ms - timecode.unwrap(sent_ms, round(program_wall_ms)))
    assert len(delays) >= len(shown) - 2, "the sender's stamp survives decode, scaling and encode"
    settled = sorted(delays[len(delays) // 3 :])
    median = settled[len(settled) // 2]
    assert 0 < median < 1000  # went out less than a second after the sender took it…
    assert abs(median - booth_says_ms) < 60  # …and Booth's own figure agrees with the recording
