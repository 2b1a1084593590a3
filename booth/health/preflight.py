"""`booth check`: a one-shot pre-flight of the rig, as items with ok / warn / fail.

Sources: demo always opens; a file must exist and be readable; a network URL's host must
resolve and, for TCP-based protocols, accept a connection (the app opens the stream itself
later; cameras are only opened by the app). Then power against the whole drop, system, disk,
interfaces, the configured endpoints (a short burst of probes) and the microphone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from booth.core.config import BoothConfig
from booth.core.health.meter import choose_input_device
from booth.core.health.network import EndpointState, EndpointStats, InterfaceKind, LinkStats
from booth.core.health.power import PowerVerdict, assess_power, power_sentence
from booth.core.health.settings import EndpointConfig, Thresholds
from booth.core.health.system import DiskStatus, format_bytes, format_duration
from booth.core.source_spec import SourceKind, SourceSpec
from booth.devices.health_audio import AudioBackend, AudioUnavailable, PyAudioBackend
from booth.devices.health_probes import Probe, make_probe
from booth.devices.health_system import PsutilSensors, SensorError, SystemSensors
from booth.devices.open_source import open_source
from booth.devices.sources import SourceError
from booth.runtime.disk_guard import DiskGuard

log = logging.getLogger(__name__)

CPU_WINDOW_S = 0.5


class CheckStatus(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


Figures = Mapping[str, float | str | bool | None]


@dataclass(frozen=True)
class CheckItem:
    group: str
    name: str
    status: CheckStatus
    summary: str
    figures: Figures = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"group": self.group, "name": self.name, "status": self.status.value.lower(),
                "summary": self.summary, "figures": dict(self.figures)}


@dataclass(frozen=True)
class CheckReport:
    items: tuple[CheckItem, ...]
    config: str

    @property
    def exit_code(self) -> int:
        if any(i.status is CheckStatus.FAIL for i in self.items):
            return 2
        if any(i.status is CheckStatus.WARN for i in self.items):
            return 1
        return 0

    def count(self, status: CheckStatus) -> int:
        return sum(1 for i in self.items if i.status is status)

    def to_json(self) -> dict[str, object]:
        return {
            "config": self.config,
            "exit_code": self.exit_code,
            "failures": self.count(CheckStatus.FAIL),
            "warnings": self.count(CheckStatus.WARN),
            "items": [i.to_json() for i in self.items],
        }


def run_preflight(
    config: BoothConfig,
    sensors: SystemSensors | None = None,
    audio: AudioBackend | None = None,
    probe_count: int = 5,
    probe_gap_s: float = 0.1,
    make: Callable[[EndpointConfig], Probe] = make_probe,
    recording_folder: Path | None = None,
) -> CheckReport:
    """`recording_folder`: where recordings go (free space is judged there); None = the current folder."""
    started = time.monotonic()
    sensors = sensors or PsutilSensors()
    health = config.health
    t = health.thresholds
    items: list[CheckItem] = []
    # endpoints first, in the background: they take the longest
    endpoint_results: dict[str, EndpointStats] = {}
    threads = [
        threading.Thread(target=_burst, args=(make(e), e, probe_count, probe_gap_s, endpoint_results),
                         name=f"booth-check-{e.name}", daemon=True)
        for e in health.endpoints
    ]
    for th in threads:
        th.start()

    items.append(check_source("primary", config.primary))
    if config.secondary is not None:
        items.append(check_source("secondary", config.secondary))
    after_sources = len(items)
    items.append(_power(sensors, config.drop.timer_seconds, t))
    disk = DiskGuard(recording_folder or Path("."), config.recording, config.recording_bytes_per_s).check_now()
    items.append(_disk(disk, t))
    items.append(_interfaces(sensors))
    items.append(_mic(audio, health.mic, health.mic_wanted))

    deadline = time.monotonic() + probe_count * (probe_gap_s + 2 * max((e.timeout_s for e in health.endpoints),
                                                                        default=1.0)) + 2
    for th in threads:
        th.join(max(0.1, deadline - time.monotonic()))
    # CPU is measured since PsutilSensors primed it: give it a window of at least half a second
    time.sleep(max(0.0, started + CPU_WINDOW_S - time.monotonic()))
    items[after_sources + 1 : after_sources + 1] = _system(sensors, t)
    if not health.endpoints:
        items.append(CheckItem("endpoint", "endpoints", CheckStatus.SKIP,
                               "none configured (add [[health.endpoint]] to the drop file)"))
    for e in health.endpoints:
        items.append(_endpoint_item(e, endpoint_results.get(e.name), t))
    return CheckReport(tuple(items), str(config.path) if config.path else "demo drop")


# ---------------------------------------------------------------------- sources
def check_source(role: str, spec: SourceSpec, timeout_s: float = 1.5, open_timeout_s: float = 8.0) -> CheckItem:
    """Open the source through the same interface Booth uses and read one picture."""
    name = f"source {role}"
    if spec.kind is SourceKind.NETWORK and _is_listener(spec):
        return CheckItem("source", name, CheckStatus.OK, f"{spec.label}: Booth listens; the sender connects to us")
    # No separate TCP probe first: a single-client listener would spend its one accept on it. The real
    # open reports refused connections and unknown hosts in its own words.
    return _first_picture(name, spec, open_timeout_s)


def _is_listener(spec: SourceSpec) -> bool:
    parts = urlsplit(spec.target)
    query = dict(parse_qsl(parts.query))
    listens_on_any = parts.hostname in (None, "", "0.0.0.0", "::")
    return listens_on_any or query.get("mode") == "listener" or query.get("listen") == "1"


def _first_picture(name: str, spec: SourceSpec, timeout_s: float) -> CheckItem:
    source = open_source(spec, (1280, 720), 30.0)
    result: dict[str, object] = {}

    def read_one() -> None:
        started = time.monotonic()
        try:
            source.open()
            pixels = source.read()
            result["ms"] = (time.monotonic() - started) * 1000
            result["size"] = f"{pixels.shape[1]}x{pixels.shape[0]}"
        except SourceError as exc:
            result["error"] = str(exc)
        except Exception as exc:  # a device library failing is a finding, not a crash of the check
            result["error"] = f"{spec.label}: {exc.__class__.__name__}: {exc}"

    reader = threading.Thread(target=read_one, name="booth-check-source", daemon=True)
    reader.start()
    reader.join(timeout_s)
    try:
        source.close()  # also unblocks a hung decoder process
    except Exception:
        log.exception("closing %s after the check failed", spec.label)
    reader.join(2.0)
    if "error" in result:
        return CheckItem("source", name, CheckStatus.FAIL, str(result["error"]))
    if "ms" not in result:
        return CheckItem("source", name, CheckStatus.FAIL, f"{spec.label}: no picture within {timeout_s:.0f} s")
    ms = float(result["ms"])  # type: ignore[arg-type]
    return CheckItem("source", name, CheckStatus.OK, f"{spec.label} — first picture in {ms:.0f} ms ({result['size']})",
                     {"first_frame_ms": ms})


# ---------------------------------------------------------------------- power, system, disk
def _power(sensors: SystemSensors, need_s: float, t: Thresholds) -> CheckItem:
    try:
        reading = sensors.battery()
    except SensorError as exc:
        return CheckItem("power", "battery", CheckStatus.WARN, str(exc))
    status = assess_power(reading, None, need_s, t.battery_warn_percent, t.battery_critical_percent)
    level = {
        PowerVerdict.NO_GO: CheckStatus.FAIL,
        PowerVerdict.AT_RISK: CheckStatus.WARN,
    }.get(status.verdict, CheckStatus.OK)
    sentence = power_sentence(status)
    if status.verdict is PowerVerdict.ESTIMATING:
        sentence += " (the OS gives no estimate yet; Booth forecasts from the drain once running)"
    return CheckItem("power", "battery", level, f"{sentence} — {status.verdict.value}", {
        "percent": status.percent, "plugged": status.plugged, "forecast_minutes": status.forecast_min,
        "drop_needs_minutes": status.need_min, "verdict": status.verdict.value})


def _system(sensors: SystemSensors, t: Thresholds) -> list[CheckItem]:
    s = sensors.system()
    items = []
    cpu = s.cpu_percent
    cpu_status = CheckStatus.OK
    if cpu is not None and cpu >= t.cpu_critical_percent:
        cpu_status = CheckStatus.FAIL
    elif cpu is not None and cpu >= t.cpu_warn_percent:
        cpu_status = CheckStatus.WARN
    mem = s.memory_percent
    mem_status = CheckStatus.WARN if mem is not None and mem >= t.memory_warn_percent else CheckStatus.OK
    free = format_bytes(s.memory_available_bytes) if s.memory_available_bytes is not None else "?"
    items.append(CheckItem("system", "cpu and memory", max(cpu_status, mem_status, key=_rank),
                           f"CPU {cpu if cpu is not None else float('nan'):.0f} %, memory {mem or 0:.0f} % "
                           f"used ({free} free)",
                           {"cpu_percent": cpu, "memory_percent": mem,
                            "memory_available_bytes": s.memory_available_bytes}))
    hottest = s.hottest
    if hottest is None:
        why = "not exposed by this OS" if not s.temperatures_supported else "no readings"
        items.append(CheckItem("system", "temperature", CheckStatus.SKIP, f"n/a ({why})"))
    else:
        status = CheckStatus.OK
        if hottest.celsius >= t.temp_critical_celsius:
            status = CheckStatus.FAIL
        elif hottest.celsius >= t.temp_warn_celsius:
            status = CheckStatus.WARN
        items.append(CheckItem("system", "temperature", status, f"hottest {hottest.celsius:.0f} °C ({hottest.sensor})",
                               {"celsius": hottest.celsius, "sensor": hottest.sensor}))
    return items


def _disk(d: DiskStatus, t: Thresholds) -> CheckItem:
    bitrate_bps = d.record_bitrate_bps
    if d.error or d.free_bytes is None:
        return CheckItem("disk", "recordings", CheckStatus.WARN, f"{d.path}: cannot read free space ({d.error})")
    left = d.record_seconds_left or 0.0
    status = CheckStatus.OK
    if left / 60 < t.disk_critical_minutes:
        status = CheckStatus.FAIL
    elif left / 60 < t.disk_warn_minutes:
        status = CheckStatus.WARN
    return CheckItem("disk", "recordings", status,
                     f"{format_bytes(d.free_bytes)} free in {d.path}: ≈{format_duration(left)} of recording at "
                     f"{bitrate_bps / 1e6:.1f} Mbit/s",
                     {"free_bytes": d.free_bytes, "record_seconds_left": left, "path": d.path})


def _interfaces(sensors: SystemSensors) -> CheckItem:
    interfaces = sensors.interfaces(time.monotonic())
    real = [i for i in interfaces if i.kind not in (InterfaceKind.LOOPBACK, InterfaceKind.VIRTUAL)]
    up = [i for i in real if i.up]
    text = ", ".join(f"{i.name} ({i.kind.value}, {'up' if i.up else 'down'})" for i in real) or "none found"
    status = CheckStatus.OK if up else CheckStatus.FAIL
    return CheckItem("network", "interfaces", status, text, {"up": len(up), "total": len(real)})


# ---------------------------------------------------------------------- endpoints
def _burst(probe: Probe, e: EndpointConfig, count: int, gap_s: float, out: dict[str, EndpointStats]) -> None:
    link = LinkStats(window=count, unreachable_after=2)
    try:
        for i in range(count):
            link.add(probe.probe())
            out[e.name] = link.stats(e.name, e.label)
            if i + 1 < count:
                time.sleep(gap_s)  # pacing between probes, not synchronisation
    finally:
        probe.close()


def _endpoint_item(e: EndpointConfig, s: EndpointStats | None, t: Thresholds) -> CheckItem:
    name = f"endpoint {e.name}"
    if s is None:
        return CheckItem("endpoint", name, CheckStatus.FAIL, f"{e.label}: no probe finished (hung?)")
    figures = {"target": e.label, "rtt_seconds": s.srtt_s, "jitter_seconds": s.jitter_s,
               "loss_percent": s.loss_percent, "probes": s.probes, "state": s.state.value}
    lost = round((s.loss_percent or 0) * s.probes / 100)
    if s.state is EndpointState.UNREACHABLE or s.srtt_s is None:
        return CheckItem("endpoint", name, CheckStatus.FAIL,
                         f"{e.label}: unreachable — {s.last_error} ({lost}/{s.probes} probes lost)", figures)
    rtt_ms = s.srtt_s * 1000
    loss = s.loss_percent or 0.0
    status = CheckStatus.OK
    if rtt_ms >= t.rtt_critical_ms or loss >= t.loss_critical_percent:
        status = CheckStatus.FAIL
    elif rtt_ms >= t.rtt_warn_ms or loss >= t.loss_warn_percent:
        status = CheckStatus.WARN
    jitter = f", jitter {s.jitter_s * 1000:.0f} ms" if s.jitter_s is not None else ""
    detail = f" ({s.last_detail})" if s.last_detail and s.last_detail.startswith("HTTP") else ""
    return CheckItem("endpoint", name, status,
                     f"{e.label}: RTT {rtt_ms:.0f} ms{jitter}, loss {loss:.0f} % ({lost}/{s.probes}){detail}",
                     figures)


# ---------------------------------------------------------------------- microphone
def _mic(audio: AudioBackend | None, wanted: str, enabled: bool) -> CheckItem:
    if not enabled:
        return CheckItem("audio", "microphone", CheckStatus.SKIP, 'mic = "none" in the config')
    backend = audio or PyAudioBackend()
    try:
        devices = backend.input_devices()
    except AudioUnavailable as exc:
        return CheckItem("audio", "microphone", CheckStatus.WARN, f"no microphone: {exc}")
    try:
        device = choose_input_device(devices, wanted)
        if device is None:
            what = f"'{wanted}' is not connected" if wanted else "no input device"
            return CheckItem("audio", "microphone", CheckStatus.WARN, f"no microphone: {what}",
                             {"devices": len(devices)})
        try:
            stream = backend.open_input(device, lambda data, status: None)
            stream.close()
        except AudioUnavailable as exc:
            return CheckItem("audio", "microphone", CheckStatus.FAIL, str(exc), {"device": device.name})
        if wanted and wanted.lower() not in device.name.lower():
            return CheckItem("audio", "microphone", CheckStatus.WARN,
                             f"'{wanted}' not found; would use '{device.name}'", {"device": device.name})
        return CheckItem("audio", "microphone", CheckStatus.OK,
                         f"'{device.name}' opens ({device.channels} ch, {device.default_rate:.0f} Hz)",
                         {"device": device.name})
    finally:
        backend.close()


def _rank(status: CheckStatus) -> int:
    return [CheckStatus.SKIP, CheckStatus.OK, CheckStatus.WARN, CheckStatus.FAIL].index(status)
