"""The `[health]` section of the drop config: endpoints to probe, thresholds, microphone.

```toml
[health]
mic = "USB Audio"              # input device by name ("" = the default input, "none" = no mic)
silence_seconds = 10           # no signal for this long = dead mic

[[health.endpoint]]
name = "ingest"
target = "rtmp://live.example.com/app/KEY"   # tcp://host:port, http(s)://…, rtmp(s)://, rtsp://
interval_seconds = 0.5
timeout_seconds = 0.6            # connect and read; an unanswered endpoint is flagged within 2 s
```
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from booth.core.config_table import Table
from booth.core.redact import redact_url

DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443, "rtsp": 554, "http": 80, "https": 443}


class TargetError(ValueError):
    pass


@dataclass(frozen=True)
class ProbeTarget:
    kind: str  # "tcp" | "http"
    host: str
    port: int
    url: str  # the HTTP URL for kind "http"; the original text otherwise


def parse_probe_target(text: str) -> ProbeTarget:
    """'tcp://host:1935', 'https://shop/api/health', 'rtmp://host/app/key' (TCP to 1935)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetError(f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if not host:
        raise TargetError(f"needs a host, e.g. tcp://ingest.example.com:1935, got {redact_url(text)!r}")
    if scheme in ("http", "https"):
        return ProbeTarget("http", host, port or DEFAULT_PORTS[scheme], text.strip())
    if scheme == "tcp":
        if port is None:
            raise TargetError(f"tcp:// needs a port, e.g. tcp://{host}:1935")
        return ProbeTarget("tcp", host, port, text.strip())
    if scheme in DEFAULT_PORTS:
        return ProbeTarget("tcp", host, port or DEFAULT_PORTS[scheme], text.strip())
    if scheme in ("srt", "udp"):
        raise TargetError(f"{scheme}:// is UDP and cannot be probed without a reply; probe a TCP port "
                          f"on the same host instead (tcp://{host}:PORT)")
    raise TargetError(f"unknown scheme {scheme!r}: use tcp://, http://, https://, rtmp://, rtmps:// or rtsp://")


@dataclass(frozen=True)
class EndpointConfig:
    name: str
    target: str = field(repr=False)  # may hold a token: show `label`, never this
    interval_s: float = 0.5
    timeout_s: float = 0.6

    @property
    def probe_target(self) -> ProbeTarget:
        return parse_probe_target(self.target)

    @property
    def label(self) -> str:
        return redact_url(self.target)


@dataclass(frozen=True)
class Thresholds:
    battery_warn_percent: float = 10.0
    battery_critical_percent: float = 7.0
    forecast_warn_ratio: float = 2.0  # forecast < 2× the drop's need → at risk
    forecast_critical_ratio: float = 1.0  # forecast < the need → no-go
    cpu_warn_percent: float = 85.0
    cpu_critical_percent: float = 95.0
    memory_warn_percent: float = 90.0
    memory_critical_percent: float = 95.0
    temp_warn_celsius: float = 85.0
    temp_critical_celsius: float = 95.0
    disk_warn_minutes: float = 30.0  # from [recording] warn_minutes / critical_minutes
    disk_critical_minutes: float = 10.0
    rtt_warn_ms: float = 250.0
    rtt_critical_ms: float = 500.0
    loss_warn_percent: float = 2.0
    loss_critical_percent: float = 5.0
    silence_seconds: float = 10.0
    clear_after_s: float = 5.0  # a figure must stay good this long before its alert clears


@dataclass(frozen=True)
class HealthConfig:
    endpoints: tuple[EndpointConfig, ...] = ()
    mic: str = ""  # "" = the default input; "none" = no microphone wanted
    thresholds: Thresholds = field(default_factory=Thresholds)

    @property
    def mic_wanted(self) -> bool:
        return self.mic.strip().lower() != "none"


def parse_health(table: Table) -> HealthConfig:
    """Read `[health]` (and its `[[health.endpoint]]` list) from a config table."""
    t = Thresholds()
    mic = table.string("mic", "")
    thresholds = Thresholds(
        battery_warn_percent=table.number("battery_warn_percent", t.battery_warn_percent, 1, 100),
        battery_critical_percent=table.number("battery_critical_percent", t.battery_critical_percent, 0, 100),
        cpu_warn_percent=table.number("cpu_warn_percent", t.cpu_warn_percent, 10, 100),
        temp_warn_celsius=table.number("temp_warn_celsius", t.temp_warn_celsius, 30, 150),
        rtt_warn_ms=table.number("rtt_warn_ms", t.rtt_warn_ms, 1, 60_000),
        rtt_critical_ms=table.number("rtt_critical_ms", t.rtt_critical_ms, 1, 60_000),
        loss_warn_percent=table.number("loss_warn_percent", t.loss_warn_percent, 0, 100),
        loss_critical_percent=table.number("loss_critical_percent", t.loss_critical_percent, 0, 100),
        silence_seconds=table.number("silence_seconds", t.silence_seconds, 1, 3600),
    )
    if thresholds.battery_critical_percent > thresholds.battery_warn_percent:
        table.problem("battery_critical_percent", "must not exceed battery_warn_percent")
    if thresholds.rtt_critical_ms < thresholds.rtt_warn_ms:
        table.problem("rtt_critical_ms", "must not be below rtt_warn_ms")
    endpoints: list[EndpointConfig] = []
    for e in table.tables("endpoint", "[[health.endpoint]]"):
        name = e.string("name")
        target = e.string("target")
        try:
            parse_probe_target(target)
        except TargetError as exc:
            e.problem("target", str(exc))
        interval = e.number("interval_seconds", 0.5, 0.1, 60)
        timeout = e.number("timeout_seconds", 0.6, 0.05, 30)
        e.finish()
        if any(x.name == name for x in endpoints):
            e.problem("name", f"duplicate endpoint name {name!r}")
            continue
        endpoints.append(EndpointConfig(name, target, interval, timeout))
    table.finish()
    return HealthConfig(tuple(endpoints), mic, thresholds)
