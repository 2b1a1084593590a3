"""The watchdog and program switcher: judges every source from outside its reading worker.

Runs on its own worker (`booth-switcher`) every 20 ms, so a reader blocked inside a device call
can never delay a cut. The compositor asks `on_program` for each program frame. A host lock
change only records the wish and wakes the worker: the decision, the cut listeners and any reader
restart run on the switcher's thread, never on the caller's (the GUI).

It also reads the stamps of every program frame, so each cut is reported once viewers have seen
it — with the gap they saw, measured in the program itself, and the reason the switcher had.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from booth.core.failover import (
    PRIMARY,
    SECONDARY,
    SLATE,
    FailoverPolicy,
    FailoverSettings,
    Lock,
    Switch,
    Verdict,
    judge,
)
from booth.core.frames import FrameStamp, ProgramFrame
from booth.core.source_state import SourceState, SourceStatus
from booth.runtime.feed import Feed, FeedReader
from booth.runtime.worker import Worker, every
from booth.video.capture import CaptureService
from booth.video.program_gaps import ProgramCut, ProgramGapMeter

log = logging.getLogger(__name__)

TICK_S = 0.02


class Switcher:
    def __init__(
        self,
        primary: CaptureService,
        secondary: CaptureService | None,
        settings: FailoverSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._captures = {PRIMARY: primary, **({SECONDARY: secondary} if secondary else {})}
        self.settings = settings or FailoverSettings()
        self._policy = FailoverPolicy(self.settings, has_secondary=secondary is not None)
        self._clock = clock
        self._lock = threading.Lock()
        self._verdicts: dict[str, Verdict] = {role: Verdict(SourceState.STARTING, "opening") for role in self._captures}
        self._on_program = PRIMARY
        self._wanted_lock: Lock | None = None
        self._returning_at: float | None = None  # when automation goes back to the primary (dwell running)
        self._switch_listeners: list[Callable[[Switch], None]] = []
        self._cut_listeners: list[Callable[[ProgramCut], None]] = []
        self._decided: dict[str, Switch] = {}  # the last switch to each target, until its cut is seen
        self.switch_count = 0
        self.last_switch: Switch | None = None
        self._program: FeedReader[ProgramFrame, FrameStamp] | None = None
        self._gaps = ProgramGapMeter(self._cut_seen)
        self._program_delay: Callable[[str], float | None] = lambda _role: None
        self._worker = Worker("booth-switcher", every(TICK_S, self._tick), "Source switching")

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self._captures)

    def feeds(self) -> dict[str, Feed]:  # type: ignore[type-arg]
        """Each source's newest-frame feed, by role: the compositor reads them."""
        return {role: capture.frames for role, capture in self._captures.items()}

    def measure_cuts(self, program: Feed[ProgramFrame, FrameStamp]) -> None:
        """Read every program frame's stamp, so cuts are reported with the gap viewers saw."""
        self._program = program.reader()

    def measure_program_delay(self, sender_to_program_ms: Callable[[str], float | None]) -> None:
        """Where a source is on program, its status gives sender → program (measured in the program
        frames) instead of sender → Booth."""
        self._program_delay = sender_to_program_ms

    # -- for the compositor -------------------------------------------------------------------

    @property
    def on_program(self) -> str:
        with self._lock:
            return self._on_program

    # -- for the host -------------------------------------------------------------------------

    def on_switch(self, listener: Callable[[Switch], None]) -> None:
        """`listener` runs on the switcher thread for every decision to cut, with its reason."""
        self._switch_listeners.append(listener)

    def on_cut(self, listener: Callable[[ProgramCut], None]) -> None:
        """`listener` runs on the switcher thread once a cut has reached the program, with its gap."""
        self._cut_listeners.append(listener)

    @property
    def lock(self) -> Lock:
        with self._lock:
            return self._wanted_lock or self._policy.lock

    def set_lock(self, lock: Lock) -> None:
        """Never blocks: the switcher thread applies it on its next tick (woken now)."""
        with self._lock:
            self._wanted_lock = lock
        self._worker.wake()

    def reconnect_now(self) -> None:
        for capture in self._captures.values():
            if capture.status().state is not SourceState.LIVE:
                capture.reconnect_now()

    def statuses(self) -> list[SourceStatus]:
        """Each source as the host should see it: the judged state, not just the reader's."""
        with self._lock:
            verdicts = dict(self._verdicts)
        result = []
        for role, capture in self._captures.items():
            status = capture.status()
            verdict = verdicts[role]
            message = verdict.reason if verdict.state is not SourceState.LIVE else ""
            delay = self._program_delay(role) if role == self.on_program else None
            result.append(dataclasses.replace(status, state=verdict.state, message=message,
                                              delay_ms=delay if delay is not None else status.delay_ms))  # fmt: skip
        return result

    @property
    def returning_in_s(self) -> float | None:
        """Seconds until the program goes back to the primary (its healthy dwell is running), else None."""
        with self._lock:
            at = self._returning_at
        return None if at is None else max(0.0, at - self._clock())

    @property
    def problems(self) -> list[str]:
        found = [p for p in (self._worker.problem, *(c.problem for c in self._captures.values())) if p]
        return found

    # -- the worker ---------------------------------------------------------------------------

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def evaluate(self) -> None:
        """One judgement of every source and one decision (the worker calls this every tick)."""
        now = self._clock()
        verdicts = {role: judge(capture.observe(), now, self.settings) for role, capture in self._captures.items()}
        for role, verdict in verdicts.items():
            self._watch_for_hung_reader(role, verdict)
        with self._lock:
            if self._wanted_lock is not None:
                self._policy.set_lock(self._wanted_lock)
                log.info("source lock: %s", self._wanted_lock.value)
                self._wanted_lock = None
            for role, verdict in verdicts.items():
                if verdict.state != self._verdicts[role].state:
                    log.info("%s source %s %s", role, verdict.state.value, verdict.reason)
            self._verdicts = verdicts
            switch = self._policy.decide(verdicts[PRIMARY], verdicts.get(SECONDARY), now)
            self._on_program = self._policy.on_program
            left = self._policy.returning_in(now)
            self._returning_at = None if left is None else now + left
            if switch is not None:
                self.switch_count += 1
                self.last_switch = switch
                self._decided[switch.to_source] = switch
        if switch is not None:
            log.warning("program cut %s → %s: %s", switch.from_source, switch.to_source, switch.reason)
            for listener in self._switch_listeners:
                listener(switch)

    def _tick(self) -> None:
        self.evaluate()
        if self._program is not None:
            for stamp in self._program.history():
                self._gaps(stamp)

    def _cut_seen(self, cut: ProgramCut) -> None:
        decided = self._decided.get(cut.to_source)
        if decided is not None:
            cut = dataclasses.replace(cut, reason=decided.reason, automatic=decided.automatic)
        for listener in self._cut_listeners:
            listener(cut)

    def _watch_for_hung_reader(self, role: str, verdict: Verdict) -> None:
        capture = self._captures[role]
        status = capture.status()
        if (
            verdict.state is SourceState.STALLED
            and status.state is SourceState.LIVE  # the reader itself has not noticed
            and status.last_frame_age_s is not None
            and status.last_frame_age_s >= self.settings.hung_after_s
        ):
            capture.abandon_reader(f"no frame for {status.last_frame_age_s:.1f} s and the read has not returned")


__all__ = ["SLATE", "Switcher"]
