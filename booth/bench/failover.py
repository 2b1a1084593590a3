"""Failover on real streams: viewer-visible gap after kill / stall / freeze, return time, false switches.

A real local network primary (the test-pattern sender, H.264 in MPEG-TS over TCP on
127.0.0.1, decoded by Booth's ffmpeg source) and the demo secondary run through the real
object graph (`build_booth`). The primary is killed (SIGKILL), stalled with its connection
open (SIGSTOP) and frozen (the same picture re-sent) N times each. The gap is read from the
program frames themselves: from the last fresh primary frame to the first secondary frame.
Meanwhile an offscreen Qt event loop paints the program and polls source statuses, and a
10 ms QTimer records the longest time the GUI thread could not run. Finally the primary runs
healthy with ±40 % frame-interval jitter and every cut in that time is a false switch.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from booth.app.root import Booth, build_booth
from booth.bench.sender import SenderProcess
from booth.core.config import BoothConfig, ProgramConfig, parse_size
from booth.core.drop import DropSpec, Sku
from booth.core.failover import PRIMARY, SECONDARY, FailoverSettings, Lock, Switch
from booth.core.frames import FrameStamp, ProgramFrame
from booth.core.source_spec import parse_source_spec
from booth.runtime.feed import Feed
from booth.runtime.worker import Worker, every
from booth.video.compositor import percentile

log = logging.getLogger(__name__)

TARGETS = {"kill_gap_ms_p95": 300.0, "stall_gap_ms_p95": 300.0, "freeze_detect_ms_max": 1000.0, "gui_block_ms": 50.0}
KINDS = ("kill", "stall", "freeze")
CUT_TIMEOUT_S = 10.0
RETURN_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Shown:
    at: float  # composed_at
    source: str
    repeat: bool


class ProgramRecorder:
    """Which source every program frame showed, and when: it reads the stamps of every frame from
    the program feed on its own worker, the way the switcher's gap meter does."""

    def __init__(self, program: Feed[ProgramFrame, FrameStamp], maxlen: int = 30_000) -> None:
        self._lock = threading.Lock()
        self._frames: deque[Shown] = deque(maxlen=maxlen)
        self._reader = program.reader()
        self._worker = Worker("booth-bench-program", every(0.02, self._read), "Program recorder")

    def start(self) -> ProgramRecorder:
        self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()

    def _read(self) -> None:
        stamps = self._reader.history()
        with self._lock:
            self._frames.extend(Shown(s.composed_at, s.source, s.repeat) for s in stamps)

    def since(self, t: float) -> list[Shown]:
        with self._lock:
            return [f for f in self._frames if f.at >= t]

    def latest(self) -> Shown | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def gap_after(self, t: float, to_source: str = SECONDARY) -> float | None:
        """Seconds from the last fresh primary frame to the first `to_source` frame after `t`."""
        frames = self.since(t - 2.0)
        first = next((f for f in frames if f.at >= t and f.source == to_source), None)
        if first is None:
            return None
        fresh = [f for f in frames if f.at < first.at and f.source == PRIMARY and not f.repeat]
        return first.at - fresh[-1].at if fresh else None

    def first_after(self, t: float, source: str) -> Shown | None:
        return next((f for f in self.since(t) if f.source == source), None)


class SwitchLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.switches: list[Switch] = []

    def __call__(self, switch: Switch) -> None:
        with self._lock:
            self.switches.append(switch)

    def after(self, t: float) -> list[Switch]:
        with self._lock:
            return [s for s in self.switches if s.at >= t]


