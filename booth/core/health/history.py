"""The last minutes of a few figures, one point per second, for the tech lead's plots."""

from __future__ import annotations

import math
from collections import deque

from booth.core.health.snapshot import HealthSnapshot


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
    def __init__(self, span_s: float = 600.0, step_s: float = 1.0) -> None:
        self.span_s = span_s
        self.step_s = step_s
        self._points: deque[tuple[float, dict[str, float | None]]] = deque()

    def add(self, snapshot: HealthSnapshot) -> bool:
        """Record the snapshot if a step has passed since the last point; True if recorded."""
        t = snapshot.taken_at
        if self._points and t - self._points[-1][0] < self.step_s * 0.95:
            return False
        self._points.append((t, figures(snapshot)))
        while self._points and t - self._points[0][0] > self.span_s:
            self._points.popleft()
        return True

    def __len__(self) -> int:
        return len(self._points)

    def figure_names(self) -> list[str]:
        seen: dict[str, None] = {}
        for _, values in self._points:
            seen.update(dict.fromkeys(values))
        return list(seen)

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """(seconds relative to the newest point, values) with NaN where there was no reading."""
        if not self._points:
            return [], []
        newest = self._points[-1][0]
        xs, ys = [], []
        for t, values in self._points:
            v = values.get(key)
            xs.append(t - newest)
            ys.append(math.nan if v is None else float(v))
        return xs, ys
