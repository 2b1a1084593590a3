"""Pure health maths: power forecast, probe statistics, meter, hysteresis, alert sentences."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from booth.core.clock import ManualClock
from booth.core.health.alerts import AlertBook, Hysteresis, Levels, Severity
from booth.core.health.meter import (
    InputDevice,
    MeterBallistics,
    MicState,
    MicStatus,
    block_levels,
    choose_input_device,
)
from booth.core.health.network import (
    EndpointState,
    InterfaceKind,
    LinkStats,
    ProbeResult,
    ThroughputMeter,
    guess_interface_kind,
)
from booth.core.health.power import BatteryReading, DrainEstimator, PowerVerdict, assess_power, power_sentence
from booth.core.health.rules import HealthRules
from booth.core.health.settings import TargetError, parse_probe_target

from .fakes import sine


# ---------------------------------------------------------------------- power
def test_forecast_against_the_drop_gives_go_at_risk_and_no_go():
    need_s = 15 * 60
    go = assess_power(BatteryReading(60, None, False), 0.4, need_s)  # 150 min left
    assert go.verdict is PowerVerdict.GO and go.forecast_min == pytest.approx(150)
    risk = assess_power(BatteryReading(10.8, None, False), 0.4, need_s)  # 27 min < 2×15
    assert risk.verdict is PowerVerdict.AT_RISK
    nogo = assess_power(BatteryReading(14, None, False), 14 / 11, need_s)  # 11 min < 15
    assert nogo.verdict is PowerVerdict.NO_GO
    assert power_sentence(nogo) == "Battery 14 %: about 11 min left, the drop needs 15"


def test_backstops_hold_without_a_drop_and_mains_is_not_an_error():
    assert assess_power(BatteryReading(9, 7200, False), None, None).verdict is PowerVerdict.AT_RISK
    assert assess_power(BatteryReading(6, 7200, False), None, None).verdict is PowerVerdict.NO_GO
    mains = assess_power(None, None, 900)
    assert mains.verdict is PowerVerdict.MAINS and power_sentence(mains) == "Mains power (no battery)"
    assert assess_power(BatteryReading(5, None, True), None, 900).verdict is PowerVerdict.CHARGING


def test_os_estimate_is_the_fallback_and_unknown_means_estimating():
    os_only = assess_power(BatteryReading(50, 3600, False), None, 600)
    assert os_only.forecast_min == 60 and os_only.forecast_source == "os"
    assert assess_power(BatteryReading(50, None, False), None, 600).verdict is PowerVerdict.ESTIMATING


def test_drain_estimator_fits_steps_and_restarts_on_plug_change():
    est = DrainEstimator(window_s=600, min_span_s=120, sample_every_s=5)
    for second in range(0, 601, 5):  # 0.4 %/min in whole-percent steps, like most batteries report
        est.add(float(second), math.floor(80 - 0.4 * second / 60), False)
    assert est.rate_pct_per_min() == pytest.approx(0.4, abs=0.05)
    est.add(605.0, 76, True)
    assert est.rate_pct_per_min() is None


# ---------------------------------------------------------------------- network
def test_srtt_rttvar_and_jitter_follow_the_rfcs():
    link = LinkStats(window=20)
    link.add(ProbeResult(True, 0.100, 1.0))
    assert link.srtt == pytest.approx(0.100) and link.rttvar == pytest.approx(0.050)
    link.add(ProbeResult(True, 0.200, 2.0))
    assert link.rttvar == pytest.approx(0.75 * 0.050 + 0.25 * 0.100)  # RFC 6298 with the old SRTT
    assert link.srtt == pytest.approx(0.875 * 0.100 + 0.125 * 0.200)
    assert link.jitter == pytest.approx(0.100 / 16)  # RFC 3550: J += (|D| − J)/16


def test_loss_is_over_the_rolling_window_and_two_failures_mean_unreachable():
    link = LinkStats(window=10, unreachable_after=2)
    for i in range(10):
        link.add(ProbeResult(i != 3, 0.05 if i != 3 else None, float(i)))
    assert link.loss_percent == pytest.approx(10.0) and link.state is EndpointState.OK
    link.add(ProbeResult(False, None, 11.0, "timed out"))
    assert link.state is EndpointState.FAILING
    link.add(ProbeResult(False, None, 12.0, "timed out"))
    assert link.state is EndpointState.UNREACHABLE
    assert link.loss_percent == pytest.approx(30.0)  # the first failure has left the window


@pytest.mark.parametrize(
    ("name", "wireless", "driver", "kind"),
    [
        ("wlp2s0", False, None, InterfaceKind.WIFI),
        ("eth0", False, None, InterfaceKind.WIRED),
        ("enp0s31f6", False, "e1000e", InterfaceKind.WIRED),
        ("usb0", False, "rndis_host", InterfaceKind.CELLULAR),
        ("enx0a1b2c3d4e5f", False, "cdc_ether", InterfaceKind.CELLULAR),
        ("eth1", False, "ipheth", InterfaceKind.CELLULAR),
        ("wwan0", False, None, InterfaceKind.CELLULAR),
        ("foo0", True, None, InterfaceKind.WIFI),
        ("lo", False, None, InterfaceKind.LOOPBACK),
        ("docker0", False, None, InterfaceKind.VIRTUAL),
    ],
)
def test_interface_kind_guess(name, wireless, driver, kind):
    assert guess_interface_kind(name, wireless, driver) is kind


def test_throughput_from_counter_deltas():
    meter = ThroughputMeter()
    assert meter.update(0.0, {"wlan0": (0, 0)}) == {}
    rates = meter.update(2.0, {"wlan0": (1_000_000, 250_000)})
    assert rates["wlan0"] == (pytest.approx(4e6), pytest.approx(1e6))


def test_probe_targets():
    assert parse_probe_target("rtmp://live.example.com/app/key").port == 1935
    assert parse_probe_target("https://shop.example.com/health").kind == "http"
    with pytest.raises(TargetError):
        parse_probe_target("srt://h:9000")
    with pytest.raises(TargetError):
        parse_probe_target("tcp://h")


# ---------------------------------------------------------------------- meter
def test_half_scale_sine_levels():
    peak, rms = block_levels(sine(0.5, n=4800))
    assert peak == pytest.approx(-6.02, abs=0.05)
    assert rms == pytest.approx(-9.03, abs=0.05)
    assert block_levels(np.zeros(1024, np.int16)) == (-90.0, -90.0)


def test_ballistics_hold_clip_and_silence():
    m = MeterBallistics(release_db_per_s=24, hold_s=1.5, silence_dbfs=-60)
    m.feed(-0.5, -3, 10.0)  # a clipped block
    r = m.reading(10.5)
    assert r.clipping and r.clip_count == 1
    assert r.peak_dbfs == pytest.approx(-0.5 - 12)  # falls 24 dB/s
    assert r.hold_dbfs == pytest.approx(-0.5)  # held for 1.5 s
    for i in range(1, 60):
        m.feed(-80, -85, 10.0 + i * 0.2)  # quiet
    r = m.reading(22.0)
    assert not r.clipping
    assert r.silent_s == pytest.approx(12.0)
    assert r.hold_dbfs < -40


def test_device_chosen_by_name_not_index():
    devices = [InputDevice(0, "Built-in Microphone", 2, 44100, True), InputDevice(3, "RØDE Lavalier GO", 1, 48000)]
    assert choose_input_device(devices, "RØDE Lavalier GO").index == 3
    assert choose_input_device(devices, "lavalier").index == 3
    assert choose_input_device(devices, "Missing mic").name == "Built-in Microphone"
    assert choose_input_device([InputDevice(1, "HDMI", 0, 44100)], "") is None


# ---------------------------------------------------------------------- hysteresis and rules
def test_a_value_hovering_at_the_threshold_does_not_flap():
    clock = ManualClock()
    h = Hysteresis(Levels(warn=250, warn_exit=180, critical=500, critical_exit=400), clear_after_s=5)
    states = []
    for i in range(200):
        clock.advance(0.25)
        states.append(h.update(250 + (-8 if i % 2 else 8), clock.monotonic()))
    changes = sum(1 for a, b in itertools.pairwise(states) if a != b)
    assert states[-1] is Severity.WARN and changes == 0
    # dipping under the exit threshold for less than clear_after_s does not clear it either
    for i in range(40):
        clock.advance(0.25)
        h.update(170 if i % 8 else 190, clock.monotonic())
    assert h.state is Severity.WARN
    for _ in range(21):
        clock.advance(0.25)
        h.update(100, clock.monotonic())
    assert h.state is Severity.OK


def test_alert_book_deduplicates_and_keeps_since():
    book = AlertBook()
    first = book.set("battery", Severity.WARN, "Battery 14 %: about 20 min left, the drop needs 15", 1.0)
    assert first is not None and first.previous is Severity.OK
    assert book.set("battery", Severity.WARN, "Battery 13 %: about 18 min left, the drop needs 15", 2.0) is None
    (alert,) = book.active()
    assert alert.since == 1.0 and alert.message.startswith("Battery 13 %")
    cleared = book.set("battery", Severity.OK, "", 3.0)
    assert cleared is not None and cleared.previous is Severity.WARN and book.active() == ()


def test_battery_rule_sentence_and_hysteresis_with_a_clock():
    clock = ManualClock()
    rules = HealthRules()
    status = assess_power(BatteryReading(14, None, False), 14 / 11, 15 * 60)
    ev = rules.evaluate(clock.monotonic(), status)
    assert [(a.severity, a.message) for a in ev.alerts] == [
        (Severity.CRITICAL, "Battery 14 %: about 11 min left, the drop needs 15")
    ]
    assert ev.power.verdict is PowerVerdict.NO_GO
    # the forecast hovers around the need (ratio 1.0): stays critical, no flapping
    for i in range(40):
        clock.advance(0.25)
        forecast = 15.0 + (0.3 if i % 2 else -0.3)
        ev = rules.evaluate(clock.monotonic(), assess_power(BatteryReading(14, None, False), 14 / forecast, 900))
        assert ev.alerts[0].severity is Severity.CRITICAL
        assert not [c for c in ev.changes if c.alert.key == "battery"]


def test_endpoint_rules_one_sentence_per_dead_endpoint():
    from booth.core.health.network import EndpointStats

    rules = HealthRules()
    dead = EndpointStats("ingest", "tcp://h:1935", EndpointState.UNREACHABLE, loss_percent=100, probes=10,
                         consecutive_failures=3, last_error="connection refused")
    ev = rules.evaluate(1.0, assess_power(None, None, None), endpoints=[dead])
    assert [a.message for a in ev.alerts] == ["Ingest unreachable: 3 probes failed in a row (connection refused)"]
    slow = EndpointStats("ingest", "tcp://h:1935", EndpointState.OK, srtt_s=0.320, jitter_s=0.04,
                         loss_percent=0, probes=20)
    ev = rules.evaluate(2.0, assess_power(None, None, None), endpoints=[slow])
    assert ev.alerts[0].severity is Severity.CRITICAL  # answering again: held until it stays up
    ev = rules.evaluate(8.0, assess_power(None, None, None), endpoints=[slow])
    assert [a.message for a in ev.alerts] == ["Ingest round trip 320 ms (jitter 40 ms)"]


def test_mic_rules():
    rules = HealthRules(mic_wanted_name="RØDE")
    ev = rules.evaluate(1.0, assess_power(None, None, None), mic=MicStatus(MicState.NO_DEVICE))
    assert ev.alerts[0].severity is Severity.WARN and ev.alerts[0].message == "No microphone: 'RØDE' is not connected"
    ev = rules.evaluate(2.0, assess_power(None, None, None), mic=MicStatus(MicState.LOST, device="RØDE GO"))
    assert ev.alerts[0].severity is Severity.CRITICAL


def test_the_cpu_alert_leaves_the_host_line_when_the_load_is_gone_and_clears_after_its_quiet_spell():
    from booth.core.health.snapshot import empty_snapshot
    from booth.core.health.system import SystemReading

    clock = ManualClock()
    rules = HealthRules()
    mains = assess_power(None, None, None)

    changes = []

    def tick(cpu: float, seconds: float):
        changes.clear()
        for _ in range(int(seconds * 4)):  # the monitor evaluates 4 times a second
            clock.advance(0.25)
            ev = rules.evaluate(clock.monotonic(), mains, SystemReading(cpu, None, 40.0, 8 * 10**9))
            changes.extend(ev.changes)
        return ev

    ev = tick(97.0, 6)
    (alert,) = ev.alerts
    assert alert.severity is Severity.CRITICAL and alert.message == "CPU 97 %: video may stutter"
    host = dataclasses.replace(empty_snapshot(), alerts=ev.alerts)
    assert host.for_host == ev.alerts
    ev = tick(30.0, 3)  # the load dropped: smoothed below the exit threshold within ~2 s
    (alert,) = ev.alerts
    assert alert.clearing and alert.message.startswith("CPU back to 3")
    assert "video may stutter" not in alert.message
    assert dataclasses.replace(empty_snapshot(), alerts=ev.alerts).for_host == ()  # off the host's line at once
    ev = tick(30.0, 5)
    assert ev.alerts == ()  # and gone once it stayed calm for the quiet spell
    assert [(c.previous, c.alert.severity) for c in changes] == [(Severity.CRITICAL, Severity.OK)]
    ev = tick(97.0, 2)
    assert ev.alerts[0].severity >= Severity.WARN and not ev.alerts[0].clearing  # a new load is a new alert


def test_info_items_stay_off_the_host_line():
    from booth.core.health.snapshot import empty_snapshot

    rules = HealthRules()  # no microphone named: a missing one is only information
    ev = rules.evaluate(1.0, assess_power(None, None, None), mic=MicStatus(MicState.NO_DEVICE, detail="no input"))
    assert [a.severity for a in ev.alerts] == [Severity.INFO]
    assert dataclasses.replace(empty_snapshot(), alerts=ev.alerts).for_host == ()