@dataclass
class FailoverRig:
    """A booth with a real sender as primary and the demo as secondary, recording what the program shows."""

    sender: SenderProcess
    booth: Booth
    program: ProgramRecorder
    cuts: SwitchLog = field(default_factory=SwitchLog)

    def wait(self, condition: Callable[[], bool], timeout: float, what: str, step: float = 0.01) -> None:
        """Poll `condition` until true; TimeoutError naming `what` after `timeout` s (bounded)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not happen within {timeout:g} s")
            time.sleep(step)  # polling interval of a bounded wait, not synchronisation by sleep

    def on_program(self, source: str) -> bool:
        latest = self.program.latest()
        return latest is not None and latest.source == source

    def state(self, role: str) -> str:
        return next(s.state.value for s in self.booth.source_statuses() if s.role == role)

    def primary_steady(self, seconds: float = 1.0) -> bool:
        """The program has shown fresh primary frames for the last `seconds`."""
        frames = self.program.since(time.monotonic() - seconds)
        return len(frames) >= 0.8 * seconds * self.booth.config.program.fps and all(f.source == PRIMARY for f in frames)

    def restart_sender(self) -> None:
        """A new sender process on the same port (after a kill)."""
        self.sender.kill()
        self.sender.start()


def rig_config(
    url: str, settings: FailoverSettings, size: tuple[int, int] = (640, 360), fps: float = 30.0
) -> BoothConfig:
    drop = DropSpec("Failover bench", (Sku("tee", "TEE / BLACK", 50),), timer_seconds=12 * 3600)
    return BoothConfig(
        drop=drop, program=ProgramConfig(size[0], size[1], fps),
        primary=parse_source_spec(url), secondary=parse_source_spec("demo:"), failover=settings,
    )  # fmt: skip


@contextmanager
def failover_rig(
    settings: FailoverSettings | None = None,
    size: tuple[int, int] = (640, 360),
    sender_size: str = "640x360",
    crf: int | None = None,
) -> Iterator[FailoverRig]:
    """Start a sender and a booth (primary = the sender, secondary = demo); stop and reap both after."""
    sender = SenderProcess(size=sender_size, crf=crf).start()
    booth: Booth | None = None
    try:
        booth = build_booth(rig_config(sender.url, settings or FailoverSettings(), size))
        rig = FailoverRig(sender, booth, ProgramRecorder(booth.program))
        booth.switcher.on_switch(rig.cuts)
        booth.controller.start_timer()  # a live drop: a failed source is retried every second
        booth.start()
        rig.program.start()
        yield rig
    finally:
        if booth is not None:
            if "rig" in locals():
                rig.program.stop()
            booth.stop()
        sender.kill()


# -- the benchmark ------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=10, help="faults of each kind (default 10)")
    parser.add_argument(
        "--jitter-seconds", type=float, default=300.0, help="healthy jittery primary watched for false switches"
    )
    parser.add_argument("--size", default="1280x720", help="program size WxH (default 1280x720)")
    parser.add_argument("--sender-size", default="1280x720", help="the sender's picture size (default 1280x720)")


@dataclass
class Trial:
    kind: str
    gap_ms: float | None = None
    detect_ms: float | None = None
    return_s: float | None = None
    reason: str = ""
    error: str = ""


class GuiWatch:
    """Longest gap between ticks of a 10 ms QTimer on the GUI thread, while a fault is on.

    It is also the host's hands: what the driver thread asks for (a lock change, "reconnect now")
    runs on the GUI thread at the next tick, exactly where the window's keys would run it."""

    def __init__(self) -> None:
        self.fault_on = threading.Event()
        self.max_block_ms = 0.0  # during faults and host actions
        self.max_block_all_ms = 0.0
        self._last: float | None = None
        self._asks: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
        self.host_actions = 0

    def ask(self, action: Callable[[], object]) -> None:
        """Run `action` on the GUI thread (from the driver thread)."""
        self._asks.put(action)

    def run_asks(self) -> None:
        while True:
            try:
                action = self._asks.get_nowait()
            except queue.Empty:
                return
            action()
            self.host_actions += 1

    def tick(self) -> None:
        now = time.monotonic()
        if self._last is None:  # the first tick: nothing to compare with yet
            self._last = now
            return
        gap_ms = (now - self._last) * 1000
        self._last = now
        self.max_block_all_ms = max(self.max_block_all_ms, gap_ms)
        if self.fault_on.is_set():
            self.max_block_ms = max(self.max_block_ms, gap_ms)


def run_trial(rig: FailoverRig, kind: str, gui: GuiWatch) -> Trial:
    trial = Trial(kind)
    rig.wait(lambda: rig.on_program(PRIMARY) and rig.primary_steady(1.0), RETURN_TIMEOUT_S, "a steady primary")
    gui.fault_on.set()
    try:
        t0 = time.monotonic()
        if kind == "kill":
            rig.sender.kill()
        elif kind == "stall":
            rig.sender.pause()
        else:
            rig.sender.send("freeze")
        try:
            rig.wait(lambda: bool(rig.cuts.after(t0)), CUT_TIMEOUT_S, f"a cut after {kind}")
            rig.wait(lambda: rig.program.first_after(t0, SECONDARY) is not None, 2.0, "a secondary frame")
        except TimeoutError as exc:
            trial.error = str(exc)
        cut = next(iter(rig.cuts.after(t0)), None)
        if cut is not None:
            trial.detect_ms = (cut.at - t0) * 1000
            trial.reason = cut.reason
            gap = rig.program.gap_after(t0)
            trial.gap_ms = None if gap is None else gap * 1000
        # recover: a new sender / carry on / move again
        t_rec = time.monotonic()
        if kind == "kill":
            rig.sender.start()
        elif kind == "stall":
            rig.sender.resume()
        else:
            rig.sender.command("unfreeze")
        rig.wait(lambda: rig.program.first_after(t_rec, PRIMARY) is not None, RETURN_TIMEOUT_S, "return to primary")
        shown = rig.program.first_after(t_rec, PRIMARY)
        trial.return_s = None if shown is None else shown.at - t_rec
    finally:
        gui.fault_on.clear()
    log.info(
        "%s: gap %s ms, detected %s ms, back in %s s (%s)",
        kind, _fmt(trial.gap_ms), _fmt(trial.detect_ms), _fmt(trial.return_s, 2), trial.reason,
    )  # fmt: skip
    return trial


