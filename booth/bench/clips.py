"""Clips for short-form: 9:16 export time, 16:9 remux time, program fps during exports, clean feed CPU.

Runs the real program as the app builds it: demo source → capture → compositor (overlay burned in,
countdown running, the clean picture published before the burn) → the real preview widget on an
offscreen event loop, and real program out encoding 720p30 and recording to a temp folder, its
clean feed encoded by a second encoder link at nice 10 into its own replay buffer and recording.
Then, in order:

1. a phase of plain running: program fps, this process's CPU, the program encoder's, and
   `clean_feed_cpu_percent` = the clean encoder process + the clean link's two worker threads
   (per-thread CPU from /proc) + the compositor's one copy per frame (timed here, × fps);
2. with ≥ clip seconds in the replay buffer: `--trials` 9:16 exports through
   `ProgramOut.export_clip` — what Shift+C does (the preset, crop framing, overlay lifted, a
   caption) — each timed from the mark (the key press) to the finished MP4, then as many 16:9
   remuxes, then one clean 9:16 and one clean 16:9 clip; the program's fps, the encoder's fps and
   dropped frames are measured over the whole export period, with the clean feed on (the worst case);
3. `--alternatives`: what the other ways to get a clean picture would cost (see the README).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from booth.core.clip_presets import Framing, find_preset, overlay_extent
from booth.core.clips_config import ClipsConfig
from booth.core.config import ProgramConfig, demo_config, parse_size
from booth.core.output import OutputConfig
from booth.program_out.export import ExportStatus, JobState
from booth.program_out.live_clips import ClipOrder
from booth.program_out.program_out import ProgramOut

TARGETS = {"vertical_clip_s_p95": 10.0, "horizontal_clip_ms_p95": 1000.0, "program_fps_ratio": 0.98}
CAPTION = "Only a few left — the timer is running!"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=5, help="9:16 exports and 16:9 remuxes each (default 5)")
    parser.add_argument("--clip-seconds", type=float, default=30.0, help="clip length (default 30)")
    parser.add_argument("--preset", default="tiktok", help="9:16 preset (default tiktok; tiktok-720 on a weak machine)")
    parser.add_argument("--framing", default="crop", choices=["crop", "blur", "solid"], help="9:16 framing")
    parser.add_argument("--size", default="1280x720", help="program size (default 1280x720)")
    parser.add_argument("--fps", type=float, default=30.0, help="program rate (default 30)")
    parser.add_argument("--phase-seconds", type=float, default=10.0, help="the plain-running phase (default 10)")
    parser.add_argument("--no-clean", action="store_true", help="no clean feed (exports on the program alone)")
    parser.add_argument("--alternatives", action="store_true", help="also measure the other clean-picture options")
    parser.add_argument("--nice", type=int, default=19, help="the exports' niceness (default 19, as in Booth)")


def _cpu_seconds(pid: int | None) -> float:
    """utime + stime of another process (Linux /proc); 0 where unavailable."""
    if pid is None:
        return 0.0
    return _stat_cpu(Path(f"/proc/{pid}/stat"))


def _stat_cpu(path: Path) -> float:
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _threads_cpu(prefix: str) -> float:
    """CPU seconds of this process's threads named `prefix`… (by native id: Python does not name OS threads)."""
    return sum(_stat_cpu(Path(f"/proc/self/task/{t.native_id}/stat")) for t in threading.enumerate()
               if t.name.startswith(prefix) and t.native_id is not None)  # fmt: skip


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))] if ordered else 0.0


