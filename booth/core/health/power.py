"""Power: battery readings, our own drain-rate forecast, and the verdict against the drop.

The verdict compares the minutes the battery has left with the minutes the drop still needs:
under 2× the need is "at risk" (warn), under 1× is "no-go" (critical). Absolute backstops at
10 % and 7 % hold whatever the drop needs. A machine without a battery runs on mains power.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum


@dataclass(frozen=True)
class BatteryReading:
    """One battery sample, already translated from the OS's conventions.

    `os_seconds_left` is None when the OS does not know or the battery is not draining
    (psutil's POWER_TIME_UNKNOWN / POWER_TIME_UNLIMITED); `plugged` None when not reported.
    """

    percent: float
    os_seconds_left: float | None
    plugged: bool | None


class PowerVerdict(StrEnum):
    MAINS = "mains power"  # no battery at all
    CHARGING = "on charger"
    GO = "go"
    AT_RISK = "at risk"
    NO_GO = "no-go"
    ESTIMATING = "estimating"  # on battery, not enough history and the OS gives no estimate
    UNKNOWN = "unknown"  # the reading failed


@dataclass(frozen=True)
class PowerStatus:
    verdict: PowerVerdict
    percent: float | None = None
    plugged: bool | None = None
    os_minutes_left: float | None = None
    drain_pct_per_min: float | None = None
    forecast_min: float | None = None  # ours when we have a drain rate, else the OS's
    forecast_source: str | None = None  # "drain" | "os"
    need_min: float | None = None  # minutes the drop still needs; None when no drop is running
    detail: str = ""

    @property
    def has_battery(self) -> bool:
        return self.verdict not in (PowerVerdict.MAINS, PowerVerdict.UNKNOWN)


class DrainEstimator:
    """Drain rate in %/min from a least-squares fit over the recent battery samples.

    Samples are thinned to one per `sample_every_s`; plugging or unplugging starts over.
    A rate is given once the samples span `min_span_s`; a flat or rising battery gives 0.
    """

    def __init__(self, window_s: float = 600.0, min_span_s: float = 120.0, sample_every_s: float = 5.0) -> None:
        self.window_s = window_s
        self.min_span_s = min_span_s
        self.sample_every_s = sample_every_s
        self._samples: deque[tuple[float, float]] = deque()
        self._plugged: bool | None = None

    def add(self, now: float, percent: float, plugged: bool | None) -> None:
        if plugged != self._plugged:
            self._samples.clear()
            self._plugged = plugged
        if plugged:
            return
        if self._samples and now - self._samples[-1][0] < self.sample_every_s:
            return
        self._samples.append((now, percent))
        while self._samples and now - self._samples[0][0] > self.window_s:
            self._samples.popleft()

    def rate_pct_per_min(self) -> float | None:
        if len(self._samples) < 2 or self._samples[-1][0] - self._samples[0][0] < self.min_span_s:
            return None
        n = len(self._samples)
        mean_t = sum(t for t, _ in self._samples) / n
        mean_p = sum(p for _, p in self._samples) / n
        sxx = sum((t - mean_t) ** 2 for t, _ in self._samples)
        sxy = sum((t - mean_t) * (p - mean_p) for t, p in self._samples)
        if sxx <= 0:
            return None
        slope_per_s = sxy / sxx
        return max(0.0, -slope_per_s * 60.0)


def assess_power(
    reading: BatteryReading | None,
    drain_pct_per_min: float | None,
    need_s: float | None,
    warn_percent: float = 10.0,
    critical_percent: float = 7.0,
) -> PowerStatus:
    """The verdict from one reading (entry thresholds; the monitor adds hysteresis on top)."""
    if reading is None:
        return PowerStatus(PowerVerdict.MAINS, detail="no battery")
    need_min = None if need_s is None else max(0.0, need_s / 60.0)
    os_min = None if reading.os_seconds_left is None else reading.os_seconds_left / 60.0
    forecast, source = forecast_minutes(reading.percent, drain_pct_per_min, os_min)
    base = PowerStatus(
        PowerVerdict.GO,
        percent=reading.percent,
        plugged=reading.plugged,
        os_minutes_left=os_min,
        drain_pct_per_min=drain_pct_per_min,
        forecast_min=forecast,
        forecast_source=source,
        need_min=need_min,
    )
    if reading.plugged:
        return _replace_verdict(base, PowerVerdict.CHARGING)
    verdict = verdict_for(reading.percent, forecast, need_min, warn_percent, critical_percent)
    return _replace_verdict(base, verdict)


def forecast_minutes(
    percent: float, drain_pct_per_min: float | None, os_minutes_left: float | None
) -> tuple[float | None, str | None]:
    if drain_pct_per_min is not None and drain_pct_per_min > 0:
        return percent / drain_pct_per_min, "drain"
    if os_minutes_left is not None:
        return os_minutes_left, "os"
    return None, None


def verdict_for(
    percent: float,
    forecast_min: float | None,
    need_min: float | None,
    warn_percent: float = 10.0,
    critical_percent: float = 7.0,
) -> PowerVerdict:
    if percent <= critical_percent:
        return PowerVerdict.NO_GO
    if forecast_min is not None and need_min:
        if forecast_min < need_min:
            return PowerVerdict.NO_GO
        if forecast_min < 2 * need_min:
            return PowerVerdict.AT_RISK
    if percent <= warn_percent:
        return PowerVerdict.AT_RISK
    if forecast_min is None:
        return PowerVerdict.ESTIMATING
    return PowerVerdict.GO


def _replace_verdict(status: PowerStatus, verdict: PowerVerdict) -> PowerStatus:
    return replace(status, verdict=verdict)


def power_sentence(status: PowerStatus) -> str:
    """'Battery 14 %: about 11 min left, the drop needs 15' — the number the host acts on."""
    if status.verdict is PowerVerdict.MAINS:
        return "Mains power (no battery)"
    if status.percent is None:
        return f"Battery: {status.detail or 'no reading'}"
    head = f"Battery {status.percent:.0f} %"
    if status.plugged:
        return f"{head}: on charger"
    parts = []
    if status.forecast_min is not None:
        parts.append(f"about {status.forecast_min:.0f} min left")
    else:
        parts.append("estimating time left")
    if status.need_min:
        parts.append(f"the drop needs {status.need_min:.0f}")
    return f"{head}: {', '.join(parts)}"
