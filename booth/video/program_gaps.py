"""Measures each cut's viewer-visible gap in the program frames themselves.

The gap is the time from the last fresh picture before a cut to the first fresh picture after
it: what a viewer saw as a held frame (or the slate). Runs as a compositor listener, so it sees
exactly what went out; it only does arithmetic and hands a record to a callback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from booth.core.failover import SLATE
from booth.core.frames import ProgramFrame


@dataclass(frozen=True)
class ProgramCut:
    from_source: str
    to_source: str
    gap_ms: float | None  # None for a cut to the slate: the outage goes on until a source is back
    at: float  # monotonic time of the first picture after the cut


class ProgramGapMeter:
    def __init__(self, on_cut: Callable[[ProgramCut], None]) -> None:
        self._on_cut = on_cut
        self._showing: str | None = None
        self._last_fresh_at: float | None = None
        self._pending: tuple[str, str] | None = None  # a cut whose first fresh picture has not come yet

    def __call__(self, frame: ProgramFrame) -> None:  # compositor thread
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
