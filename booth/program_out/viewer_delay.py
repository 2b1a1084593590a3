"""Glass-to-glass: reads back what viewers get and measures, continuously, how late they see the program.

```
program (slot time code) ─► encoder ─► ingest ─► platform player URL ─► read-back process
     ▲ program clock: slot → instant                                        │ slot, shown at
     └──────────── viewer delay D = shown at − the slot's instant ◄─────────┘
```

The read-back (booth.devices.readback) plays the stream like a viewer's player and reports, for
each keyframe, the program slot stamped in it and when a player shows it. The program clock says
when that slot was composed for, so the difference is the viewer delay D: encoder, ingest,
packaging (HLS segments) and the player's buffer. Where the program shows a sender that stamps
its clock, the same picture also gives sender → viewer ("glass to glass").

A read-back that stops (stream not live yet, ingest restarted) is restarted with a backoff; while
it gives nothing the last figure ages out and `delay_s` becomes None, so nothing downstream keeps
correcting for a delay nobody is measuring.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from booth.core import timecode
from booth.core.program_clock import ProgramClock
from booth.devices.readback import ReadbackProcess, Report
from booth.runtime.worker import RunsOnWorker, Worker

log = logging.getLogger(__name__)

WINDOW_S = 30.0  # the figure is the median over this much read-back
STALE_S = 20.0  # no picture read back for this long: the figure is dropped
LOST_AFTER_S = 15.0  # …and the read-back is restarted
RETRY_S = (1.0, 2.0, 5.0, 10.0)
PLAUSIBLE_S = (-0.5, 120.0)  # a delay outside this is a misread or another stream's picture


@dataclass(frozen=True)
class ViewerDelay:
    label: str  # the read-back URL, stream key masked
    state: str  # "off" | "connecting" | "live" | "lost"
    delay_s: float | None  # program → viewer, median over the last WINDOW_S; None when not measured now
    glass_s: float | None  # sender → viewer, where the program shows a stamping sender
    samples: int  # pictures matched so far
    message: str = ""  # why it is not live, in words


@dataclass(frozen=True)
class Sample:
    shown: float  # monotonic, when a viewer's player shows the picture
    slot: int
    delay_s: float
    glass_s: float | None


class ViewerDelayMonitor(RunsOnWorker):
    def __init__(
        self,
        url: str,
        label: str,
        program_clock: Callable[[], ProgramClock | None],
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        process_factory: Callable[[str], ReadbackProcess] = ReadbackProcess,
        name: str = "booth-readback",
    ) -> None:
        self.url = url
        self.label = label
        self._program_clock = program_clock
        self._clock = clock
        self._wall = wall
        self._factory = process_factory
        self._lock = threading.Lock()
        self._proc: ReadbackProcess | None = None
        self._state = "connecting"
        self._message = ""
        self._failures = 0
        self._retry_at = 0.0
        self._last_frame_at: float | None = None
        self._started_at = 0.0
        self._recent: deque[Sample] = deque(maxlen=4096)
        self.all_samples: deque[Sample] = deque(maxlen=100_000)  # for benchmarks: every match
        self._listeners: list[Callable[[float], None]] = []
        self._worker = Worker(name, self._step, "Viewer delay read-back", on_stop=self._close)

    def on_measure(self, listener: Callable[[float], None]) -> None:
        """`listener(delay_s)` on the read-back's worker with the current figure, after each match."""
        self._listeners.append(listener)

    def status(self) -> ViewerDelay:
        now = self._clock()
        with self._lock:
            recent = [s for s in self._recent if now - s.shown <= WINDOW_S]
            fresh = self._last_frame_at is not None and now - self._last_frame_at <= STALE_S
            delay = statistics.median(s.delay_s for s in recent) if recent and fresh else None
            glass_values = [s.glass_s for s in recent if s.glass_s is not None]
            glass = statistics.median(glass_values) if glass_values and fresh else None
            return ViewerDelay(self.label, self._state, delay, glass, len(self.all_samples), self._message)

    # -- the worker ------------------------------------------------------------------------

    def _step(self) -> float:
        now = self._clock()
        if self._proc is None:
            if now < self._retry_at:
                return min(0.5, self._retry_at - now)
            self._open(now)
            return 0.0
        report = self._proc.read(0.5)
        now = self._clock()
        if report is None:
            quiet_since = self._last_frame_at if self._last_frame_at is not None else self._started_at
            if now - quiet_since > LOST_AFTER_S:
                self._fail(f"no picture read back for {now - quiet_since:.0f} s")
            return 0.0
        if report.kind == "open":
            log.info("viewer read-back playing %s", self.label)
        elif report.kind == "frame":
            self._frame(report, now)
        else:
            self._fail(report.message or "the read-back stopped")
        return 0.0

    def _open(self, now: float) -> None:
        proc = self._factory(self.url)
        try:
            proc.start()
        except OSError as exc:
            self._fail(f"the read-back could not start: {exc}")
            return
        self._proc = proc
        self._started_at = now
        with self._lock:
            if self._state != "live":
                self._state = "connecting"

    def _frame(self, report: Report, now: float) -> None:
        clock = self._program_clock()
        if clock is None or report.slot is None:
            return
        slot = timecode.unwrap(report.slot, clock.slot)
        delay = report.shown - clock.at(slot)
        if not PLAUSIBLE_S[0] <= delay <= PLAUSIBLE_S[1]:
            return
        glass = None
        if report.sender_ms is not None:
            offset = self._wall() - self._clock()  # wall − monotonic, now
            wall_ms = round((report.shown + offset) * 1000)
            glass = (wall_ms - timecode.unwrap(report.sender_ms, wall_ms)) / 1000
            if not PLAUSIBLE_S[0] <= glass <= PLAUSIBLE_S[1]:
                glass = None
        sample = Sample(report.shown, slot, delay, glass)
        with self._lock:
            if self._state != "live":
                log.info("viewer delay via %s: %.2f s", self.label, delay)
            self._state, self._message = "live", ""
            self._failures = 0
            self._last_frame_at = now
            self._recent.append(sample)
            self.all_samples.append(sample)
            current = statistics.median(s.delay_s for s in self._recent if now - s.shown <= WINDOW_S)
        for listener in self._listeners:
            listener(current)

    def _fail(self, message: str) -> None:
        self._close()
        delay = RETRY_S[min(self._failures, len(RETRY_S) - 1)]
        self._failures += 1
        self._retry_at = self._clock() + delay
        with self._lock:
            was = self._state
            self._state, self._message = ("lost" if was == "live" else "connecting"), message
        if was == "live" or self._failures == 1:
            log.warning("viewer read-back %s: %s; retrying in %.0f s", self.label, message, delay)

    def _close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.stop()
