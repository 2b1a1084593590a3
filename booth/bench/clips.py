"""Clips for short-form: 9:16 export time, 16:9 remux time, program fps during exports, clean feed CPU.

Runs the real program: demo source → capture → compositor (overlay burned in, countdown running)
→ the real preview widget on an offscreen event loop, and the real output service encoding 720p30
and recording to a temp folder. Then, in order:

1. baseline: program fps and CPU with the program encoded and recorded, nothing else;
2. the clean feed on (`booth.program_out.clean_feed`, fed the composed picture before the overlay
   is burned in): its encoder's CPU plus what it adds to this process = `clean_feed_cpu_percent`;
3. with ≥ clip seconds in the replay buffer: `--trials` 9:16 exports (the preset, crop framing,
   overlay lifted, a caption), each timed from the mark (the key press) to the finished MP4, then
   as many 16:9 remuxes; the program's fps, the encoder's fps and dropped frames are measured
   over the whole export period, with the clean feed still on (the worst case);
4. `--alternatives`: what the other ways to get a clean picture would cost (see the README).
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
from pathlib import Path
from typing import Any

import numpy as np

from booth.core.clip_presets import Framing, find_preset, overlay_extent
from booth.core.config import demo_config, parse_size, with_overrides
from booth.core.output import OutputConfig
from booth.program_out.clean_feed import CleanFeed, CleanFeedSettings
from booth.program_out.export import ExportQueue, ExportRequest, ExportSource, ExportStatus, JobState
from booth.program_out.replay import Chunk, ReplayBuffer
from booth.services.output import OutputService

TARGETS = {"vertical_clip_s_p95": 10.0, "horizontal_clip_ms_p95": 1000.0, "program_fps_ratio": 0.98}
CAPTION = "Only a few left — the timer is running!"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=5, help="9:16 exports and 16:9 remuxes each (default 5)")
    parser.add_argument("--clip-seconds", type=float, default=30.0, help="clip length (default 30)")
    parser.add_argument("--preset", default="tiktok", help="9:16 preset (default tiktok; tiktok-720 on a weak machine)")
    parser.add_argument("--framing", default="crop", choices=["crop", "blur", "solid"], help="9:16 framing")
    parser.add_argument("--size", default="1280x720", help="program size (default 1280x720)")
    parser.add_argument("--fps", type=float, default=30.0, help="program rate (default 30)")
    parser.add_argument("--phase-seconds", type=float, default=10.0, help="baseline and clean-feed phases (default 10)")
    parser.add_argument("--no-clean", action="store_true", help="no clean feed (exports on the program alone)")
    parser.add_argument("--clean-preset", default="ultrafast", help="clean feed x264 preset (default ultrafast)")
    parser.add_argument("--clean-kbps", type=int, default=3000, help="clean feed bitrate (default 3000)")
    parser.add_argument("--alternatives", action="store_true", help="also measure the other clean-picture options")
    parser.add_argument("--nice", type=int, default=19, help="the exports' niceness (default 19)")


def _cpu_seconds(pid: int | None) -> float:
    """utime + stime of another process (Linux /proc); 0 where unavailable."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))] if ordered else 0.0


class _Tee:
    """Stands in for the compositor's overlay renderer: hands the composed picture to the clean
    feed (one copy) before the real renderer burns the overlay in. What the lead wires for real."""

    def __init__(self, renderer: Any, offer: Callable[[Any, float], None], clock: Callable[[], float]) -> None:
        self._renderer, self._offer, self._clock = renderer, offer, clock
        self._t0: float | None = None
        self.enabled = False

    def burn(self, pixels: Any, model: Any) -> None:
        if self.enabled:
            now = self._clock()
            self._t0 = now if self._t0 is None else self._t0
            self._offer(pixels.copy(), now - self._t0)
        self._renderer.burn(pixels, model)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._renderer, name)


