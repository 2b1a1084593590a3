"""Time on the stream: video PTS against the program clock, sound against picture, sender → program
delay and its growth, and glass-to-glass through a real ingest (RTMP pull and HLS), under load.

The real program path: a network sender process (H.264 in MPEG-TS over TCP on 127.0.0.1) that
stamps its wall clock in every picture, decoded by Booth's ffmpeg source, the compositor with the
program time code, the encoder process with a sound card at the device seam (a beep at every
whole second, its sample clock 100 ppm fast), the recording, and an nginx-rtmp ingest with HLS
that two read-back processes play like viewers (RTMP pull and HLS). A child process keeps one core
busy throughout. Everything is judged from outside the code under test:

- ``pts_drift_ms_max``: from the recording — each frame's PTS against the program clock instant of
  the slot burned into its picture (max deviation from the median offset over the run).
- ``av_offset_ms_max``: from the recording — each beep's place in the sound track against the
  picture composed for the same instant.
- ``input_delay_ms_p95`` / ``input_delay_growth_ms``: sender stamp → program frame composed, for every
  fresh program frame; growth is the last minute's median minus the first minute's.
- ``glass_to_glass_ms_p50``: sender stamp → a viewer's player showing the picture, per read-back.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from booth.core.config import BoothConfig, ProgramConfig, parse_size
from booth.core.drop import DropSpec, Sku
from booth.core.frames import FrameStamp
from booth.core.output import OutputConfig, OutputState
from booth.core.program_clock import ProgramClock
from booth.core.source_spec import parse_source_spec
from booth.core.timing import TimingConfig

log = logging.getLogger(__name__)

TARGETS = {"pts_drift_ms_max": 33.0, "av_offset_ms_max": 40.0, "input_delay_ms_p95": 150.0,
           "input_delay_growth_ms": 33.0}  # fmt: skip
WARMUP_S = 20.0  # encoder, ingest and HLS segments settle before the measured run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=5.0, help="measured run (default 5)")
    parser.add_argument("--size", default="1280x720", help="program size WxH (default 1280x720)")
    parser.add_argument("--sender-size", default="1280x720", help="the sender's picture size (default 1280x720)")
    parser.add_argument("--fps", type=float, default=30.0, help="program and sender rate (default 30)")
    parser.add_argument("--bitrate", type=int, default=4500, help="program video kbps (default 4500)")
    parser.add_argument("--keyframe-seconds", type=float, default=2.0, help="program keyframe interval (default 2)")
    parser.add_argument("--no-load", action="store_true", help="no background core of load")


@dataclass
class _Stamps:
    """Every program frame's stamp, read on a worker the way the gap meter reads them."""

    feed: Any
    frames: list[FrameStamp] = field(default_factory=list)

    def __post_init__(self) -> None:
        from booth.runtime.worker import Worker, every

        self._reader = self.feed.reader()
        self._lock = threading.Lock()
        self._worker = Worker("booth-bench-stamps", every(0.1, self._read), "Program stamps")

    def _read(self) -> None:
        stamps = self._reader.history()
        with self._lock:
            self.frames.extend(stamps)

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()
        self._read()


