"""Live clips from the running program: the compositor's clean feed encoded at a lower priority
into its own replay buffer and recording, and the host's order (last N seconds, preset, framing,
clean or with the overlay, a caption) exported while the program keeps encoding."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from booth.app.root import Booth, build_booth
from booth.core.clip_presets import Framing, overlay_extent
from booth.core.clips_config import ClipsConfig
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from booth.core.output import OutputConfig
from booth.core.recording import RecordingConfig
from booth.program_out.export import JobState
from booth.program_out.live_clips import ClipOrder
from booth.program_out.program_out import CLEAN_NICE, ProgramOut
from tests.conftest import SolidSource
from tests.program_out.clips.conftest import frame_at, streams, wait_until

SIZE = (640, 360)
GREY = (90, 90, 90)  # the SolidSource picture


def nice_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def make_booth(clean: bool, rehearsal: bool = False) -> Booth:
    config = replace(
        demo_config(),
        drop=DropSpec("Test drop", (Sku("tee", "TEE / BLACK", 12),), timer_seconds=90, pre_sale=True,
                      rehearsal=rehearsal),
        program=ProgramConfig(*SIZE, 30),
        clips=ClipsConfig(clean=clean),
    )
    return build_booth(config, source=SolidSource(SIZE, bgr=GREY))


@pytest.fixture
def clean_out(qapp, tmp_path: Path) -> Iterator[tuple[Booth, ProgramOut]]:
    booth = make_booth(clean=True)
    booth.start()
    output = ProgramOut(
        OutputConfig(bitrate_kbps=1200, keyframe_s=1.0), booth.config.program, booth.program,
        recording=RecordingConfig(), recording_folder=tmp_path / "rec", clips_folder=tmp_path / "clips",
        clean_feed=booth.compositor.clean,
        overlay_box=lambda: overlay_extent(*SIZE, [booth.overlay_model()]),
    )  # fmt: skip
    output.start()
    yield booth, output
    output.stop()
    booth.stop()


def differs_from_grey(rgb: np.ndarray) -> float:
    """Share of pixels visibly away from the source's flat grey."""
    return float((np.abs(rgb.astype(int) - GREY[0]).max(axis=2) > 40).mean())


def test_the_clean_feed_is_the_program_without_the_overlay(qapp) -> None:
    booth = make_booth(clean=True)
    assert booth.compositor.clean is not None
    reader, clean_reader = booth.program.reader(), booth.compositor.clean.reader()
    booth.start()
    try:
        frame = wait_until(lambda: reader.wait(0.1), 10, "a program frame")
        clean = wait_until(lambda: clean_reader.wait(0.1), 10, "a clean frame")
    finally:
        booth.stop()
    box = overlay_extent(*SIZE, [booth.overlay_model()])
    assert box is not None
    plate = (slice(box.y, box.bottom), slice(box.x, box.right))
    assert np.abs(frame.pixels[plate][..., :3].astype(int) - GREY[0]).max() > 100, "the program has the overlay"
    assert np.abs(clean.pixels[plate][..., :3].astype(int) - GREY[0]).max() <= 2, "the clean picture has none"
    assert make_booth(clean=False).compositor.clean is None  # no copy per frame unless clips want it


