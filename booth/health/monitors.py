"""Rig monitors: workers that turn sensors and probes into health snapshots.

Workers (each named, all joined by `HealthMonitor.stop`):
- `booth-health`: samples psutil once a second and publishes a `HealthSnapshot` every
  `refresh_s` (0.25 s) — alerts are evaluated there, so their hysteresis runs on one cadence;
- `booth-probe-<endpoint>`: one per endpoint, so a hanging endpoint delays nobody else.
The microphone is the audio slice's (`booth.audio.microphone`); its status and the disk guard's
reading come in as plain callables.

The UI pulls `latest()` on its own timer (latest-wins, never queued); plain callbacks
(`on_snapshot`, `on_alert`) run on the `booth-health` thread. Nothing here needs Qt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from booth.core.clock import Clock, SystemClock
from booth.core.health.alerts import AlertChange, Severity
from booth.core.health.meter import MicState, MicStatus
from booth.core.health.network import EndpointState, EndpointStats, InterfaceStatus, LinkStats
from booth.core.health.power import DrainEstimator, PowerStatus, PowerVerdict, assess_power
from booth.core.health.rules import HealthRules
from booth.core.health.settings import HealthConfig
from booth.core.health.snapshot import HealthSnapshot, empty_snapshot
from booth.core.health.system import DiskStatus, SystemReading
from booth.devices.health_probes import Probe, make_probe
from booth.devices.health_system import PsutilSensors, SensorError, SystemSensors
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 3.0


# ---------------------------------------------------------------------- endpoints
class ProbeMonitor:
    """Probes one endpoint every `interval_s`; after a failure it re-probes at once to confirm."""

    # Loss is judged over 60 probes (30 s at 0.5 s): over 20, one lost probe is already 5 % (critical).
    def __init__(self, probe: Probe, interval_s: float = 0.5, timeout_s: float = 0.6, clock: Clock | None = None,
                 window: int = 60) -> None:
        self.worker = Worker(f"booth-probe-{probe.name}", self.step, f"Probe of {probe.name}",
                             on_stop=probe.close)  # fmt: skip
        self.probe = probe
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._link = LinkStats(window)
        self._inflight_since: float | None = None

    def step(self) -> float:
        started = self._clock.monotonic()
        with self._lock:
            self._inflight_since = started
        result = self.probe.probe()
        with self._lock:
            was_failing = self._link.consecutive_failures > 0
            self._link.add(result)
            self._inflight_since = None
        if not result.ok and not was_failing:
            log.info("%s: probe failed (%s); confirming", self.probe.name, result.error)
            return 0.0
        if result.ok and was_failing:
            log.info("%s: answering again (%.0f ms)", self.probe.name, (result.rtt_s or 0) * 1000)
        return max(0.0, self.interval_s - (self._clock.monotonic() - started))

    def probe_once(self) -> None:
        """Run one probe on the caller's thread (tests, `booth check`)."""
        self.step()

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()

    def stats(self, now: float | None = None) -> EndpointStats:
        now = self._clock.monotonic() if now is None else now
        with self._lock:
            stats = self._link.stats(self.probe.name, self.probe.label)
            inflight = self._inflight_since
        stuck_after = 2 * self.timeout_s + 0.25
        if inflight is not None and now - inflight > stuck_after:  # e.g. a resolver that ignores timeouts
            failures = max(stats.consecutive_failures + 1, self._link.unreachable_after)
            stats = replace(stats, state=EndpointState.UNREACHABLE, consecutive_failures=failures,
                            last_error=f"no answer for {now - inflight:.1f} s (probe stuck)")
        return stats


