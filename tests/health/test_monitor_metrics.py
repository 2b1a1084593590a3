"""The whole monitor with psutil/audio fakes and a real endpoint; its metrics through the Prometheus parser.
(/metrics over real HTTP, through the control API, is in tests/api.)"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from booth.audio.microphone import MicMonitor
from booth.core.clock import ManualClock
from booth.core.drop import Phase, SkuView, StockLevel
from booth.core.health.alerts import Severity
from booth.core.health.meter import MicState
from booth.core.health.power import PowerVerdict
from booth.core.health.settings import EndpointConfig, HealthConfig
from booth.core.recording import RecordingConfig
from booth.devices.health_audio import PyAudioBackend
from booth.devices.health_system import PsutilSensors
from booth.health.monitors import HealthMonitor
from booth.ops.metrics import MetricsSources, make_registry
from booth.runtime.disk_guard import DiskGuard

from .fakes import THINKPAD_ON_BATTERY, THINKPAD_TEMPS, FakePsutil, FakePyAudioModule, sine
from .servers import ModeServer, refused_port, wait_until

FREE_BYTES = 41_000_000_000


class Rig:
    """Rig health as the app wires it: the monitor, the microphone and the disk guard, each a part."""

    def __init__(self, tmp_path, endpoints=(), battery=THINKPAD_ON_BATTERY, clock=None, need_s=15 * 60,
                 module=None) -> None:  # fmt: skip
        self.disk = DiskGuard(tmp_path, RecordingConfig(), 6000 * 125,
                              disk_usage=lambda _p: (500_000_000_000, 0, FREE_BYTES))  # fmt: skip
        self.mic = MicMonitor(PyAudioBackend(module or FakePyAudioModule(), quiet=False), "", clock)
        self.monitor = HealthMonitor.from_config(
            HealthConfig(endpoints=tuple(endpoints), mic=""),
            clock=clock,
            drop_need_s=lambda: need_s,
            sensors=PsutilSensors(FakePsutil(battery, temps=THINKPAD_TEMPS), sysfs_net=tmp_path),
            mic=self.mic.status,
            disk=self.disk.status,
        )
        self.probes = self.monitor.probes

    def start(self) -> None:
        self.disk.start()
        self.mic.start()
        self.monitor.start()

    def stop(self) -> None:
        self.monitor.stop()
        self.mic.stop()
        self.disk.stop()

    def latest(self):
        return self.monitor.latest()


def _monitor(tmp_path, endpoints=(), **kwargs) -> Rig:
    return Rig(tmp_path, endpoints, **kwargs)


def _wait_for_seq(monitor: Rig, seq: int) -> bool:
    return wait_until(lambda: monitor.latest().seq >= seq)


def test_threads_are_named_joined_and_snapshots_keep_coming(tmp_path):
    server = ModeServer("http-ok")
    monitor = _monitor(tmp_path, [EndpointConfig("ingest", f"tcp://127.0.0.1:{server.port}", 0.1, 0.5)])
    seen = []
    monitor.monitor.add_snapshot_listener(seen.append)
    monitor.start()
    try:
        names = {t.name for t in threading.enumerate()}
        assert {"booth-health", "booth-probe-ingest", "booth-mic", "booth-disk"} <= names
        assert _wait_for_seq(monitor, 4)
        assert wait_until(lambda: (e := monitor.latest().endpoint("ingest")) is not None and e.srtt_s is not None)
    finally:
        monitor.stop()
        server.close()
    snap = monitor.latest()
    assert snap.power.percent == pytest.approx(62.37) and snap.system is not None
    assert snap.mic.state is MicState.LIVE
    assert not [t for t in threading.enumerate() if t.name.startswith("booth-")]
    assert seen and seen[-1].seq == snap.seq


def test_unreachable_endpoint_alert_and_mains_rig(tmp_path):
    port = refused_port()
    monitor = _monitor(tmp_path, [EndpointConfig("ingest", f"tcp://127.0.0.1:{port}", 0.1, 0.5)], battery=None)
    monitor.start()
    try:
        assert wait_until(lambda: any(a.key == "endpoint.ingest.down" and a.severity is Severity.CRITICAL
                                      for a in monitor.latest().alerts))
    finally:
        monitor.stop()
    snap = monitor.latest()
    assert snap.power.verdict is PowerVerdict.MAINS
    assert snap.worst is not None
    ingest = snap.endpoint("ingest")
    assert ingest is not None
    n = ingest.consecutive_failures
    assert snap.worst.message == f"Ingest unreachable: {n} probes failed in a row (connection refused)"


def test_power_forecast_from_drain_with_a_manual_clock(tmp_path):
    from psutil import _ntuples as nt

    clock = ManualClock()
    fake = FakePsutil(nt.sbattery(30.0, 3600 * 3, False))
    config = HealthConfig(mic="none")
    monitor = HealthMonitor(config, PsutilSensors(fake, sysfs_net=tmp_path), clock=clock,
                            drop_need_s=lambda: 15 * 60)
    snap = monitor.refresh_now()
    assert snap.power.forecast_source == "os" and snap.power.verdict is PowerVerdict.GO
    for step in range(1, 181):  # 3 min draining 2 %/min
        clock.advance(1.0)
        fake.battery_value = nt.sbattery(30.0 - 2.0 * step / 60, 3600 * 3, False)
        snap = monitor.refresh_now()
    assert snap.power.drain_pct_per_min == pytest.approx(2.0, rel=0.05)
    assert snap.power.forecast_source == "drain" and snap.power.forecast_min == pytest.approx(12, abs=0.5)
    assert snap.power.verdict is PowerVerdict.NO_GO  # 12 min left, the drop needs 15 (the OS said 3 h)
    assert snap.worst is not None and snap.worst.message == "Battery 24 %: about 12 min left, the drop needs 15"


def test_metrics_page_parses_with_the_prometheus_parser(tmp_path):
    server = ModeServer("http-ok")
    module = FakePyAudioModule()
    monitor = _monitor(tmp_path, [EndpointConfig("ingest", f"tcp://127.0.0.1:{server.port}", 0.1, 0.5)],
                       module=module)
    monitor.probes[0].probe_once()
    monitor.probes[0].probe_once()
    monitor.mic.check_once()
    monitor.disk.check_now()
    module.streams[0].push(sine(0.25))
    monitor.monitor.refresh_now()
    from booth.core.drop import DropView

    drop = DropView("Night drop", (SkuView("tee-black", "TEE / BLACK", 42, 50, StockLevel.PLENTY),),
                    Phase.LIVE, 61.0, 90.0, 8)
    sources = MetricsSources(health=monitor.latest, drop=lambda: drop,
                             source_states=lambda: {"primary": "live", "secondary": "down"},
                             failover_switches=lambda: 2, outputs=lambda: {"primary": (True, 4.5e6)})
    try:
        text = generate_latest(make_registry(sources)).decode()
    finally:
        server.close()
        monitor.stop()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert samples[("booth_battery_percent", ())] == pytest.approx(62.37)
    assert samples[("booth_network_rtt_seconds", (("endpoint", "ingest"),))] < 0.5
    assert samples[("booth_endpoint_up", (("endpoint", "ingest"),))] == 1.0
    assert samples[("booth_cpu_percent", ())] == 12.0
    assert samples[("booth_disk_free_bytes", (("path", str(tmp_path)),))] == FREE_BYTES  # where recordings go
    assert samples[("booth_temperature_celsius", (("sensor", "coretemp/Package id 0"),))] == 61.0
    assert samples[("booth_mic_peak_dbfs", ())] == pytest.approx(-12.04, abs=0.1)
    assert samples[("booth_alerts_active", (("severity", "critical"),))] == 0
    assert samples[("booth_drop_units_left", (("sku", "tee-black"),))] == 42
    assert samples[("booth_drop_units_sold_total", ())] == 8
    assert samples[("booth_source_state", (("source", "secondary"), ("state", "down")))] == 1.0
    assert samples[("booth_failover_switches_total", ())] == 2
    assert samples[("booth_power_verdict", (("verdict", "go"),))] == 1.0
    # every series the shipped Grafana dashboard queries is on the page
    exposed = {name for name, _ in samples} | set(re.findall(r"^# TYPE (\w+)", text, re.M))
    dashboard = (Path(__file__).resolve().parents[2] / "resources/grafana/booth-dashboard.json").read_text()
    wanted = set(re.findall(r"booth_[a-z_]+", json.dumps(json.loads(dashboard)["panels"])))
    assert wanted <= exposed, wanted - exposed