class _Rig:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        from booth.app import build_booth
        from booth.bench.preview import attach_preview

        self.app = QApplication.instance() or QApplication([])
        self.size = parse_size(args.size)
        self.fps = args.fps
        config = with_overrides(demo_config(), size=self.size, fps=args.fps)
        self.booth = build_booth(config)
        self.view, self._notifier = attach_preview(self.booth.compositor)
        self.output = OutputService(OutputConfig(recording_dir="recordings"), config.program, self.booth.compositor,
                                    base_dir=workdir)  # fmt: skip
        self.clean_buffer = ReplayBuffer(90.0)
        self.clean = CleanFeed(
            CleanFeedSettings(self.size[0], self.size[1], args.fps, bitrate_kbps=args.clean_kbps,
                              preset=args.clean_preset),
            lambda at, key, data: self.clean_buffer.append(Chunk(at, key, data)),
        )
        compositor = self.booth.compositor
        self.tee = _Tee(compositor._renderer, self.clean.offer, time.monotonic)
        compositor._renderer = self.tee  # type: ignore[assignment]
        self.exports = ExportQueue(nice=args.nice)
        self.folder = workdir / "clips"
        self.export_cpu: list[float] = []  # CPU seconds of each export's processes

    def start(self) -> None:
        self.booth.controller.start_timer()  # the countdown re-renders the overlay every second
        self.booth.start()
        self.output.start()
        self.exports.start()

    def stop(self) -> None:
        self.exports.stop()
        self.tee.enabled = False
        self.clean.stop()
        self.output.stop()
        self.booth.stop()
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

    def encoder_pid(self) -> int | None:
        encoder = self.output._encoder
        return encoder.pid if encoder else None

    def overlay_box(self) -> Any:
        w, h = self.size
        return overlay_extent(w, h, [self.booth.overlay_model()])


def _phase(rig: _Rig, seconds: float, clean_pid: int | None = None) -> dict[str, float]:
    frames0, self0, enc0 = rig.frames(), _self_cpu(), _cpu_seconds(rig.encoder_pid())
    clean0 = _cpu_seconds(clean_pid)
    sent0 = rig.output.status().frames_sent
    t0 = time.monotonic()
    rig.spin(seconds)
    wall = time.monotonic() - t0
    return {
        "fps": (rig.frames() - frames0) / wall,
        "encoder_fps": (rig.output.status().frames_sent - sent0) / wall,
        "self_cpu": (_self_cpu() - self0) / wall * 100,
        "encoder_cpu": (_cpu_seconds(rig.encoder_pid()) - enc0) / wall * 100,
        "clean_cpu": (_cpu_seconds(clean_pid) - clean0) / wall * 100,
    }


def _export(rig: _Rig, request: ExportRequest, mark: float, timeout: float = 120.0) -> tuple[float, ExportStatus]:
    cpu0 = _children_cpu()  # the export processes, once reaped: what the clip cost, whatever the load
    job = rig.exports.submit(request)
    rig.spin_until(job.future.done, timeout)
    status = job.future.result(0) if job.future.done() else job.status
    rig.export_cpu.append(_children_cpu() - cpu0)
    return time.monotonic() - mark, status


