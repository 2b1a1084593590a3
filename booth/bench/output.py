"""Program out: encode fps and CPU at 720p30/1080p30, clip-save latency, ingest switch time, RSS.

Runs the real output service (encoder process, replay buffer, clip remux, ffmpeg ingest
pushes) on synthetic program frames offered at the program rate, like the compositor does.
The ingest switch uses two ffmpeg RTMP listeners on 127.0.0.1: the primary listener is
killed and the time until the backup ingest accepted the stream and bytes are moving is
measured (the pusher's byte counter, reported every 250 ms, plus a 100 ms supervisor tick).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from booth.core.config import ProgramConfig
from booth.core.frames import FrameStamp, ProgramFrame
from booth.core.output import OutputConfig, OutputState, PolicyTimes
from booth.program_out.program_out import ProgramOut
from booth.runtime.feed import Feed

TARGETS = {"encode_fps_720p30": 29.0, "clip_save_ms": 3000.0, "ingest_switch_ms": 2000.0, "rss_mb": 400.0,
           "gui_max_block_ms": 50.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=35.0,
                        help="720p30 run (≥ clip seconds + 2; ≥ 92 measures a full 90 s buffer; default 35)")
    parser.add_argument("--seconds-1080", type=float, default=8.0, help="1080p30 run (default 8)")
    parser.add_argument("--bitrate", type=int, default=4500, help="video kbps (default 4500)")
    parser.add_argument("--preset", default="superfast", help="x264 preset (default superfast)")
    parser.add_argument("--no-switch", action="store_true", help="skip the ingest switch measurement")


class _Program:
    """Offers moving, textured BGRA frames at the program rate, as the compositor would."""

    def __init__(self, feed: Feed[ProgramFrame, FrameStamp], size: tuple[int, int], fps: float) -> None:
        w, h = size
        rng = np.random.default_rng(7)
        texture = rng.integers(0, 255, (h, w, 1), np.uint8)
        ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
        self._frames = []
        for i in range(12):  # distinct pictures, cycled: the encoder sees motion (few: they cost RSS)
            frame = np.empty((h, w, 4), np.uint8)
            frame[..., :3] = ((ramp + i * 8) % 255).astype(np.uint8) // 2 + np.roll(texture, i * 7, axis=1) // 2
            frame[..., 3] = 255
            frame[h - h // 5 :, : w // 3, :3] = (30, 30, 200)  # an overlay-like box
            self._frames.append(frame)
        self.frames_bytes = sum(f.nbytes for f in self._frames)  # the bench's own, not the service's
        self._feed, self._fps = feed, fps
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="booth-bench-program", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        start = time.monotonic()
        seq = 0
        while not self._stop.is_set():
            now = time.monotonic()
            pixels = self._frames[seq % len(self._frames)]
            # composed for slot `seq` of a program clock started at `start`, as the compositor does
            self._feed.put(ProgramFrame(pixels, seq, now, "bench", seq, now, False, seq, start + seq / self._fps))
            seq += 1
            self._stop.wait(max(0.0, start + seq / self._fps - time.monotonic()))


def _cpu_seconds(pid: int) -> float:
    """utime + stime of another process (Linux /proc); 0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _rss_mb(field: str, pid: int) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, Linux /proc; 0 where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _encode_run(size: tuple[int, int], seconds: float, args: argparse.Namespace, workdir: Path,
                clip: bool) -> dict[str, Any]:  # fmt: skip
    config = OutputConfig(bitrate_kbps=args.bitrate, preset=args.preset)
    feed: Feed[ProgramFrame, FrameStamp] = Feed(stamp=ProgramFrame.stamp)
    service = ProgramOut(config, ProgramConfig(*size, 30), feed, clips_folder=workdir / "clips")
    program = _Program(feed, size, 30)
    service.start()
    program.start()
    result: dict[str, Any] = {}
    try:
        _wait(lambda: service.status().frames_sent > 30, 15)
        pid = service.encoder.pid
        sent0, dropped0 = service.status().frames_sent, service.status().dropped_frames
        cpu0 = _cpu_seconds(pid) if pid else 0.0
        self0 = os.times()
        t0 = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        status = service.status()
        self1 = os.times()
        cpu1 = _cpu_seconds(pid) if pid else 0.0
        result["encode_fps"] = (status.frames_sent - sent0) / wall
        result["dropped_frames"] = status.dropped_frames - dropped0
        result["encoder_cpu_percent"] = (cpu1 - cpu0) / wall * 100
        result["service_cpu_percent"] = (self1.user - self0.user + self1.system - self0.system) / wall * 100
        result["bitrate_kbps"] = status.bitrate_kbps
        result["encoder_rss_mb"] = _rss_mb("VmHWM:", pid) if pid else 0.0
        result["replay_s"] = status.replay_s
        result["replay_mb"] = status.replay_bytes / 1024 / 1024
        result["rss_mb"] = _rss_mb("VmRSS:", os.getpid())
        result["frames_mb"] = program.frames_bytes / 1024 / 1024
        if clip:
            clip_s = min(config.clip_s, status.replay_s - 1.0)
            t = time.monotonic()
            saved = service.clip(clip_s).result(30)
            result["clip_save_ms"] = (time.monotonic() - t) * 1000
            result["clip_seconds"] = saved.duration_s
            result["clip_ok"] = saved.ok
    finally:
        program.stop()
        service.stop()
    return result