def test_a_rehearsals_clean_picture_still_says_rehearsal(qapp) -> None:
    booth = make_booth(clean=True, rehearsal=True)
    assert booth.compositor.clean is not None
    clean_reader = booth.compositor.clean.reader()
    booth.start()
    try:
        clean = wait_until(lambda: clean_reader.wait(0.1), 10, "a clean frame")
    finally:
        booth.stop()
    top = clean.pixels[: SIZE[1] // 5, SIZE[0] // 4 : SIZE[0] * 3 // 4, :3]  # the mark's band, top centre
    assert np.abs(top.astype(int) - GREY[0]).max() > 100, "REHEARSAL is burned into the clean picture too"


def test_vertical_clips_with_and_without_the_overlay_while_the_program_runs(clean_out, tmp_path: Path) -> None:
    _booth, output = clean_out
    assert output.clean_replay is not None and output.clean_encoder is not None
    wait_until(lambda: output.replay.span_s() >= 4.5 and output.clean_replay.span_s() >= 4.5, 40,
               "4.5 s of program and clean stream in memory")  # fmt: skip
    clean_pid = output.clean_encoder.pid
    assert clean_pid is not None and nice_of(clean_pid) == CLEAN_NICE  # below the program's encoder
    frames_before = output.status().frames_sent
    overlay = output.export_clip(ClipOrder(seconds=4, preset="tiktok-720", framing=Framing.CROP))
    clean = output.export_clip(ClipOrder(seconds=4, preset="tiktok-720", framing=Framing.CROP, clean=True))
    for job in (overlay, clean):
        status = job.future.result(120)
        assert status.state is JobState.DONE, status.message
        assert status.path is not None and status.path.parent == tmp_path / "clips"
        info = streams(status.path)
        assert (int(info["video"]["width"]), int(info["video"]["height"])) == (720, 1280)
        assert info["video"]["profile"] == "High" and info["audio"]["sample_rate"] == "48000"
        assert 3.5 <= float(info["format"]["duration"]) <= 5.5
    assert output.status().frames_sent > frames_before  # the program kept encoding meanwhile
    lifted = differs_from_grey(frame_at(overlay.status.path, 2.0))  # type: ignore[arg-type]
    plain = differs_from_grey(frame_at(clean.status.path, 2.0))  # type: ignore[arg-type]
    assert lifted > 0.01, "the counter is lifted into the 9:16 clip"
    assert plain < 0.001, f"the clean clip shows no overlay ({plain:.2%} of pixels off the grey)"
    recordings = output.recordings
    assert set(recordings) == {"program", "clean"}
    wait_until(lambda: Path(recordings["clean"]).stat().st_size > 100_000, 10, "the clean recording to grow")


def test_a_clean_clip_without_the_clean_feed_fails_with_a_sentence(qapp, tmp_path: Path) -> None:
    booth = make_booth(clean=False)
    output = ProgramOut(OutputConfig(), booth.config.program, booth.program, clips_folder=tmp_path / "clips")
    output.start()
    try:
        status = output.export_clip(ClipOrder(seconds=10, clean=True)).future.result(5)
    finally:
        output.stop()
    assert status.state is JobState.FAILED and "clean = true" in status.message and "[clips]" in status.message


def test_the_session_log_names_both_recordings_and_every_exported_clip(qapp, tmp_path: Path) -> None:
    from booth.app.options import Options
    from booth.app.root import add_rig
    from booth.app.startup import open_session
    from booth.store import kinds
    from booth.store.paths import db_path
    from booth.store.reader import SessionReader

    options = Options(data_dir=tmp_path)
    config = replace(demo_config(), program=ProgramConfig(*SIZE, 30), clips=ClipsConfig(clean=True, seconds=4))
    booth = build_booth(config, source=SolidSource(SIZE, bgr=GREY), session=open_session(options, config, False))
    add_rig(booth, options)
    booth.start()
    try:
        output = booth.output
        assert output is not None
        wait_until(lambda: output.replay.span_s() >= 4.5, 40, "4.5 s of program in memory")
        status = output.export_clip(ClipOrder(seconds=4, preset="tiktok-720")).future.result(120)
        assert status.state is JobState.DONE, status.message
    finally:
        booth.stop()
    with SessionReader(db_path(tmp_path)) as reader:
        events = reader.events(reader.session().id)
    recordings = [e.payload for e in events if e.kind == kinds.RECORDING]
    assert len(recordings) == 1 and set(recordings[0]) == {"program", "clean"}
    assert Path(recordings[0]["program"]).stat().st_size > 0 and recordings[0]["clean"].endswith("-clean.ts")
    clips = [e.payload for e in events if e.kind == kinds.CLIP]
    assert [c["path"] for c in clips] == [str(status.path)] and clips[0]["seconds"] == 4.0


def test_a_moment_older_than_the_replay_buffer_is_cut_from_the_recording(qapp, tmp_path: Path) -> None:
    booth = make_booth(clean=False)
    booth.start()
    output = ProgramOut(OutputConfig(bitrate_kbps=1200, keyframe_s=1.0, replay_s=2.0), booth.config.program,
                        booth.program, recording=RecordingConfig(), recording_folder=tmp_path / "rec",
                        clips_folder=tmp_path / "clips")  # fmt: skip
    output.start()
    try:
        wait_until(lambda: output.status().recording_bytes > 0, 20, "the recording to start")
        wait_until(lambda: output.status().frames_sent >= 4 * 30, 30, "4 s recorded (the clip starts before the mark)")
        marked = output.mark("TEE / BLACK sold out")
        at = output.moments_log.at(marked.index)
        assert at is not None
        wait_until(lambda: (output.replay.start_time() or 0) > at + 1.0, 30, "the moment to leave the buffer")
        status = output.export_moment_clip(marked.index, ClipOrder(seconds=4, preset="tiktok-720")).future.result(120)
        missing = output.export_moment_clip(99, ClipOrder()).future.result(5)
    finally:
        output.stop()
        booth.stop()
    assert status.state is JobState.DONE, status.message
    assert "sold out" in status.label
    assert 3.5 <= float(streams(status.path)["format"]["duration"]) <= 4.6
    assert missing.state is JobState.FAILED and "there is no moment 99" in missing.message


def test_minutes_of_recording_left_count_the_clean_recording_too(qapp, tmp_path: Path) -> None:
    from booth.core.health.system import DiskStatus

    booth = make_booth(clean=True)
    free = 10 * 1000**3
    config = OutputConfig(bitrate_kbps=4500, audio_kbps=128)
    disk = DiskStatus(str(tmp_path), free, 2 * free, 0.0)
    with_clean = ProgramOut(config, booth.config.program, booth.program, recording_folder=tmp_path / "rec",
                            clean_feed=booth.compositor.clean, disk=lambda: disk)  # fmt: skip
    alone = ProgramOut(config, booth.config.program, booth.program, recording_folder=tmp_path / "rec2",
                       disk=lambda: disk)  # fmt: skip
    # 4.5 + 0.128 Mbit/s alone; with the clean feed's 3 + 0.096 Mbit/s too — 10 GB is 40 % less time
    assert alone.status().disk_minutes_left == pytest.approx(free / (4628 * 125) / 60)
    assert with_clean.status().disk_minutes_left == pytest.approx(free / (7724 * 125) / 60)