def _window(buffer: ReplayBuffer, seconds: float) -> tuple[bytes, float, float] | None:
    mark = time.monotonic()
    window = buffer.window(mark - seconds, mark)
    if window is None:
        return None
    data, real_start = window
    return data, max(0.0, mark - seconds - real_start), mark


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
        rig.spin(3.0)
        base = _phase(rig, args.phase_seconds)
        result.update(baseline_fps=round(base["fps"], 2), baseline_booth_cpu_percent=round(base["self_cpu"], 1),
                      program_encoder_cpu_percent=round(base["encoder_cpu"], 1))  # fmt: skip
        clean_pid = None
        if not args.no_clean:
            rig.clean.start()
            rig.tee.enabled = True
            rig.spin_until(lambda: rig.clean.stats().frames_sent > 30, 20)
            clean_pid = rig.clean.stats().encoder_pid
            with_clean = _phase(rig, args.phase_seconds, clean_pid)
            result.update(
                clean_feed_cpu_percent=round(with_clean["clean_cpu"] + with_clean["self_cpu"] - base["self_cpu"], 1),
                clean_encoder_cpu_percent=round(with_clean["clean_cpu"], 1),
                clean_feed_booth_cpu_percent=round(with_clean["self_cpu"] - base["self_cpu"], 1),
                fps_with_clean_feed=round(with_clean["fps"], 2),
                clean_frames_dropped=rig.clean.stats().dropped,
                clean_preset=args.clean_preset,
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
        horizontal: list[float] = []
        failures: list[str] = []
        box = rig.overlay_box()
        for i in range(args.trials):
            got = _window(rig.output.replay, args.clip_seconds)
            if got is None:
                failures.append("replay buffer empty")
                break
            data, start, mark = got
            request = ExportRequest(ExportSource(start, args.clip_seconds, data=data), rig.folder, f"vertical-{i}",
                                    preset=preset.key, framing=framing, frame_size=rig.size, fps=rig.fps,
                                    overlay=box, caption=CAPTION)  # fmt: skip
            seconds, status = _export(rig, request, mark)
            (vertical.append(seconds) if status.state is JobState.DONE else failures.append(status.message))
        vertical_cpu = list(rig.export_cpu)
        for i in range(args.trials):
            got = _window(rig.output.replay, args.clip_seconds)
            if got is None:
                break
            data, start, mark = got
            request = ExportRequest(ExportSource(start, args.clip_seconds, data=data), rig.folder, f"landscape-{i}",
                                    preset="landscape", framing=Framing.FULL, remux=True)  # fmt: skip
            seconds, status = _export(rig, request, mark)
            (horizontal.append(seconds * 1000) if status.state is JobState.DONE else failures.append(status.message))
        clean_clip_s = None
        if not args.no_clean:
            got = _window(rig.clean_buffer, args.clip_seconds)
            if got is not None:
                data, start, mark = got
                request = ExportRequest(ExportSource(start, args.clip_seconds, data=data), rig.folder, "clean",
                                        preset=preset.key, framing=framing, frame_size=rig.size, fps=rig.fps,
                                        caption=CAPTION)  # fmt: skip
                seconds, status = _export(rig, request, mark)
                clean_clip_s = round(seconds, 2) if status.state is JobState.DONE else None
            got = _window(rig.clean_buffer, args.clip_seconds)
            if got is not None:  # 16:9 clean: the clean feed is Baseline, so this is re-encoded, not copied
                data, start, mark = got
                request = ExportRequest(ExportSource(start, args.clip_seconds, data=data), rig.folder, "clean-16-9",
                                        preset="landscape", framing=Framing.FULL, frame_size=rig.size, fps=rig.fps,
                                        remux=True)  # fmt: skip
                seconds, status = _export(rig, request, mark)
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
            clean_vertical_clip_s=clean_clip_s,
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
    picture = np.ascontiguousarray(rig.booth.compositor.output.latest()[1].pixels)  # type: ignore[union-attr]
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
    got = _window(rig.output.replay, args.clip_seconds)
    box = rig.overlay_box()
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
         + (f" (encoder {r.get('clean_encoder_cpu_percent')} %, compositor copy + feed "
            f"{r.get('clean_feed_booth_cpu_percent')} %)" if r.get("clean_feed_cpu_percent") is not None else ""), ""),
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


if __name__ == "__main__":  # until `booth bench clips` is registered: python -m booth.bench.clips [--json]
    import json
    import sys

    parser = argparse.ArgumentParser(prog="booth bench clips", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_arguments(parser)
    parsed = parser.parse_args()
    measured = measure(parsed)
    print(json.dumps(measured, indent=2) if parsed.json else format_table(measured))
    sys.exit(0 if measured["ok"] else 1)
