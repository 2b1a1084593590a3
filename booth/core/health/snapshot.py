"""The latest-wins picture of the rig that the UI, `booth check` and /metrics read."""

from __future__ import annotations

from dataclasses import dataclass

from booth.core.health.alerts import Alert, Severity
from booth.core.health.meter import MicState, MicStatus
from booth.core.health.network import EndpointStats, InterfaceStatus
from booth.core.health.power import PowerStatus, PowerVerdict
from booth.core.health.system import DiskStatus, SystemReading


@dataclass(frozen=True)
class HealthSnapshot:
    seq: int  # increases by one per published snapshot
    taken_at: float  # monotonic
    wall: float
    power: PowerStatus
    system: SystemReading | None
    disk: DiskStatus | None
    interfaces: tuple[InterfaceStatus, ...]
    endpoints: tuple[EndpointStats, ...]
    mic: MicStatus
    alerts: tuple[Alert, ...]  # worst first
    output_bitrate_bps: float = 0.0

    @property
    def worst(self) -> Alert | None:
        return self.alerts[0] if self.alerts else None

    @property
    def for_host(self) -> tuple[Alert, ...]:
        """What the host's alert line may show, worst first: warn or worse, and not already clearing.
        Info items need no action, so they stay in the tech lead's view."""
        return tuple(a for a in self.alerts if a.severity >= Severity.WARN and not a.clearing)

    @property
    def severity(self) -> Severity:
        return self.alerts[0].severity if self.alerts else Severity.OK

    def endpoint(self, name: str) -> EndpointStats | None:
        return next((e for e in self.endpoints if e.name == name), None)


def empty_snapshot(now: float = 0.0, wall: float = 0.0) -> HealthSnapshot:
    """What the UI shows before the first sample arrives."""
    return HealthSnapshot(
        seq=0,
        taken_at=now,
        wall=wall,
        power=PowerStatus(PowerVerdict.UNKNOWN, detail="no reading yet"),
        system=None,
        disk=None,
        interfaces=(),
        endpoints=(),
        mic=MicStatus(MicState.OPENING, detail="not started"),
        alerts=(),
    )


def health_samples(snapshot: HealthSnapshot, program_fps: float) -> dict[str, float]:
    """The figures the session log keeps (metric names from booth.store.kinds.HEALTH_METRICS)."""
    samples: dict[str, float] = {"program_fps": program_fps}
    power = snapshot.power
    if power.percent is not None:
        samples["battery_pct"] = power.percent
    if power.forecast_min is not None:
        samples["battery_min_left"] = power.forecast_min
    rtts = [e.srtt_s for e in snapshot.endpoints if e.srtt_s is not None]
    if rtts:
        samples["rtt_ms"] = max(rtts) * 1000
    losses = [e.loss_percent for e in snapshot.endpoints if e.loss_percent is not None]
    if losses:
        samples["loss_pct"] = max(losses)
    if snapshot.system is not None and snapshot.system.cpu_percent is not None:
        samples["cpu_pct"] = snapshot.system.cpu_percent
    if snapshot.disk is not None and snapshot.disk.free_bytes is not None:
        samples["disk_free_gb"] = snapshot.disk.free_bytes / 1e9
    return samples