# ---------------------------------------------------------------------- everything
class HealthMonitor:
    """Samples the system, gathers endpoint and mic figures, evaluates alerts, publishes snapshots.

    `mic()`: the microphone's status (None: no microphone wanted). `disk()`: the disk guard's
    newest reading. `output_bitrate_bps()`: what the stream sends, for upload headroom."""

    def __init__(
        self,
        config: HealthConfig,
        sensors: SystemSensors,
        probes: Sequence[ProbeMonitor] = (),
        mic: Callable[[], MicStatus] | None = None,
        clock: Clock | None = None,
        drop_need_s: Callable[[], float | None] = lambda: None,
        output_bitrate_bps: Callable[[], float] | None = None,
        refresh_s: float = 0.25,
        system_every_s: float = 1.0,
        disk: Callable[[], DiskStatus | None] = lambda: None,
    ) -> None:
        self.worker = Worker("booth-health", self.step, "Rig health")
        self.config = config
        self._disk_reading = disk
        self.sensors = sensors
        self.probes = tuple(probes)
        self.mic = mic
        self._clock = clock or SystemClock()
        self.drop_need_s = drop_need_s
        self._output_bitrate = output_bitrate_bps or (lambda: 0.0)
        self.refresh_s = refresh_s
        self.system_every_s = system_every_s
        self.rules = HealthRules(config.thresholds, config.mic if config.mic_wanted else "")
        self._drain = DrainEstimator()
        self._lock = threading.Lock()
        self._latest = empty_snapshot(self._clock.monotonic(), self._clock.wall())
        self._seq = 0
        self._next_system_at = 0.0
        self._system: SystemReading | None = None
        self._disk: DiskStatus | None = None
        self._interfaces: tuple[InterfaceStatus, ...] = ()
        self._power_raw: PowerStatus = PowerStatus(PowerVerdict.UNKNOWN, detail="no reading yet")
        self._snapshot_listeners: list[Callable[[HealthSnapshot], None]] = []
        self.last_refresh_cost_s = 0.0  # wall time of the last refresh on the booth-health thread
        self._alert_listeners: list[Callable[[AlertChange], None]] = []

    @classmethod
    def from_config(
        cls,
        config: HealthConfig,
        clock: Clock | None = None,
        drop_need_s: Callable[[], float | None] = lambda: None,
        sensors: SystemSensors | None = None,
        **kwargs: object,
    ) -> HealthMonitor:
        """The real rig: psutil and the configured endpoints."""
        clock = clock or SystemClock()
        probes = [
            ProbeMonitor(make_probe(e, clock.monotonic), e.interval_s, e.timeout_s, clock) for e in config.endpoints
        ]
        return cls(config, sensors or PsutilSensors(), probes, clock=clock, drop_need_s=drop_need_s,
                   **kwargs)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ listeners
    def add_snapshot_listener(self, callback: Callable[[HealthSnapshot], None]) -> None:
        """Called on the `booth-health` thread with every new snapshot; keep it short."""
        self._snapshot_listeners.append(callback)

    def add_alert_listener(self, callback: Callable[[AlertChange], None]) -> None:
        """Called once per alert transition (raised, changed severity, cleared)."""
        self._alert_listeners.append(callback)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        for p in self.probes:
            p.worker.start()
        self.worker.start()

    def stop(self) -> None:
        workers = [self.worker, *(p.worker for p in self.probes)]
        for w in workers:
            w.request_stop()
        for w in workers:
            w.join()

    @property
    def problem(self) -> str | None:
        return self.worker.problem

    def step(self) -> float:
        started = self._clock.monotonic()
        self.refresh_now()
        self.last_refresh_cost_s = self._clock.monotonic() - started
        return max(0.0, self.refresh_s - self.last_refresh_cost_s)

    # ------------------------------------------------------------------ sampling
    def sample_system(self) -> None:
        now = self._clock.monotonic()
        need = self._need()
        try:
            reading = self.sensors.battery()
        except SensorError as exc:
            self._power_raw = PowerStatus(PowerVerdict.UNKNOWN, detail=str(exc), need_min=None if need is None
                                          else need / 60)
        else:
            if reading is not None:
                self._drain.add(now, reading.percent, reading.plugged)
            self._power_raw = assess_power(reading, self._drain.rate_pct_per_min(), need,
                                           self.config.thresholds.battery_warn_percent,
                                           self.config.thresholds.battery_critical_percent)
        self._system = self.sensors.system()
        self._interfaces = self.sensors.interfaces(now)

    def _need(self) -> float | None:
        try:
            return self.drop_need_s()
        except Exception:
            log.exception("drop_need_s failed")
            return None

    def refresh_now(self) -> HealthSnapshot:
        """Sample what is due, evaluate alerts and publish a snapshot, on the caller's thread."""
        now = self._clock.monotonic()
        if now >= self._next_system_at:
            self._next_system_at = now + self.system_every_s
            self.sample_system()
        elif self._power_raw.has_battery:
            # the drop's remaining time moves every refresh even when the battery is not re-read
            need = self._need()
            self._power_raw = replace(self._power_raw, need_min=None if need is None else need / 60)
        self._disk = self._disk_reading()
        endpoints = tuple(p.stats(now) for p in self.probes)
        mic = self.mic() if self.mic is not None else MicStatus(MicState.DISABLED, detail="mic = none")
        evaluation = self.rules.evaluate(now, self._power_raw, self._system, self._disk, self._interfaces,
                                         endpoints, mic)
        with self._lock:
            self._seq += 1
            snapshot = HealthSnapshot(
                seq=self._seq,
                taken_at=now,
                wall=self._clock.wall(),
                power=evaluation.power,
                system=self._system,
                disk=self._disk,
                interfaces=self._interfaces,
                endpoints=endpoints,
                mic=mic,
                alerts=evaluation.alerts,
                output_bitrate_bps=self._output_bitrate(),
            )
            self._latest = snapshot
        for change in evaluation.changes:
            _log_change(change)
            for cb in self._alert_listeners:
                _safe_call(cb, change)
        for listener in self._snapshot_listeners:
            _safe_call(listener, snapshot)
        return snapshot

    def latest(self) -> HealthSnapshot:
        """The newest snapshot; cheap, safe from any thread (the UI calls it every ≤500 ms)."""
        with self._lock:
            return self._latest


def _log_change(change: AlertChange) -> None:
    a = change.alert
    if a.severity is Severity.OK:
        log.info("alert cleared [%s]: %s", a.key, a.message)
    elif a.severity >= Severity.WARN:
        log.warning("alert %s [%s]: %s", a.severity.label, a.key, a.message)
    else:
        log.info("alert %s [%s]: %s", a.severity.label, a.key, a.message)


def _safe_call(callback: Callable[..., None], arg: object) -> None:
    try:
        callback(arg)
    except Exception:
        log.exception("health listener failed")
