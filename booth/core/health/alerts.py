"""Alert severities, hysteresis and a de-duplicating alert book.

A figure raises its level as soon as it crosses an *enter* threshold, and lowers it only
after it has stayed on the good side of the *exit* threshold for `clear_after_s`, so a
value hovering at a threshold never flaps. The book keeps one alert per key: the same
condition re-evaluated is the same alert (same `since`), only its sentence's number moves.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    OK = 0
    INFO = 1
    WARN = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Alert:
    key: str  # stable identity, e.g. "battery", "endpoint.ingest.rtt"
    severity: Severity
    message: str  # one sentence with its number, for the host
    since: float  # monotonic time it entered this severity
    # The cause is gone and the figure is waiting out its quiet spell before the alert clears:
    # kept (so a hovering value never flaps), but no longer something the host must act on.
    clearing: bool = False


@dataclass(frozen=True)
class Levels:
    """Enter/exit thresholds for one figure. `None` disables a level."""

    warn: float | None = None
    warn_exit: float | None = None
    critical: float | None = None
    critical_exit: float | None = None
    higher_is_worse: bool = True

    def _crossed(self, value: float, threshold: float | None) -> bool:
        if threshold is None:
            return False
        return value >= threshold if self.higher_is_worse else value <= threshold

    def entered(self, value: float) -> Severity:
        if self._crossed(value, self.critical):
            return Severity.CRITICAL
        if self._crossed(value, self.warn):
            return Severity.WARN
        return Severity.OK

    def held(self, value: float, current: Severity) -> Severity:
        """The highest level ≤ `current` the value has not yet left through its exit threshold."""
        crit_exit = self.critical_exit if self.critical_exit is not None else self.critical
        warn_exit = self.warn_exit if self.warn_exit is not None else self.warn
        if current >= Severity.CRITICAL and self._crossed(value, crit_exit):
            return Severity.CRITICAL
        if current >= Severity.WARN and self._crossed(value, warn_exit):
            return Severity.WARN
        return Severity.OK


class Hysteresis:
    """The alert level of one figure over time."""

    def __init__(self, levels: Levels, clear_after_s: float = 3.0) -> None:
        self.levels = levels
        self.clear_after_s = clear_after_s
        self.state = Severity.OK
        self._clearing_since: float | None = None

    def update(self, value: float | None, now: float) -> Severity:
        if value is None:  # no reading: keep what we had
            return self.state
        entered = self.levels.entered(value)
        if entered > self.state:
            self.state = entered
            self._clearing_since = None
            return self.state
        held = max(self.levels.held(value, self.state), entered)
        if held >= self.state:
            self._clearing_since = None
            return self.state
        if self._clearing_since is None:
            self._clearing_since = now
        if now - self._clearing_since >= self.clear_after_s:
            self.state = held
            self._clearing_since = None
        return self.state

    @property
    def clearing(self) -> bool:
        """Raised, but the value is back on the good side and the quiet spell is running."""
        return self.state > Severity.OK and self._clearing_since is not None

    def reset(self) -> None:
        self.state = Severity.OK
        self._clearing_since = None


class Flag(Hysteresis):
    """A yes/no condition with the same hysteresis: raised at once, cleared after a quiet spell."""

    def __init__(self, severity: Severity, clear_after_s: float = 3.0) -> None:
        levels = (
            Levels(critical=1.0, critical_exit=0.5)
            if severity is Severity.CRITICAL
            else Levels(warn=1.0, warn_exit=0.5)
        )
        super().__init__(levels, clear_after_s)
        self.severity = severity

    def set(self, condition: bool | None, now: float) -> Severity:
        state = self.update(None if condition is None else float(condition), now)
        # an INFO flag is stored as WARN internally; report what was asked for
        return self.severity if state > Severity.OK else Severity.OK


@dataclass(frozen=True)
class AlertChange:
    alert: Alert
    previous: Severity  # OK when the alert is new; alert.severity is OK when it cleared


class AlertBook:
    """The active alerts, one per key, with the transitions since the last call."""

    def __init__(self) -> None:
        self._active: dict[str, Alert] = {}

    def set(self, key: str, severity: Severity, message: str, now: float, clearing: bool = False) -> AlertChange | None:
        old = self._active.get(key)
        if severity is Severity.OK:
            if old is None:
                return None
            del self._active[key]
            return AlertChange(Alert(key, Severity.OK, message or old.message, now), old.severity)
        if old is not None and old.severity is severity:
            self._active[key] = Alert(key, severity, message, old.since, clearing)
            return None
        self._active[key] = Alert(key, severity, message, now, clearing)
        return AlertChange(self._active[key], old.severity if old else Severity.OK)

    def clear_missing(self, keys: Collection[str], now: float) -> list[AlertChange]:
        """Drop alerts whose subject disappeared (an endpoint removed, a sensor gone)."""
        changes = []
        for key in [k for k in self._active if k not in keys]:
            change = self.set(key, Severity.OK, "", now)
            if change:
                changes.append(change)
        return changes

    def active(self) -> tuple[Alert, ...]:
        """Worst first; among equals the oldest first."""
        return tuple(sorted(self._active.values(), key=lambda a: (-a.severity, a.since, a.key)))

    def worst(self) -> Alert | None:
        alerts = self.active()
        return alerts[0] if alerts else None
