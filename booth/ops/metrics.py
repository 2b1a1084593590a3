"""Prometheus metrics for one booth: health, sources, failover, output and drop state.

A private `CollectorRegistry` (never the global one) is filled at scrape time from plain
callables, so a scrape always shows the latest state and nothing is pushed per frame. The control
API serves it at /metrics (prometheus-client's ASGI app on the API's event loop: a slow or idle
client holds no thread and delays no scrape).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from booth import __version__
from booth.core.drop import DropView, Phase
from booth.core.health.alerts import Severity
from booth.core.health.power import PowerVerdict
from booth.core.health.snapshot import HealthSnapshot

log = logging.getLogger(__name__)

SOURCE_STATES = ("live", "stalled", "frozen", "reconnecting", "down")


@dataclass(frozen=True)
class MetricsSources:
    """What a scrape reads. Every callable is optional and is called on the `booth-api` thread."""

    health: Callable[[], HealthSnapshot] | None = None
    drop: Callable[[], DropView | None] | None = None
    source_states: Callable[[], Mapping[str, str]] | None = None  # source name → one of SOURCE_STATES
    active_source: Callable[[], str | None] | None = None
    failover_switches: Callable[[], int] | None = None  # switches since start
    outputs: Callable[[], Mapping[str, tuple[bool, float]]] | None = None  # name → (connected, bits/s)


def _gauge(name: str, doc: str, labels: list[str] | None = None, unit: str = "") -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels, unit=unit)


class BoothCollector(Collector):
    def __init__(self, sources: MetricsSources) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Any]:
        info = InfoMetricFamily("booth", "Booth build information")
        info.add_metric([], {"version": __version__})
        yield info
        for part in (self._health, self._drop, self._sources, self._outputs):
            try:
                yield from part()
            except Exception:  # a broken provider must not take the whole page down
                log.exception("metrics: %s failed", part.__name__)

    # ------------------------------------------------------------------ health
    def _health(self) -> Iterator[Any]:
        if self.sources.health is None:
            return
        s = self.sources.health()
        p = s.power
        if p.percent is not None:
            yield _single("booth_battery_percent", "Battery charge, percent", p.percent)
        yield _single("booth_power_plugged", "1 on mains or charger, 0 on battery",
                      1.0 if (p.plugged or p.verdict is PowerVerdict.MAINS) else 0.0)
        if p.forecast_min is not None:
            yield _single("booth_battery_forecast_seconds", "Forecast battery time left", p.forecast_min * 60)
        if p.drain_pct_per_min is not None:
            yield _single("booth_battery_drain_percent_per_minute", "Recent battery drain rate",
                          p.drain_pct_per_min)
        if p.need_min is not None:
            yield _single("booth_drop_power_need_seconds", "Seconds the running drop still needs", p.need_min * 60)
        verdict = _gauge("booth_power_verdict", "Power verdict against the drop (1 for the current one)",
                         ["verdict"])
        for v in PowerVerdict:
            verdict.add_metric([v.value], 1.0 if v is p.verdict else 0.0)
        yield verdict

        sysr = s.system
        if sysr is not None:
            if sysr.cpu_percent is not None:
                yield _single("booth_cpu_percent", "Whole-machine CPU use, percent", sysr.cpu_percent)
            if sysr.process_cpu_percent is not None:
                yield _single("booth_process_cpu_percent", "Booth's own CPU use, percent of one core",
                              sysr.process_cpu_percent)
            if sysr.memory_percent is not None:
                yield _single("booth_memory_used_percent", "Memory in use, percent", sysr.memory_percent)
            if sysr.memory_available_bytes is not None:
                yield _single("booth_memory_available_bytes", "Memory available", sysr.memory_available_bytes)
            temps = _gauge("booth_temperature_celsius", "Temperature sensors", ["sensor"])
            for t in sysr.temperatures:
                temps.add_metric([t.sensor], t.celsius)
            yield temps
        if s.disk is not None and s.disk.free_bytes is not None:
            disk = _gauge("booth_disk_free_bytes", "Free space where recordings go", ["path"])
            disk.add_metric([s.disk.path], s.disk.free_bytes)
            yield disk
            left = s.disk.record_seconds_left
            if left is not None:
                yield _single("booth_recording_time_left_seconds", "Recording time left at the recording bitrate",
                              left)

        up = _gauge("booth_network_interface_up", "Interface up (1) or down (0)", ["interface", "kind"])
        tx = _gauge("booth_network_transmit_bytes_per_second", "Upload rate per interface", ["interface"])
        rx = _gauge("booth_network_receive_bytes_per_second", "Download rate per interface", ["interface"])
        for i in s.interfaces:
            up.add_metric([i.name, i.kind.value], 1.0 if i.up else 0.0)
            if i.tx_bps is not None:
                tx.add_metric([i.name], i.tx_bps / 8)
            if i.rx_bps is not None:
                rx.add_metric([i.name], i.rx_bps / 8)
        yield from (up, tx, rx)

        reach = _gauge("booth_endpoint_up", "Endpoint answered its probes (1) or not (0)", ["endpoint"])
        rtt = _gauge("booth_network_rtt_seconds", "Smoothed round trip (RFC 6298 SRTT)", ["endpoint"])
        jitter = _gauge("booth_network_jitter_seconds", "Round-trip jitter (RFC 3550)", ["endpoint"])
        loss = _gauge("booth_network_loss_ratio", "Lost probes over the rolling window, 0–1", ["endpoint"])
        for e in s.endpoints:
            reach.add_metric([e.name], 1.0 if e.state.value == "ok" else 0.0)
            if e.srtt_s is not None:
                rtt.add_metric([e.name], e.srtt_s)
            if e.jitter_s is not None:
                jitter.add_metric([e.name], e.jitter_s)
            if e.loss_percent is not None:
                loss.add_metric([e.name], e.loss_percent / 100)
        yield from (reach, rtt, jitter, loss)

        yield _single("booth_mic_available", "Microphone open and delivering audio", 1.0 if s.mic.available else 0.0)
        if s.mic.meter is not None:
            yield _single("booth_mic_peak_dbfs", "Microphone peak level, dBFS", s.mic.meter.peak_dbfs)
            yield _single("booth_mic_rms_dbfs", "Microphone RMS level, dBFS", s.mic.meter.rms_dbfs)
            clips = CounterMetricFamily("booth_mic_clips", "Audio blocks at or above -1 dBFS")
            clips.add_metric([], s.mic.meter.clip_count)
            yield clips

        alerts = _gauge("booth_alerts_active", "Active alerts by severity", ["severity"])
        for sev in (Severity.INFO, Severity.WARN, Severity.CRITICAL):
            alerts.add_metric([sev.label], sum(1 for a in s.alerts if a.severity is sev))
        yield alerts

    # ------------------------------------------------------------------ drop
    def _drop(self) -> Iterator[Any]:
        if self.sources.drop is None:
            return
        view = self.sources.drop()
        if view is None:
            return
        left = _gauge("booth_drop_units_left", "Units left per SKU", ["sku"])
        initial = _gauge("booth_drop_units_initial", "Units at the start of the drop per SKU", ["sku"])
        for sku in view.skus:
            left.add_metric([sku.id], sku.left)
            initial.add_metric([sku.id], sku.initial)
        yield from (left, initial)
        sold = CounterMetricFamily("booth_drop_units_sold", "Units sold in this drop")
        sold.add_metric([], view.units_sold)
        yield sold
        yield _single("booth_drop_remaining_seconds", "Seconds left on the offer timer", view.remaining_s)
        phase = _gauge("booth_drop_phase", "Drop phase (1 for the current one)", ["phase"])
        for ph in Phase:
            phase.add_metric([ph.value], 1.0 if ph is view.phase else 0.0)
        yield phase

    # ------------------------------------------------------------------ sources and failover
    def _sources(self) -> Iterator[Any]:
        if self.sources.source_states is not None:
            state = _gauge("booth_source_state", "Source state (1 for the current one)", ["source", "state"])
            for name, current in self.sources.source_states().items():
                for st in SOURCE_STATES:
                    state.add_metric([name, st], 1.0 if st == current else 0.0)
            yield state
        if self.sources.active_source is not None:
            active = self.sources.active_source()
            if active is not None:
                g = _gauge("booth_source_active", "The source on program", ["source"])
                g.add_metric([active], 1.0)
                yield g
        if self.sources.failover_switches is not None:
            c = CounterMetricFamily("booth_failover_switches", "Automatic and manual source switches")
            c.add_metric([], self.sources.failover_switches())
            yield c

    def _outputs(self) -> Iterator[Any]:
        if self.sources.outputs is None:
            return
        connected = _gauge("booth_output_connected", "Output connected to its ingest", ["output"])
        bitrate = _gauge("booth_output_bitrate_bits_per_second", "Output bitrate", ["output"])
        for name, (ok, bps) in self.sources.outputs().items():
            connected.add_metric([name], 1.0 if ok else 0.0)
            bitrate.add_metric([name], bps)
        yield from (connected, bitrate)


def _single(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def make_registry(sources: MetricsSources) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BoothCollector(sources))
    return registry
