"""A few rig figures over time, for the tech lead's plots: kept from start-up, whoever is looking.

One point per `step_s` (2 s) for `span_s` (4 h) at most: 7200 points of a dozen numbers, a few
hundred kB. Each point is a tuple lined up with `names` (a name seen later — a new endpoint —
is simply missing from older points), so a long history stays small.
"""

from __future__ import annotations

import math
from collections import deque

from booth.core.health.snapshot import HealthSnapshot

SPAN_S = 4 * 3600.0
STEP_S = 2.0


def figures(snapshot: HealthSnapshot) -> dict[str, float | None]:
    """The plotted figures of one snapshot: fixed keys plus one `rtt_ms.<endpoint>` per endpoint."""
    s = snapshot.system
    hottest = s.hottest if s else None
    out: dict[str, float | None] = {
        "battery_percent": snapshot.power.percent,
        "cpu_percent": s.cpu_percent if s else None,
        "process_cpu_percent": s.process_cpu_percent if s else None,
        "memory_percent": s.memory_percent if s else None,
        "temperature_c": hottest.celsius if hottest else None,
        "mic_peak_dbfs": snapshot.mic.meter.peak_dbfs if snapshot.mic.meter else None,
        "mic_rms_dbfs": snapshot.mic.meter.rms_dbfs if snapshot.mic.meter else None,
    }
    for e in snapshot.endpoints:
        out[f"rtt_ms.{e.name}"] = e.srtt_s * 1000 if e.srtt_s is not None else None
        out[f"loss_percent.{e.name}"] = e.loss_percent
    tx = [i.tx_bps for i in snapshot.interfaces if i.tx_bps is not None]
    out["upload_mbps"] = sum(tx) / 1e6 if tx else None
    return out


class HealthHistory:
    def __init__(self, span_s: float = SPAN_S, step_s: float = STEP_S) -> None:
        self.span_s = span_s
        self.step_s = step_s
        self._names: dict[str, int] = {}  # figure name → its place in every point's tuple
        self._points: deque[tuple[float, tuple[float | None, ...]]] = deque()

    def add(self, snapshot: HealthSnapshot) -> bool:
        """Record the snapshot if a step has passed since the last point; True if recorded."""
        t = snapshot.taken_at
        if self._points and t - self._points[-1][0] < self.step_s * 0.95:
            return False
        values = figures(snapshot)
        for name in values:
            self._names.setdefault(name, len(self._names))
        row: list[float | None] = [None] * len(self._names)
        for name, value in values.items():
            row[self._names[name]] = value
        self._points.append((t, tuple(row)))
        while self._points and t - self._points[0][0] > self.span_s:
            self._points.popleft()
        return True

    def __len__(self) -> int:
        return len(self._points)

    @property
    def covered_s(self) -> float:
        """Seconds from the oldest point kept to the newest."""
        return self._points[-1][0] - self._points[0][0] if self._points else 0.0

    def figure_names(self) -> list[str]:
        return list(self._names)

    def series(self, key: str, last_s: float | None = None) -> tuple[list[float], list[float]]:
        """(seconds relative to the newest point, values) with NaN where there was no reading;
        only the last `last_s` seconds when given."""
        index = self._names.get(key)
        if not self._points or index is None:
            return [], []
        newest = self._points[-1][0]
        xs, ys = [], []
        for t, row in self._points:
            if last_s is not None and newest - t > last_s:
                continue
            v = row[index] if index < len(row) else None
            xs.append(t - newest)
            ys.append(math.nan if v is None else float(v))
        return xs, ys