def lock_trial(rig: FailoverRig, gui: GuiWatch) -> Trial:
    """The host holds the secondary, then forces the primary, then hands back to automation —
    each from the GUI thread, each a real cut — while the GUI thread is watched."""
    trial = Trial("lock")
    switcher = rig.booth.switcher
    rig.wait(lambda: rig.on_program(PRIMARY) and rig.primary_steady(1.0), RETURN_TIMEOUT_S, "a steady primary")
    gui.fault_on.set()
    try:
        t0 = time.monotonic()
        gui.ask(lambda: switcher.set_lock(Lock.SECONDARY))
        rig.wait(lambda: rig.program.first_after(t0, SECONDARY) is not None, CUT_TIMEOUT_S, "the held secondary")
        trial.detect_ms = ((rig.program.first_after(t0, SECONDARY) or Shown(t0, "", False)).at - t0) * 1000
        t1 = time.monotonic()
        gui.ask(lambda: switcher.set_lock(Lock.PRIMARY))
        gui.ask(switcher.reconnect_now)
        rig.wait(lambda: rig.program.first_after(t1, PRIMARY) is not None, CUT_TIMEOUT_S, "the forced primary")
        gui.ask(lambda: switcher.set_lock(Lock.AUTO))
        trial.reason = "host lock: hold secondary, force primary, automatic"
    except TimeoutError as exc:
        trial.error = str(exc)
    finally:
        gui.fault_on.clear()
    return trial


