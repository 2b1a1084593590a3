"""Measures each cut's viewer-visible gap in the program frames themselves.

The gap is the time from the last fresh picture before a cut to the first fresh picture after
it: what a viewer saw as a held frame (or the slate). It reads the stamps of every program frame
(`Feed.history`), so it sees exactly what went out; it only does arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from booth.core.failover import SLATE


class Stamped(Protocol):
    @property
    def source(self) -> str: ...
    @property
    def repeat(self) -> bool: ...
    @property
    def composed_at(self) -> float: ...


@dataclass(frozen=True)
class ProgramCut:
    from_source: str
    to_source: str
    gap_ms: float | None  # None for a cut to the slate: the outage goes on until a source is back
    at: float  # monotonic time of the first picture after the cut
    reason: str = ""  # why the switcher cut, in words
    automatic: bool = True  # False when the host's lock made the cut


class ProgramGapMeter:
    def __init__(self, on_cut: Callable[[ProgramCut], None]) -> None:
        self._on_cut = on_cut
        self._showing: str | None = None
        self._last_fresh_at: float | None = None
        self._pending: tuple[str, str] | None = None  # a cut whose first fresh picture has not come yet

    def __call__(self, frame: Stamped) -> None:
        if self._showing is not None and frame.source != self._showing:
            self._pending = (self._showing, frame.source)
            if frame.source == SLATE:
                self._on_cut(ProgramCut(self._showing, SLATE, None, frame.composed_at))
                self._pending = (SLATE, SLATE)
        self._showing = frame.source
        if frame.repeat or frame.source == SLATE:
            return
        if self._pending is not None and self._last_fresh_at is not None:
            from_source = self._pending[0]
            gap_ms = (frame.composed_at - self._last_fresh_at) * 1000
            self._on_cut(ProgramCut(from_source, frame.source, gap_ms, frame.composed_at))
        self._pending = None
        self._last_fresh_at = frame.composed_at
