"""Marked moments: points in the program worth a clip (first sale, low stock, sold out, cuts…)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from booth.core.drop import DropView
from booth.core.events import DropEvent
from booth.core.output import Moment, MomentDetector

log = logging.getLogger(__name__)


class DropSource(Protocol):
    def on_applied(self, listener: Callable[[DropEvent], None]) -> None: ...

    def view(self) -> DropView: ...


class MomentLog:
    """Moments in the order they were marked. Times are kept on the monotonic clock (the replay
    buffer's timeline); `moments()` reports them as seconds since the output started."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._moments: list[Moment] = []
        self._listeners: list[Callable[[Moment], None]] = []
        self._detector = MomentDetector()
        self.started_at = clock()

    def on_moment(self, listener: Callable[[Moment], None]) -> None:
        """`listener(moment)` for every marked moment, on the thread that marked it."""
        self._listeners.append(listener)

    def mark(self, reason: str) -> Moment:
        now = self._clock()
        with self._lock:
            moment = Moment(len(self._moments), reason, now - self.started_at, self._wall())
            self._moments.append(replace(moment, stream_s=now))  # keep the monotonic time inside
        log.info("moment %d marked: %s", moment.index, reason)
        for listener in self._listeners:
            listener(moment)
        return moment

    def at(self, index: int) -> float | None:
        """The monotonic time of moment `index`, or None if there is none."""
        with self._lock:
            return self._moments[index].stream_s if 0 <= index < len(self._moments) else None

    def moments(self) -> tuple[Moment, ...]:
        with self._lock:
            return tuple(replace(m, stream_s=max(0.0, m.stream_s - self.started_at)) for m in self._moments)

    def __len__(self) -> int:
        with self._lock:
            return len(self._moments)

    def watch_drop(self, drop: DropSource) -> None:
        """Mark commerce moments automatically: first sale, each low-stock level, sold out."""

        def on_applied(_event: DropEvent) -> None:
            for reason in self._detector.feed(drop.view()):
                self.mark(reason)

        drop.on_applied(on_applied)