def _fmt(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def drive(rig: FailoverRig, args: argparse.Namespace, gui: GuiWatch, stop: threading.Event) -> dict[str, Any]:
    trials: list[Trial] = []
    rig.wait(lambda: rig.on_program(PRIMARY) and rig.primary_steady(2.0), 60.0, "the primary on program")
    for i in range(args.trials):
        for kind in KINDS:
            if stop.is_set():
                break
            try:
                trials.append(run_trial(rig, kind, gui))
            except TimeoutError as exc:
                trials.append(Trial(kind, error=str(exc)))
                log.error("%s trial %d: %s", kind, i + 1, exc)
        if not stop.is_set():
            trials.append(lock_trial(rig, gui))
    # healthy primary with ±40 % frame-interval jitter: every cut is a false one
    rig.wait(lambda: rig.on_program(PRIMARY) and rig.primary_steady(1.0), RETURN_TIMEOUT_S, "a steady primary")
    rig.sender.command("jitter 0.4")
    t0 = time.monotonic()
    stop.wait(args.jitter_seconds)
    false_switches = rig.cuts.after(t0)
    rig.sender.command("jitter 0")
    return {"trials": trials, "false_switches": false_switches, "jitter_seconds": time.monotonic() - t0}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from booth.bench.preview import attach_preview

    app = QApplication.instance() or QApplication([])
    gui = GuiWatch()
    outcome: dict[str, Any] = {}
    failure: list[BaseException] = []
    done = threading.Event()
    stop = threading.Event()
    wall0 = time.monotonic()
    cpu0 = os.times()
    with failover_rig(size=parse_size(args.size), sender_size=args.sender_size) as rig:
        view, _display = attach_preview(rig.booth.program)

        def driver() -> None:
            try:
                outcome.update(drive(rig, args, gui, stop))
            except BaseException as exc:  # re-raised on the main thread
                failure.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=driver, name="booth-bench-failover")
        loop = QEventLoop()
        ticker = QTimer()
        ticker.setInterval(10)
        ticker.timeout.connect(gui.tick)
        ticker.timeout.connect(gui.run_asks)

        def quit_when_done() -> None:
            if done.is_set():
                loop.quit()

        ticker.timeout.connect(quit_when_done)
        statuses = QTimer()
        statuses.setInterval(500)  # what the source-health panel does
        statuses.timeout.connect(rig.booth.source_statuses)
        ticker.start()
        statuses.start()
        thread.start()
        try:
            loop.exec()
        finally:
            stop.set()
            thread.join(RETURN_TIMEOUT_S + CUT_TIMEOUT_S + 10)
            ticker.stop()
            statuses.stop()
            _display.stop()
            view.close()
            app.processEvents()
    if failure:
        raise failure[0]
    cpu1, wall1 = os.times(), time.monotonic()
    return summarise(outcome, gui, args, (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / (wall1 - wall0))


def summarise(outcome: dict[str, Any], gui: GuiWatch, args: argparse.Namespace, cpu_share: float) -> dict[str, Any]:
    trials: list[Trial] = outcome["trials"]
    per_kind: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        mine = [t for t in trials if t.kind == kind]
        gaps = [t.gap_ms for t in mine if t.gap_ms is not None]
        detects = [t.detect_ms for t in mine if t.detect_ms is not None]
        returns = [t.return_s for t in mine if t.return_s is not None]
        per_kind[kind] = {
            "trials": len(mine),
            "missed": sum(1 for t in mine if t.gap_ms is None),
            "gap_ms": _spread(gaps),
            "detect_ms": _spread(detects),
            "return_s": _spread(returns, 2),
            "reasons": sorted({t.reason.split(":")[0] for t in mine if t.reason}),
            "errors": [t.error for t in mine if t.error][:3],
        }
    false_switches: list[Switch] = outcome["false_switches"]
    all_returns = [t.return_s for t in trials if t.return_s is not None]
    result: dict[str, Any] = {
        "gap_ms_p95": {k: per_kind[k]["gap_ms"]["p95"] for k in KINDS},
        "detect_ms_p95": {k: per_kind[k]["detect_ms"]["p95"] for k in KINDS},
        "return_s": round(percentile(all_returns, 50), 2) if all_returns else None,
        "false_switches": len(false_switches),
        "false_switch_reasons": [s.reason for s in false_switches][:10],
        "jitter_seconds": round(outcome["jitter_seconds"], 1),
        "gui_max_block_ms": round(gui.max_block_ms, 1),
        "lock_trials": sum(1 for t in trials if t.kind == "lock"),
        "lock_errors": [t.error for t in trials if t.kind == "lock" and t.error][:3],
        "host_actions": gui.host_actions,
        "gui_max_block_ms_whole_run": round(gui.max_block_all_ms, 1),
        "kinds": per_kind,
        "trials": args.trials,
        "program": args.size,
        "sender": args.sender_size,
        "cpu_percent": round(cpu_share * 100, 1),
        "cores": os.cpu_count(),
    }
    freeze_max = per_kind["freeze"]["detect_ms"]["max"]
    result["ok"] = (
        all(per_kind[k]["missed"] == 0 for k in KINDS)
        and (result["gap_ms_p95"]["kill"] or 1e9) <= TARGETS["kill_gap_ms_p95"]
        and (result["gap_ms_p95"]["stall"] or 1e9) <= TARGETS["stall_gap_ms_p95"]
        and (freeze_max or 1e9) <= TARGETS["freeze_detect_ms_max"]
        and result["false_switches"] == 0
        and not result["lock_errors"]
        and gui.max_block_ms <= TARGETS["gui_block_ms"]
    )
    return result


def _spread(values: list[float], digits: int = 1) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None}
    return {
        "p50": round(percentile(values, 50), digits),
        "p95": round(percentile(values, 95), digits),
        "max": round(max(values), digits),
    }


def format_table(r: dict[str, Any]) -> str:
    verdict = "meets targets" if r["ok"] else "MISSES a target"
    lines = [
        f"failover: {r['trials']} trials per fault, program {r['program']}, sender {r['sender']}, "
        f"{r['cores']} cores: {verdict}",
        f"  {'fault':8} {'gap ms p50/p95/max':>22} {'detect ms p50/p95/max':>24} {'back to primary s p50/max':>27}",
    ]
    for kind in KINDS:
        k = r["kinds"][kind]
        g, d, b = k["gap_ms"], k["detect_ms"], k["return_s"]
        missed = f"  ({k['missed']} missed)" if k["missed"] else ""
        lines.append(
            f"  {kind:8} {_fmt(g['p50']):>8} {_fmt(g['p95']):>6} {_fmt(g['max']):>6}"
            f" {_fmt(d['p50']):>10} {_fmt(d['p95']):>6} {_fmt(d['max']):>6}"
            f" {_fmt(b['p50'], 2):>15} {_fmt(b['max'], 2):>11}{missed}"
        )
    lines += [
        "  targets: kill and stall gap p95 ≤ 300 ms, freeze detected ≤ 1000 ms",
        f"  false switches     {r['false_switches']} in {r['jitter_seconds']:g} s of a healthy primary with "
        "±40 % frame jitter (target 0)",
        f"  GUI thread blocked {r['gui_max_block_ms']:.1f} ms at most during faults and {r['lock_trials']} lock "
        f"changes with reconnects (target ≤ 50; "
        f"{r['gui_max_block_ms_whole_run']:.1f} over the whole run)",
        f"  CPU                {r['cpu_percent']:.1f} % of one core (booth process; sender and decoder not counted)",
    ]
    return "\n".join(lines)
