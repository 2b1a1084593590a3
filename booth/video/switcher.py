"""The watchdog and program switcher: judges every source from outside its reading thread.

Runs on its own thread (`booth-switcher`) every 20 ms, so a reader blocked inside a device
call can never delay a cut. The compositor asks `active()` for each program frame.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
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
from booth.core.frames import SourceFrame
from booth.core.source_state import SourceState, SourceStatus
from booth.runtime.feed import FrameSlot
from booth.runtime.worker import Periodic
from booth.video.capture import CaptureService

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
        self._listeners: list[Callable[[Switch], None]] = []
        self.switches: deque[Switch] = deque(maxlen=200)
        self._ticker = Periodic("booth-switcher", TICK_S, self.evaluate)

    # -- for the compositor -------------------------------------------------------------------

    def active(self) -> tuple[str, FrameSlot[SourceFrame]] | None:
        with self._lock:
            name = self._on_program
        if name == SLATE:
            return None
        return name, self._captures[name].slot

    # -- for the host -------------------------------------------------------------------------

    def on_switch(self, listener: Callable[[Switch], None]) -> None:
        """`listener` runs on the switcher thread for every cut, with its reason."""
        self._listeners.append(listener)

    @property
    def on_program(self) -> str:
        with self._lock:
            return self._on_program

    @property
    def lock(self) -> Lock:
        with self._lock:
            return self._policy.lock

    def set_lock(self, lock: Lock) -> None:
        with self._lock:
            self._policy.set_lock(lock)
        log.info("source lock: %s", lock.value)
        self.evaluate()

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
            result.append(dataclasses.replace(status, state=verdict.state, message=message))
        return result

    # -- the thread ---------------------------------------------------------------------------

    def start(self) -> None:
        self._ticker.start()

    def stop(self) -> None:
        self._ticker.stop()

    def evaluate(self) -> None:
        now = self._clock()
        verdicts = {role: judge(capture.observe(), now, self.settings) for role, capture in self._captures.items()}
        for role, verdict in verdicts.items():
            self._watch_for_hung_reader(role, verdict, now)
        with self._lock:
            for role, verdict in verdicts.items():
                if verdict.state != self._verdicts[role].state:
                    log.info("%s source %s %s", role, verdict.state.value, verdict.reason)
            self._verdicts = verdicts
            switch = self._policy.decide(verdicts[PRIMARY], verdicts.get(SECONDARY), now)
            self._on_program = self._policy.on_program
        if switch is not None:
            self.switches.append(switch)
            log.warning("program cut %s → %s: %s", switch.from_source, switch.to_source, switch.reason)
            for listener in self._listeners:
                listener(switch)

    def _watch_for_hung_reader(self, role: str, verdict: Verdict, now: float) -> None:
        capture = self._captures[role]
        obs_age = capture.status().last_frame_age_s
        reader_thinks_live = capture.status().state is SourceState.LIVE
        if (
            verdict.state is SourceState.STALLED
            and reader_thinks_live
            and obs_age is not None
            and obs_age >= self.settings.hung_after_s
        ):
            capture.abandon_reader(f"no frame for {obs_age:.1f} s and the read has not returned")