def _progress(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.1)  # polling interval of a bounded wait


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from booth.app.root import build_booth
    from booth.audio.mic_feed import MicFeed
    from booth.bench.beeping_mic import BeepingMicrophone
    from booth.bench.load import BusyLoop
    from booth.bench.nginx_ingest import NginxRtmp
    from booth.bench.sender import SenderProcess
    from booth.program_out.program_out import ProgramOut
    from booth.program_out.viewer_delay import ViewerDelayMonitor

    _app = QApplication.instance() or QApplication([])
    size = parse_size(args.size)
    run_s = args.minutes * 60
    workdir = Path(tempfile.mkdtemp(prefix="booth-bench-timing-"))
    nginx = NginxRtmp(workdir / "ingest", hls=True, fragment_s=args.keyframe_seconds)
    sender = SenderProcess(size=args.sender_size, fps=args.fps)
    busy = BusyLoop(run_s + WARMUP_S + 120)
    stack: list[Any] = []
    try:
        nginx.start()
        stack.append(nginx.kill)
        sender.start()
        stack.append(sender.kill)
        config = BoothConfig(
            drop=DropSpec("Timing bench", (Sku("tee", "TEE / BLACK", 50),), timer_seconds=12 * 3600),
            program=ProgramConfig(size[0], size[1], args.fps), primary=parse_source_spec(sender.url),
            timing=TimingConfig(timecode=True),
        )  # fmt: skip
        booth = build_booth(config)
        stamps = _Stamps(booth.program)
        output = ProgramOut(
            OutputConfig(primary=nginx.url(), bitrate_kbps=args.bitrate, keyframe_s=args.keyframe_seconds),
            config.program, booth.program, recording_folder=workdir / "rec", clips_folder=workdir / "clips",
        )  # fmt: skip
        feed = MicFeed(output.push_audio)
        mic = BeepingMicrophone(feed.on_block)

        def program_clock() -> ProgramClock | None:
            return booth.compositor.program_clock

        viewers = {
            "rtmp": ViewerDelayMonitor(nginx.url(), "RTMP pull", program_clock, name="booth-bench-readback-rtmp"),
            "hls": ViewerDelayMonitor(nginx.hls_url(), "HLS", program_clock, name="booth-bench-readback-hls"),
        }
        booth.controller.start_timer()
        booth.start()
        stack.append(booth.stop)
        stamps.start()
        stack.append(stamps.stop)
        output.start()
        stack.append(output.stop)
        feed.start()
        stack.append(feed.stop)
        mic.start()
        stack.append(mic.stop)
        _wait(lambda: output.status().state is OutputState.LIVE, 30, "the stream going live")
        for monitor in viewers.values():
            monitor.start()
            stack.append(monitor.stop)
        if not args.no_load:
            busy.start()
            stack.append(busy.stop)
        _progress(f"timing bench: warming up {WARMUP_S:g} s, then measuring {args.minutes:g} min")
        time.sleep(WARMUP_S)
        _wait(lambda: all(m.status().delay_s is not None for m in viewers.values()), 60, "both read-backs playing")
        begin = time.monotonic()
        while time.monotonic() - begin < run_s:
            time.sleep(min(30.0, run_s - (time.monotonic() - begin)))
            source = booth.source_statuses()[0]
            shown = ", ".join(f"{name} {m.status().delay_s or 0:.2f} s" for name, m in viewers.items())
            _progress(f"  {time.monotonic() - begin:5.0f} s: input delay {source.delay_ms or 0:.0f} ms, "
                      f"viewer delay {shown}")  # fmt: skip
        end = time.monotonic()
        clock = booth.compositor.program_clock
        zero = output.encoder.stream_zero
        recording = Path(output.status().recording_path)
        compositor_stats = booth.compositor.stats()
        encoder_status = output.status()
        source_status = booth.source_statuses()[0]
        viewer_samples = {name: list(m.all_samples) for name, m in viewers.items()}
        while stack:
            stack.pop()()
        assert clock is not None and zero is not None
        result = _analyse(stamps.frames, recording, clock, zero, begin, end, viewer_samples)
        result.update({
            "minutes": args.minutes, "size": args.size, "fps": args.fps, "background_load": not args.no_load,
            "skipped_slots": compositor_stats.skipped_slots, "encoder_dropped_frames": encoder_status.dropped_frames,
            "source_dropped_frames": source_status.dropped,
        })  # fmt: skip
    finally:
        while stack:
            try:
                stack.pop()()
            except Exception:
                log.exception("stopping a bench part failed")
        shutil.rmtree(workdir, ignore_errors=True)
    result["ok"] = all(
        result.get(key) is not None and result[key] <= target for key, target in TARGETS.items()
    )
    return result


