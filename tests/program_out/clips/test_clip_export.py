"""Real exports from a real program, checked the way an upload is: ffprobe and decoded pixels."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from booth.core.clip_presets import Framing, find_preset, plan_layout
from booth.program_out.export import ExportQueue, ExportRequest, ExportSource, ExportStatus, JobState
from tests.program_out.clips.conftest import (
    FPS,
    SIZE,
    Program,
    amber_mask,
    bounding_box,
    frame_at,
    streams,
    top_boxes,
    video_packets,
    wait_until,
)

HOOK = "Only 7 left: grab yours before the timer hits zero!"


def export(queue: ExportQueue, request: ExportRequest, timeout: float = 60.0) -> ExportStatus:
    status = queue.submit(request).future.result(timeout)
    assert status.state is JobState.DONE, status.message
    assert status.path is not None and status.path.exists()
    return status


def assert_upload_spec(path: Path, size: tuple[int, int], seconds: float, gop: int | None) -> None:
    """What the platforms ask (YouTube's and Meta's upload pages): H.264 High, 4:2:0, closed GOP,
    moov before mdat, no edit list, AAC-LC at 48 kHz."""
    info = streams(path)
    video, audio = info["video"], info["audio"]
    assert (video["codec_name"], video["profile"], video["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (int(video["width"]), int(video["height"])) == size
    assert video.get("sample_aspect_ratio", "1:1") in ("1:1", "0:1")
    assert (audio["codec_name"], audio["profile"], int(audio["sample_rate"])) == ("aac", "LC", 48000)
    packets = video_packets(path)
    assert len(packets) == pytest.approx(seconds * FPS, abs=1)  # as many frames as asked for
    assert float(audio["duration"]) == pytest.approx(seconds, abs=0.1)
    boxes = [kind for kind, _, _ in top_boxes(path)]
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # faststart
    moov = next((off, n) for kind, off, n in top_boxes(path) if kind == "moov")
    assert b"elst" not in path.read_bytes()[moov[0] : moov[0] + moov[1]]  # no edit list
    keys = [i for i, p in enumerate(packets) if "K" in p["flags"]]
    assert keys[0] == 0
    if gop is not None:
        assert max(b - a for a, b in itertools.pairwise([*keys, len(packets)])) <= gop
    for k in keys:  # closed GOP: nothing decoded after a keyframe is shown before it
        assert all(int(p["pts"]) >= int(packets[k]["pts"]) for p in packets[k:]), f"open GOP at packet {k}"


def vertical(program: Program, folder: Path, source: ExportSource | None = None, label: str = "vertical",
             **fields: object) -> ExportRequest:  # fmt: skip
    options: dict[str, object] = dict(preset="tiktok", framing=Framing.CROP, frame_size=SIZE, fps=FPS,
                                      overlay=program.overlay, caption=HOOK)  # fmt: skip
    options.update(fields)
    return ExportRequest(source or ExportSource(0.5, 3.0, data=program.ts), folder, label, **options)  # type: ignore[arg-type]


def test_vertical_clip_meets_the_upload_spec_with_the_counter_in_the_safe_zone(program, exports, tmp_path) -> None:
    status = export(exports, vertical(program, tmp_path))
    preset = find_preset("tiktok")
    assert_upload_spec(status.path, preset.size, 3.0, gop=preset.gop_frames(FPS))
    layout = status.layout
    frame = frame_at(status.path, 1.5)
    amber = amber_mask(frame)
    assert amber.sum() > 2000, "the counter and timer (amber) should be in the clip"
    seen = bounding_box(amber)
    assert layout.safe.contains(seen), f"amber at {seen}, outside the safe zone {layout.safe}"
    assert layout.overlay.contains(seen)  # exactly where the layout put the lifted plate
    # the plate's old place (bottom of the crop, under TikTok's caption area) shows no overlay any more
    assert amber[layout.safe.bottom :].sum() == 0
    # the caption is burned in: white text on its plate, where the layout said
    plate = layout.caption.line_boxes[0]
    text = frame[plate.y : plate.bottom, plate.x : plate.right]
    assert (text.min(axis=2) > 230).sum() > 500


def test_clean_vertical_clip_has_no_overlay_pixels(program, exports, tmp_path) -> None:
    status = export(exports, vertical(program, tmp_path, overlay=None, label="clean",
                                      source=ExportSource(0.5, 3.0, data=program.clean_ts)))  # fmt: skip
    assert_upload_spec(status.path, (1080, 1920), 3.0, gop=15)
    layout = status.layout
    window, scale = layout.source, layout.canvas_w / layout.source.w
    plate = program.overlay
    # the demo's grey ramp (row 548–580 of the program, 0 → 255 left to right) runs under the plate
    left, right = window.x, min(plate.right, window.right)
    rows = slice(round(548 * scale), round(580 * scale))
    cols = slice(0, round((right - left) * scale))
    expected = 255 * (left + right) / 2 / (SIZE[0] - 1)
    for t in (0.2, 1.5, 2.8):
        frame = frame_at(status.path, t)
        assert amber_mask(frame).sum() == 0
        # nor the plate: the ramp is at full brightness where the 62 %-black plate would darken it
        assert frame[rows, cols].mean() > 0.85 * expected
    with_overlay = export(exports, vertical(program, tmp_path, caption="", label="with"))
    assert amber_mask(frame_at(with_overlay.path, 1.5)).sum() > 2000  # the same pictures, overlay on


@pytest.mark.parametrize("framing", [Framing.BLUR, Framing.SOLID])
def test_full_frame_framings_keep_the_counter_in_the_safe_zone(program, exports, tmp_path, framing) -> None:
    status = export(exports, vertical(program, tmp_path, preset="reels-720", framing=framing, label=framing.value))
    assert_upload_spec(status.path, (720, 1280), 3.0, gop=15)
    frame = frame_at(status.path, 1.5)
    seen = bounding_box(amber_mask(frame))
    assert status.layout.safe.contains(seen)
    if framing is Framing.SOLID:  # the background is the preset's solid grey, above and below the frame
        assert np.abs(frame[: status.layout.picture.y - 4, :40].astype(int) - 0x14).max() <= 6


def test_16_9_remux_is_the_program_as_encoded(program, exports, tmp_path) -> None:
    status = export(exports, ExportRequest(ExportSource(0.0, 4.0, data=program.ts), tmp_path, "landscape",
                                           preset="landscape", framing=Framing.FULL, remux=True))  # fmt: skip
    assert_upload_spec(status.path, SIZE, 4.0, gop=None)
    assert amber_mask(frame_at(status.path, 1.0)).sum() > 500


def test_clean_16_9_is_re_encoded_when_a_copy_would_not_meet_the_spec(program, exports, tmp_path) -> None:
    """The clean feed is x264 ultrafast (Baseline, cheapest live): its 16:9 clip cannot be a plain copy."""
    assert streams_of_bytes(program.clean_ts, tmp_path)["video"]["profile"] == "Constrained Baseline"
    status = export(exports, ExportRequest(ExportSource(0.0, 4.0, data=program.clean_ts), tmp_path, "clean 16-9",
                                           preset="landscape", framing=Framing.FULL, remux=True))  # fmt: skip
    assert_upload_spec(status.path, SIZE, 4.0, gop=15)
    assert amber_mask(frame_at(status.path, 1.0)).sum() == 0


def streams_of_bytes(data: bytes, folder: Path) -> dict[str, dict]:
    path = folder / "probe.ts"
    path.write_bytes(data)
    return streams(path)


def test_16_9_with_a_caption_is_re_encoded_and_the_caption_avoids_the_overlay(program, exports, tmp_path) -> None:
    status = export(exports, ExportRequest(ExportSource(1.0, 3.0, data=program.ts), tmp_path, "landscape caption",
                                           preset="landscape-720", framing=Framing.FULL, overlay=program.overlay,
                                           caption="Sold out in 4 minutes"))  # fmt: skip
    assert_upload_spec(status.path, (1280, 720), 3.0, gop=15)
    frame = frame_at(status.path, 1.0)
    plate = status.layout.caption.block
    assert (frame[plate.y : plate.bottom, plate.x : plate.right].min(axis=2) > 230).sum() > 300
    assert not plate.intersects(status.layout.overlay)


def demo_frame_index(rgb: np.ndarray) -> int:
    """The demo camera's sweeping white bar moves w/40·(1−1/40)… px a frame, around once every 60:
    its x position gives the frame number modulo 60."""
    h, w = rgb.shape[:2]
    band = rgb[h // 4 : h // 2].min(axis=2).mean(axis=0)  # white only where all channels are high
    x = int(np.argmax(band > 230))
    return round(x * 60 / (w - w // 40))


def test_a_clip_from_the_recording_starts_at_the_moment_not_at_the_next_keyframe(program, exports, tmp_path) -> None:
    # 2.5 s is between keyframes (0, 2, 4 s): ffmpeg's own TS seek would start at 4.0 s
    status = export(exports, ExportRequest(ExportSource(2.5, 3.0, path=program.path), tmp_path, "from recording",
                                           preset="landscape-720", framing=Framing.FULL))  # fmt: skip
    assert len(video_packets(status.path)) == round(3.0 * FPS)
    assert demo_frame_index(frame_at(status.path, 0.0)) == round(2.5 * FPS) % 60
    assert demo_frame_index(frame_at(status.path, 1.0)) == round(3.5 * FPS) % 60


def test_caption_text_never_reaches_a_command_line_and_is_drawn_literally(program, tmp_path) -> None:
    """ffmpeg syntax in a caption (drawtext expansions, filter separators, quotes) stays text; the
    worker is niced; a folder with awkward characters works."""
    queue = ExportQueue()
    seen: list[tuple[int, str]] = []

    def watch(status: ExportStatus) -> None:
        job = jobs[0] if jobs else None
        if job is not None and job.run is not None and job.run.pid is not None and not seen:
            try:
                with open(f"/proc/{job.run.pid}/stat") as f:
                    nice = int(f.read().rsplit(")", 1)[1].split()[16])
                with open(f"/proc/{job.run.pid}/cmdline", "rb") as f:
                    argv = f.read().decode("utf-8", "replace")
            except OSError:
                return
            seen.append((nice, argv))

    queue.on_update(watch)
    queue.start()
    jobs: list = []
    try:
        caption = "%{pts} it's [50% OFF]; a:b, c\\d — sk_live_SECRET"
        folder = tmp_path / "it's: a, [folder]"
        jobs.append(queue.submit(vertical(program, folder, preset="tiktok-720", caption=caption)))
        status = jobs[0].future.result(60)
        assert status.state is JobState.DONE, status.message
        wait_until(lambda: seen, 1, "the worker's priority and argv to be read")
        nice, argv = seen[0]
        assert nice == 19
        assert "SECRET" not in argv and "50%" not in argv and "pts" not in argv
        assert status.layout.caption.lines[0].startswith("%{pts}")  # wrapped as text, drawn by drawtext verbatim
    finally:
        queue.stop()


def test_a_cancelled_export_leaves_nothing_behind_and_the_queue_goes_on(program, exports, tmp_path) -> None:
    long = exports.submit(vertical(program, tmp_path, source=ExportSource(0.0, 5.9, data=program.ts), label="long"))
    wait_until(lambda: long.status.state is JobState.RUNNING and long.status.fraction > 0, 30, "progress")
    assert exports.cancel(long.id)
    status = long.future.result(15)
    assert status.state is JobState.CANCELLED and status.path is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("long")]  # no .part, no half clip
    assert not exports.cancel(long.id)  # already finished
    export(exports, vertical(program, tmp_path, preset="tiktok-720", label="after"))


def test_bad_requests_fail_with_a_sentence_and_the_queue_keeps_working(program, exports, tmp_path) -> None:
    def fails(request: ExportRequest, words: str) -> None:
        status = exports.submit(request).future.result(30)
        assert status.state is JobState.FAILED and words in status.message, status.message

    fails(vertical(program, tmp_path, preset="snapchat"), "no clip preset 'snapchat'")
    fails(vertical(program, tmp_path, source=ExportSource(0.0, 1.0, data=program.ts)), "needs at least 3 s")
    fails(ExportRequest(ExportSource(0.0, 3.0, data=program.ts), tmp_path, "x", remux=True), "only a 16:9 clip")
    fails(vertical(program, tmp_path, source=ExportSource(0.0, 3.0, data=b"\x47" + bytes(4000))), "no readable video")
    fails(vertical(program, tmp_path, source=ExportSource(0.0, 3.0, path=tmp_path / "missing.ts")), "cannot be read")
    fails(vertical(program, tmp_path, source=ExportSource(60.0, 3.0, path=program.path)), "nothing at 60 s")
    assert not list(tmp_path.glob("*.part"))
    export(exports, vertical(program, tmp_path, preset="tiktok-720", label="still works"))


def test_progress_goes_up_to_done_and_names_the_folder(program, exports, tmp_path) -> None:
    updates: list[ExportStatus] = []
    exports.on_update(updates.append)
    status = export(exports, vertical(program, tmp_path, preset="shorts-720", label="progress", thumbnail_at_s=1.0))
    mine = [u for u in updates if u.job_id == status.job_id]
    states = [u.state for u in mine]
    assert states[0] is JobState.QUEUED and JobState.RUNNING in states and states[-1] is JobState.DONE
    fractions = [u.fraction for u in mine if u.state is JobState.RUNNING]
    assert fractions == sorted(fractions) and max(fractions) > 0.3
    assert status.folder == tmp_path and status.thumbnail is not None
    assert status.thumbnail.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
    assert streams(status.thumbnail)["video"]["width"] == 540
    assert plan_layout(find_preset("shorts-720"), *SIZE, Framing.CROP, overlay=program.overlay).overlay_in_safe_zone
