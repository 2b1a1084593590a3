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