def _analyse(
    stamps: list[FrameStamp], recording: Path, clock: ProgramClock, zero: float, begin: float, end: float,
    viewers: dict[str, list[Any]],
) -> dict[str, Any]:  # fmt: skip
    from booth.bench.recording_times import beep_onsets, video_times

    inside = [s for s in stamps if begin <= s.composed_at <= end]
    delays = [(s.composed_at, (s.composed_at - s.origin_at) * 1000) for s in inside
              if not s.repeat and s.origin_at is not None]  # fmt: skip
    values = sorted(d for _t, d in delays)
    first = [d for t, d in delays if t - begin <= 60]
    last = [d for t, d in delays if end - t <= 60]
    composed = {s.slot: s.composed_at for s in stamps}

    frames = video_times(recording)
    in_run = [(pts, slot) for pts, slot in frames if slot is not None and begin <= clock.at(slot) <= end]
    offsets = [pts - (clock.at(slot) - zero) for pts, slot in in_run]
    ts_offset = statistics.median(offsets) if offsets else 0.0
    drift = [abs(o - ts_offset) * 1000 for o in offsets]
    wall = [pts - (composed[slot] - zero) for pts, slot in in_run if slot in composed]
    wall_offset = statistics.median(wall) if wall else 0.0
    wall_dev = sorted(abs(w - wall_offset) * 1000 for w in wall)

    beeps = []
    for onset_pts in beep_onsets(recording):
        instant = onset_pts - ts_offset + zero  # the program clock instant the sound track puts it at
        if begin <= instant <= end:
            beeps.append((instant - round(instant)) * 1000)  # it was made at the whole second

    result: dict[str, Any] = {
        "pts_drift_ms_max": round(max(drift), 2) if drift else None,
        "pts_vs_wall_ms_max": round(wall_dev[-1], 1) if wall_dev else None,
        "pts_vs_wall_ms_p99": round(wall_dev[int(len(wall_dev) * 0.99)], 1) if wall_dev else None,
        "frames_checked": len(in_run),
        "frames_unreadable": sum(1 for _p, slot in frames if slot is None),
        "av_offset_ms_max": round(max(abs(b) for b in beeps), 1) if beeps else None,
        "av_offset_ms_median": round(statistics.median(beeps), 1) if beeps else None,
        "beeps_checked": len(beeps),
        "input_delay_ms_p50": round(values[len(values) // 2], 1) if values else None,
        "input_delay_ms_p95": round(values[int(len(values) * 0.95)], 1) if values else None,
        "input_delay_ms_max": round(values[-1], 1) if values else None,
        "input_delay_growth_ms": round(statistics.median(last) - statistics.median(first), 1) if first and last
        else None,
    }
    for name, samples in viewers.items():
        run = [s for s in samples if begin <= s.shown <= end]
        glass = sorted(s.glass_s for s in run if s.glass_s is not None)
        program = sorted(s.delay_s for s in run)
        result[f"glass_to_glass_ms_p50_{name}"] = round(glass[len(glass) // 2] * 1000) if glass else None
        result[f"viewer_delay_ms_p50_{name}"] = round(program[len(program) // 2] * 1000) if program else None
        result[f"viewer_samples_{name}"] = len(run)
    result["glass_to_glass_ms_p50"] = {
        name: result[f"glass_to_glass_ms_p50_{name}"] for name in viewers
    }
    return result


def format_table(r: dict[str, Any]) -> str:
    def show(key: str, unit: str = "ms") -> str:
        value = r.get(key)
        return "—" if value is None else f"{value:g} {unit}"

    rows = [
        ("PTS vs program clock, max", show("pts_drift_ms_max"), "≤ 33 ms",
         f"{r['frames_checked']} frames read back from the recording"),
        ("PTS vs compose moment, p99", show("pts_vs_wall_ms_p99"), "",
         f"max {show('pts_vs_wall_ms_max')}: when the machine held the compositor up"),
        ("sound vs picture, max", show("av_offset_ms_max"), "≤ 40 ms",
         f"{r['beeps_checked']} beeps, median {show('av_offset_ms_median')}"),
        ("sender → program p50 / p95", f"{show('input_delay_ms_p50')} / {show('input_delay_ms_p95')}", "p95 ≤ 150 ms",
         f"max {show('input_delay_ms_max')}"),
        ("input delay growth", show("input_delay_growth_ms"), "≤ 33 ms", "last minute's median − first minute's"),
    ]
    for name, label in (("rtmp", "RTMP pull"), ("hls", "HLS")):
        rows.append((f"glass to glass p50, {label}", show(f"glass_to_glass_ms_p50_{name}"), "report",
                     f"program → viewer {show(f'viewer_delay_ms_p50_{name}')}, "
                     f"{r.get(f'viewer_samples_{name}', 0)} pictures"))
    width = max(len(row[0]) for row in rows)
    lines = [f"timing, {r['minutes']:g} min at {r['size']} @ {r['fps']:g} fps"
             f"{' with one core of background load' if r['background_load'] else ''}:"]  # fmt: skip
    for name, value, target, note in rows:
        lines.append(f"  {name:<{width}}  {value:>16}  {('[' + target + ']') if target else '':<16}  {note}")
    lines.append(f"  skipped program slots {r['skipped_slots']}, encoder drops {r['encoder_dropped_frames']}, "
                 f"source drops {r['source_dropped_frames']}")  # fmt: skip
    lines.append("OK" if r["ok"] else "MISSES a target")
    return "\n".join(lines)
