"""Each source's delay behind its sender: the figure, its baseline, and an alert when a backlog builds."""

from __future__ import annotations

from booth.core.timing import InputDelayMeter


def feed(meter: InputDelayMeter, start: float, seconds: float, delay_s, fps: float = 30.0) -> float:
    t = start
    while t < start + seconds:
        meter.add(t, delay_s(t) if callable(delay_s) else delay_s)
        t += 1 / fps
    return t


def test_a_steady_delay_is_reported_and_raises_nothing():
    meter = InputDelayMeter("primary", warn_ms=100)
    t = feed(meter, 0.0, 60.0, lambda t: 0.120 + 0.01 * ((t * 7) % 1))  # 120–130 ms, jittery
    reading = meter.reading(t)
    assert 119 <= reading.delay_ms <= 131 and reading.alert == ""
    assert reading.growth_ms < 10


def test_a_growing_delay_raises_an_alert_that_names_the_figures_and_clears_when_it_is_gone():
    meter = InputDelayMeter("primary", warn_ms=100)
    t = feed(meter, 0.0, 20.0, 0.080)
    t = feed(meter, t, 30.0, lambda now: 0.080 + 0.010 * (now - 20.0))  # 10 ms more every second
    reading = meter.reading(t)
    assert reading.alert.startswith("primary is ") and "behind its sender" in reading.alert
    assert reading.growth_ms > 150 and "a backlog is building" in reading.alert
    t = feed(meter, t, 10.0, 0.085)  # caught up again
    assert meter.reading(t).alert == ""


def test_a_short_spike_does_not_alert_and_a_reconnect_starts_a_new_baseline():
    meter = InputDelayMeter("secondary", warn_ms=100)
    t = feed(meter, 0.0, 20.0, 0.050)
    t = feed(meter, t, 3.0, 0.400)  # a keyframe burst, a Wi-Fi hiccup: shorter than the hold
    t = feed(meter, t, 10.0, 0.050)
    assert meter.reading(t).alert == ""
    meter.reset()  # reconnected over another network: 300 ms is its normal now
    t = feed(meter, t, 30.0, 0.300)
    reading = meter.reading(t)
    assert reading.alert == "" and 299 <= reading.delay_ms <= 301


def test_without_stamped_frames_there_is_no_figure():
    meter = InputDelayMeter("primary")
    assert meter.reading(10.0).delay_ms is None
    feed(meter, 0.0, 2.0, 0.1)
    assert meter.reading(10.0).delay_ms is None  # nothing in the last second: not measured now