def _listener(ffmpeg: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-listen", "1",
         "-i", f"rtmp://127.0.0.1:{port}/live/bench", "-c", "copy", "-f", "null", "-"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _switch_run(args: argparse.Namespace, workdir: Path,
                on_service: Callable[[ProgramOut], None] = lambda _s: None) -> dict[str, Any]:  # fmt: skip
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        return {"ingest_switch_ms": None, "switch_note": "ffmpeg not installed"}
    ports = _free_port(), _free_port()
    listeners = [_listener(ffmpeg, p) for p in ports]
    config = OutputConfig(primary=f"rtmp://127.0.0.1:{ports[0]}/live/bench",
                          backup=f"rtmp://127.0.0.1:{ports[1]}/live/bench",
                          bitrate_kbps=args.bitrate, preset=args.preset)  # fmt: skip
    times = PolicyTimes(stable_s=3600)  # stay on the backup once there
    feed: Feed[ProgramFrame, FrameStamp] = Feed(stamp=ProgramFrame.stamp)
    service = ProgramOut(config, ProgramConfig(1280, 720, 30), feed, clips_folder=workdir / "clips", times=times)
    program = _Program(feed, (1280, 720), 30)
    on_service(service)
    result: dict[str, Any] = {"ingest_switch_ms": None}
    try:
        time.sleep(0.3)  # the listeners bind (they print nothing to wait on)
        service.start()
        program.start()
        if not _wait(lambda: service.status().state is OutputState.LIVE, 20):
            result["switch_note"] = f"never live on the primary: {service.status().message}"
            return result
        time.sleep(2.0)  # steady state
        listeners[0].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        if _wait(lambda: service.status().state is OutputState.BACKUP, 15):
            result["ingest_switch_ms"] = (time.monotonic() - killed) * 1000
        else:
            result["switch_note"] = f"backup never live: {service.status().message}"
    finally:
        program.stop()
        service.stop()
        for proc in listeners:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
    return result


def _switch_run_watched(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The ingest fault, driven from a thread while a real GUI thread reads the output status every
    250 ms (as the host's window does) and a 10 ms ticker measures how long that thread is ever held."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from booth.bench.failover import GuiWatch

    app = QApplication.instance() or QApplication([])
    gui = GuiWatch()
    gui.fault_on.set()
    services: list[ProgramOut] = []
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def drive() -> None:
        try:
            outcome.update(_switch_run(args, workdir, services.append))
        finally:
            done.set()

    loop = QEventLoop()
    ticker, status = QTimer(), QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(gui.tick)
    ticker.timeout.connect(lambda: loop.quit() if done.is_set() else None)
    status.setInterval(250)
    status.timeout.connect(lambda: [service.status() for service in services])
    driver = threading.Thread(target=drive, name="booth-bench-output-driver")
    ticker.start()
    status.start()
    driver.start()
    try:
        loop.exec()
    finally:
        driver.join(60)
        ticker.stop()
        status.stop()
        app.processEvents()
    outcome["gui_max_block_ms"] = round(gui.max_block_ms, 1)
    return outcome


def measure(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="booth-bench-output-"))
    try:
        r720 = _encode_run((1280, 720), args.seconds, args, workdir, clip=True)
        r1080 = _encode_run((1920, 1080), args.seconds_1080, args, workdir, clip=False)
        switch = {} if args.no_switch else _switch_run_watched(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # this process while the 720p buffer was filled, less the bench's own synthetic frames
    rss_now = r720["rss_mb"] - r720["frames_mb"] if r720["rss_mb"] else resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss / 1024
    # the replay buffer is the only part that grows with time: add what a full 90 s would hold more
    per_s = r720["replay_mb"] / r720["replay_s"] if r720["replay_s"] else 0.0
    missing = max(0.0, 90.0 - r720["replay_s"]) * per_s
    result: dict[str, Any] = {
        "encode_fps_720p30": round(r720["encode_fps"], 1),
        "encode_fps_1080p30": round(r1080["encode_fps"], 1),
        "encoder_cpu_percent_720p30": round(r720["encoder_cpu_percent"], 1),
        "encoder_cpu_percent_1080p30": round(r1080["encoder_cpu_percent"], 1),
        "service_cpu_percent_720p30": round(r720["service_cpu_percent"], 1),
        "dropped_frames_720p30": r720["dropped_frames"],
        "dropped_frames_1080p30": r1080["dropped_frames"],
        "bitrate_kbps_720p30": round(r720["bitrate_kbps"]),
        "clip_save_ms": round(r720.get("clip_save_ms", 0.0)),
        "clip_seconds": round(r720.get("clip_seconds", 0.0), 2),
        "ingest_switch_ms": round(switch["ingest_switch_ms"]) if switch.get("ingest_switch_ms") else None,
        "gui_max_block_ms": switch.get("gui_max_block_ms"),
        "rss_mb": round(rss_now + missing, 1),
        "rss_measured_mb": round(rss_now, 1),
        "replay_s_measured": round(r720["replay_s"], 1),
        "rss_extrapolated": missing > 0,
        "encoder_rss_mb": round(max(r720["encoder_rss_mb"], r1080["encoder_rss_mb"]), 1),
        "preset": args.preset,
        "bitrate_kbps": args.bitrate,
    }
    if "switch_note" in switch:
        result["switch_note"] = switch["switch_note"]
    switch_ok = result["ingest_switch_ms"] is None or result["ingest_switch_ms"] <= TARGETS["ingest_switch_ms"]
    gui_ok = result["gui_max_block_ms"] is None or result["gui_max_block_ms"] <= TARGETS["gui_max_block_ms"]
    result["ok"] = bool(
        result["encode_fps_720p30"] >= TARGETS["encode_fps_720p30"]
        and r720.get("clip_ok")
        and result["clip_save_ms"] <= TARGETS["clip_save_ms"]
        and result["rss_mb"] <= TARGETS["rss_mb"]
        and switch_ok
        and gui_ok
    )
    return result


def format_table(r: dict[str, Any]) -> str:
    switch = f"{r['ingest_switch_ms']} ms" if r["ingest_switch_ms"] is not None else f"n/a ({r.get('switch_note')})"
    rss_note = (f"(measured {r['rss_measured_mb']} MB with {r['replay_s_measured']} s buffered, "
                "+ the rest of a 90 s buffer at the measured bitrate)" if r["rss_extrapolated"] else "(measured)")
    rss_note += " — output service process without the GUI; see `booth bench pipeline`"
    rows = [
        ("encode 720p30", f"{r['encode_fps_720p30']} fps, encoder CPU {r['encoder_cpu_percent_720p30']} %, "
                          f"service CPU {r['service_cpu_percent_720p30']} %, {r['dropped_frames_720p30']} dropped",
         "≥ 29 fps"),
        ("encode 1080p30", f"{r['encode_fps_1080p30']} fps, encoder CPU {r['encoder_cpu_percent_1080p30']} %, "
                           f"{r['dropped_frames_1080p30']} dropped", "report"),
        ("bitrate", f"{r['bitrate_kbps_720p30']} kbps measured ({r['bitrate_kbps']} set, {r['preset']})", ""),
        ("clip save", f"{r['clip_save_ms']} ms for {r['clip_seconds']} s", "≤ 3000 ms"),
        ("ingest switch", switch, "≤ 2000 ms"),
        ("GUI thread held", f"{r['gui_max_block_ms']} ms at most while the ingest failed and the window read the "
                            "output status every 250 ms", "≤ 50 ms"),
        ("peak RSS, 90 s buffer", f"{r['rss_mb']} MB {rss_note}; encoder process {r['encoder_rss_mb']} MB",
         "≤ 400 MB"),
    ]  # fmt: skip
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{name:<{width}}  {value}" + (f"   [target {target}]" if target else "") for name, value, target in rows]
    lines.append("OK" if r["ok"] else "BELOW TARGET")
    return "\n".join(lines)