class _Rig:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        from booth.app.root import build_booth
        from booth.bench.preview import attach_preview

        self.app = QApplication.instance() or QApplication([])
        self.size = parse_size(args.size)
        self.fps = args.fps
        self.nice = args.nice
        config = replace(demo_config(), program=ProgramConfig(*self.size, args.fps),
                         clips=ClipsConfig(clean=not args.no_clean))  # fmt: skip
        self.booth = build_booth(config)
        self.view, self._notifier = attach_preview(self.booth.program)
        booth = self.booth
        self.output = ProgramOut(
            OutputConfig(), config.program, booth.program, recording_folder=workdir / "recordings",
            clips_folder=workdir / "clips", clean_feed=booth.compositor.clean,
            overlay_box=lambda: overlay_extent(*self.size, [booth.overlay_model()]),
        )  # fmt: skip

    def start(self) -> None:
        self.output.exports.nice = self.nice
        self.booth.controller.start_timer()  # the countdown re-renders the overlay every second
        self.booth.start()
        self.output.start()

    def stop(self) -> None:
        self.output.stop()
        self.booth.stop()
        self._notifier.stop()
        self.view.close()
        self.app.processEvents()

    def spin(self, seconds: float) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        QTimer.singleShot(max(1, round(seconds * 1000)), loop.quit)
        loop.exec()

    def spin_until(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            self.spin(0.02)
        return True

    def frames(self) -> int:
        return self.booth.compositor.stats().frames

    def clean_pid(self) -> int | None:
        return self.output.clean_encoder.pid if self.output.clean_encoder is not None else None


def _copy_ms(rig: _Rig, copies: int = 60) -> float:
    """What the compositor's one extra copy per frame costs: the same copy of a real program frame."""
    frame = rig.booth.program.newest()
    if frame is None:
        return 0.0
    started = time.process_time()
    for _ in range(copies):
        frame.pixels.copy()
    return (time.process_time() - started) / copies * 1000


def _phase(rig: _Rig, seconds: float) -> dict[str, float]:
    frames0, self0, enc0 = rig.frames(), _self_cpu(), _cpu_seconds(rig.output.encoder.pid)
    clean0, threads0 = _cpu_seconds(rig.clean_pid()), _threads_cpu("booth-clean-")
    sent0 = rig.output.status().frames_sent
    t0 = time.monotonic()
    rig.spin(seconds)
    wall = time.monotonic() - t0
    return {
        "fps": (rig.frames() - frames0) / wall,
        "encoder_fps": (rig.output.status().frames_sent - sent0) / wall,
        "self_cpu": (_self_cpu() - self0) / wall * 100,
        "encoder_cpu": (_cpu_seconds(rig.output.encoder.pid) - enc0) / wall * 100,
        "clean_cpu": (_cpu_seconds(rig.clean_pid()) - clean0) / wall * 100,
        "clean_threads_cpu": (_threads_cpu("booth-clean-") - threads0) / wall * 100,
    }


def _export(rig: _Rig, order: ClipOrder, timeout: float = 180.0) -> tuple[float, float, ExportStatus]:
    """(seconds from the mark to the finished file, CPU seconds of its processes, final status)."""
    cpu0 = _children_cpu()  # the export processes, once reaped: what the clip cost, whatever the load
    mark = time.monotonic()
    job = rig.output.export_clip(order)  # what Shift+C and the Output view do
    rig.spin_until(job.future.done, timeout)
    status = job.future.result(0) if job.future.done() else job.status
    return time.monotonic() - mark, _children_cpu() - cpu0, status


def measure(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="booth-bench-clips-"))
    preset = find_preset(args.preset)
    framing = Framing(args.framing)
    result: dict[str, Any] = {"preset": preset.key, "framing": framing.value, "size": args.size, "fps": args.fps,
                              "cores": os.cpu_count(), "nice": args.nice,
                              "load_before": round(os.getloadavg()[0], 2)}  # fmt: skip
    rig = _Rig(args, workdir)
    try:
        rig.start()
        rig.spin_until(lambda: rig.output.status().frames_sent > 30, 30)
        base = _phase(rig, args.phase_seconds)
        result.update(baseline_fps=round(base["fps"], 2), baseline_booth_cpu_percent=round(base["self_cpu"], 1),
                      program_encoder_cpu_percent=round(base["encoder_cpu"], 1))  # fmt: skip
        if not args.no_clean:
            copy_percent = _copy_ms(rig) * args.fps / 10  # ms per frame × frames per s → % of one core
            clean = rig.output.clean_encoder.status() if rig.output.clean_encoder is not None else None
            result.update(
                clean_feed_cpu_percent=round(base["clean_cpu"] + base["clean_threads_cpu"] + copy_percent, 1),
                clean_encoder_cpu_percent=round(base["clean_cpu"], 1),
                clean_link_threads_cpu_percent=round(base["clean_threads_cpu"], 1),
                compositor_copy_cpu_percent=round(copy_percent, 1),
                clean_frames_dropped=clean.dropped_frames if clean is not None else None,
            )
        need = args.clip_seconds + 2.5
        rig.spin_until(lambda: rig.output.replay.span_s() >= need, need + 30)
        # -- exports while the program is encoded, recorded (and the clean feed runs) ----------
        frames0, t0 = rig.frames(), time.monotonic()
        status0 = rig.output.status()
        children0 = _children_cpu()
        worst_second = [float("inf")]
        sampling = threading.Event()

        def sample_fps() -> None:  # the worst one-second program rate over the export period
            last_frames, last_t = rig.frames(), time.monotonic()
            while not sampling.wait(1.0):
                frames, now = rig.frames(), time.monotonic()
                worst_second[0] = min(worst_second[0], (frames - last_frames) / (now - last_t))
                last_frames, last_t = frames, now

        sampler = threading.Thread(target=sample_fps, name="booth-bench-fps", daemon=True)
        sampler.start()
        vertical: list[float] = []
        vertical_cpu: list[float] = []
        horizontal: list[float] = []
        failures: list[str] = []
        for _ in range(args.trials):
            seconds, cpu, status = _export(rig, ClipOrder(args.clip_seconds, preset.key, framing, caption=CAPTION))
            if status.state is JobState.DONE:
                vertical.append(seconds)
                vertical_cpu.append(cpu)
            else:
                failures.append(status.message)
        for _ in range(args.trials):
            seconds, _cpu, status = _export(rig, ClipOrder(args.clip_seconds, "landscape"))
            (horizontal.append(seconds * 1000) if status.state is JobState.DONE else failures.append(status.message))
        if not args.no_clean:
            seconds, _cpu, status = _export(rig, ClipOrder(args.clip_seconds, preset.key, framing, clean=True,
                                                           caption=CAPTION))  # fmt: skip
            result["clean_vertical_clip_s"] = round(seconds, 2) if status.state is JobState.DONE else None
            # 16:9 clean: the clean feed is Baseline (ultrafast), so this is re-encoded, not copied
            seconds, _cpu, status = _export(rig, ClipOrder(args.clip_seconds, "landscape", clean=True))
            result["clean_horizontal_clip_s"] = round(seconds, 2) if status.state is JobState.DONE else None
        sampling.set()
        sampler.join(5)
        wall = time.monotonic() - t0
        status1 = rig.output.status()
        fps = (rig.frames() - frames0) / wall
        result.update(
            vertical_clip_s_p95=round(_p95(vertical), 2) if vertical else None,
            vertical_clip_s=[round(v, 2) for v in vertical],
            vertical_clip_cpu_s=[round(c, 2) for c in vertical_cpu],
            horizontal_clip_ms_p95=round(_p95(horizontal)) if horizontal else None,
            horizontal_clip_ms=[round(h) for h in horizontal],
            program_fps_during_export=round(fps, 2),
            program_fps_worst_second=round(worst_second[0], 1) if worst_second[0] != float("inf") else None,
            encoder_fps_during_export=round((status1.frames_sent - status0.frames_sent) / wall, 2),
            encoder_dropped_during_export=status1.dropped_frames - status0.dropped_frames,
            export_cpu_percent=round((_children_cpu() - children0) / wall * 100, 1),
            export_period_s=round(wall, 1),
            failures=failures,
        )
        if args.alternatives:
            result["alternatives"] = _alternatives(rig, args, workdir)
    finally:
        rig.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    result["load_after"] = round(os.getloadavg()[0], 2)
    target_fps = TARGETS["program_fps_ratio"] * args.fps
    result["ok"] = bool(
        result.get("vertical_clip_s_p95") is not None
        and result["vertical_clip_s_p95"] <= TARGETS["vertical_clip_s_p95"]
        and result.get("horizontal_clip_ms_p95") is not None
        and result["horizontal_clip_ms_p95"] <= TARGETS["horizontal_clip_ms_p95"]
        and result["program_fps_during_export"] >= target_fps
        and not result["failures"]
    )
    return result


# -- the other ways to a clean picture ---------------------------------------------------------


def _alternatives(rig: _Rig, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Figures for the options not taken: a buffer of raw or JPEG frames, and re-rendering the
    clean picture from the overlaid program (delogo), while the program still runs."""
    w, h = rig.size
    out: dict[str, Any] = {
        "raw_buffer_90s_gb": round(w * h * 1.5 * args.fps * 90 / 1e9, 2),  # I420, the smallest raw form
    }
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return out
    frames = 150
    newest = rig.booth.program.newest()
    if newest is None:
        return out
    picture = np.ascontiguousarray(newest.pixels)
    # JPEG ring: every frame as a JPEG (quality ≈ 85), one thread, like a ring buffer writer would.
    jpeg = subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgra", "-s", f"{w}x{h}",
         "-r", f"{args.fps:g}", "-i", "pipe:0", "-threads", "1", "-c:v", "mjpeg", "-q:v", "4", "-f", "mjpeg",
         str(workdir / "ring.mjpeg")],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert jpeg.stdin is not None
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 8, picture.shape, np.uint8)
    for i in range(frames):  # the real program picture, with a little camera-like noise
        jpeg.stdin.write((picture + np.roll(noise, i, axis=1)).tobytes())
    jpeg.stdin.close()
    children0 = _children_cpu()
    jpeg.wait(120)
    jpeg_cpu = _children_cpu() - children0
    size = (workdir / "ring.mjpeg").stat().st_size if (workdir / "ring.mjpeg").exists() else 0
    out["jpeg_ring_cpu_percent"] = round(jpeg_cpu / frames * args.fps * 100, 1)
    out["jpeg_ring_90s_mb"] = round(size / frames * args.fps * 90 / 1e6)
    # Re-render: the overlaid program with the plate interpolated away (delogo), at export time only.
    now = time.monotonic()
    got = rig.output.replay.window(now - args.clip_seconds, now)
    box = overlay_extent(w, h, [rig.booth.overlay_model()])
    if got is not None and box is not None:
        source = workdir / "window.ts"
        source.write_bytes(got[0])
        crop = f"crop={h * 9 // 16 // 2 * 2}:{h}:{(w - h * 9 // 16) // 4 * 2}:0,scale=1080:1920:flags=bilinear"
        cost = []
        for chain in (crop, f"delogo=x={box.x}:y={box.y}:w={box.w}:h={box.h}," + crop):
            children0 = _children_cpu()
            command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(source),
                       "-filter_threads", "1", "-vf", chain, "-f", "null", "-"]  # fmt: skip
            subprocess.run(command, check=False, timeout=300)
            cost.append(_children_cpu() - children0)
        out["rerender_delogo_ms_per_frame"] = round((cost[1] - cost[0]) / (args.clip_seconds * args.fps) * 1000, 2)
    return out


def format_table(r: dict[str, Any]) -> str:
    def show(value: Any, unit: str) -> str:
        return "n/a" if value is None else f"{value} {unit}"

    rows = [
        ("9:16 clip, mark → file (p95)", show(r.get("vertical_clip_s_p95"), "s") + f"  {r.get('vertical_clip_s')}",
         "≤ 10 s"),
        ("9:16 clip, CPU of its processes", f"{r.get('vertical_clip_cpu_s')} s", ""),
        ("16:9 remux, mark → file (p95)",
         show(r.get("horizontal_clip_ms_p95"), "ms") + f"  {r.get('horizontal_clip_ms')}", "≤ 1000 ms"),
        ("program fps during exports",
         f"{r['program_fps_during_export']} (worst second {r['program_fps_worst_second']})",
         f"≥ {TARGETS['program_fps_ratio'] * r['fps']:.1f}"),
        ("encoder during exports",
         f"{r['encoder_fps_during_export']} fps, {r['encoder_dropped_during_export']} dropped", ""),
        ("clean feed CPU", show(r.get("clean_feed_cpu_percent"), "% of a core")
         + (f" (encoder {r.get('clean_encoder_cpu_percent')} %, link threads "
            f"{r.get('clean_link_threads_cpu_percent')} %, compositor copy {r.get('compositor_copy_cpu_percent')} %"
            f", {r.get('clean_frames_dropped')} clean frames dropped)"
            if r.get("clean_feed_cpu_percent") is not None else ""), ""),
        ("clean 9:16 clip, mark → file", show(r.get("clean_vertical_clip_s"), "s"), ""),
        ("clean 16:9 clip (re-encoded)", show(r.get("clean_horizontal_clip_s"), "s"), ""),
        ("baseline", f"{r['baseline_fps']} fps, booth {r['baseline_booth_cpu_percent']} %, program encoder "
                     f"{r['program_encoder_cpu_percent']} %", ""),
        ("exports' CPU", f"{r['export_cpu_percent']} % of a core over {r['export_period_s']} s", ""),
        ("load average", f"{r['load_before']} before, {r['load_after']} after, {r['cores']} cores", ""),
    ]  # fmt: skip
    if "alternatives" in r:
        a = r["alternatives"]
        rows.append(("alternatives", ", ".join(f"{k} {v}" for k, v in a.items()), ""))
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{name:<{width}}  {value}" + (f"   [target {t}]" if t else "") for name, value, t in rows]
    if r.get("failures"):
        lines.append("failures: " + "; ".join(r["failures"]))
    lines.append("OK" if r["ok"] else "BELOW TARGET")
    return "\n".join(lines)

