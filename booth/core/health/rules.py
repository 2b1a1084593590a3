"""Alert rules: figures in, one sentence per condition out, with hysteresis and de-duplication.

Call `evaluate` on a steady cadence (the monitor does it every status refresh) with the
current time; each figure keeps its own level between calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from booth.core.health.alerts import Alert, AlertBook, AlertChange, Flag, Hysteresis, Levels, Severity
from booth.core.health.meter import MicState, MicStatus
from booth.core.health.network import EndpointState, EndpointStats, InterfaceKind, InterfaceStatus
from booth.core.health.power import PowerStatus, PowerVerdict, power_sentence
from booth.core.health.settings import Thresholds
from booth.core.health.system import DiskStatus, SystemReading, format_bytes, format_duration


class _Put(Protocol):
    """What the rule helpers report through; `clearing`: the cause is gone, the quiet spell runs."""

    def __call__(self, key: str, severity: Severity, message: str, clearing: bool = False) -> None: ...


@dataclass(frozen=True)
class Evaluation:
    alerts: tuple[Alert, ...]
    changes: tuple[AlertChange, ...]
    power: PowerStatus  # with the verdict the alert hysteresis settled on


@dataclass
class _EndpointTrackers:
    down: Hysteresis
    failing: Flag
    rtt: Hysteresis
    loss: Hysteresis


@dataclass
class HealthRules:
    thresholds: Thresholds = field(default_factory=Thresholds)
    mic_wanted_name: str = ""  # "" = any/default device; a name = the host's own mic
    book: AlertBook = field(default_factory=AlertBook)

    def __post_init__(self) -> None:
        t = self.thresholds
        clear = t.clear_after_s
        self._forecast = Hysteresis(
            Levels(
                warn=t.forecast_warn_ratio,
                warn_exit=t.forecast_warn_ratio * 1.1,
                critical=t.forecast_critical_ratio,
                critical_exit=t.forecast_critical_ratio * 1.1,
                higher_is_worse=False,
            ),
            clear,
        )
        self._backstop = Hysteresis(
            Levels(
                warn=t.battery_warn_percent,
                warn_exit=t.battery_warn_percent + 2,
                critical=t.battery_critical_percent,
                critical_exit=t.battery_critical_percent + 1,
                higher_is_worse=False,
            ),
            clear,
        )
        self._cpu = Hysteresis(
            Levels(t.cpu_warn_percent, t.cpu_warn_percent - 10, t.cpu_critical_percent, t.cpu_critical_percent - 5),
            clear,
        )
        self._cpu_smoothed: float | None = None
        self._memory = Hysteresis(
            Levels(t.memory_warn_percent, t.memory_warn_percent - 5, t.memory_critical_percent,
                   t.memory_critical_percent - 2),
            clear,
        )
        self._temp = Hysteresis(
            Levels(t.temp_warn_celsius, t.temp_warn_celsius - 5, t.temp_critical_celsius,
                   t.temp_critical_celsius - 5),
            clear,
        )
        self._disk = Hysteresis(
            Levels(t.disk_warn_minutes, t.disk_warn_minutes * 1.2, t.disk_critical_minutes,
                   t.disk_critical_minutes * 1.5, higher_is_worse=False),
            clear,
        )
        self._no_network = Flag(Severity.CRITICAL, clear)
        self._mic_clip = Flag(Severity.WARN, 3.0)
        self._mic_silent = Flag(Severity.WARN, 1.0)
        self._endpoints: dict[str, _EndpointTrackers] = {}

    # ------------------------------------------------------------------ entry point
    def evaluate(
        self,
        now: float,
        power: PowerStatus,
        system: SystemReading | None = None,
        disk: DiskStatus | None = None,
        interfaces: Sequence[InterfaceStatus] = (),
        endpoints: Sequence[EndpointStats] = (),
        mic: MicStatus | None = None,
    ) -> Evaluation:
        changes: list[AlertChange] = []
        keys: set[str] = set()

        def put(key: str, severity: Severity, message: str, clearing: bool = False) -> None:
            keys.add(key)
            change = self.book.set(key, severity, message, now, clearing)
            if change:
                changes.append(change)

        power = self._power(now, power, put)
        self._system(now, system, put)
        self._disk_rule(now, disk, put)
        self._network(now, interfaces, endpoints, put)
        self._mic(now, mic, put)
        changes.extend(self.book.clear_missing(keys, now))
        return Evaluation(self.book.active(), tuple(changes), power)

    # ------------------------------------------------------------------ power
    def _power(self, now: float, power: PowerStatus, put: _Put) -> PowerStatus:
        if not power.has_battery or power.percent is None or power.plugged:
            self._forecast.reset()
            self._backstop.reset()
            put("battery", Severity.OK, "")
            return power
        ratio = None
        if power.forecast_min is not None and power.need_min:
            ratio = power.forecast_min / power.need_min
        if ratio is None:
            self._forecast.reset()
        level = max(self._forecast.update(ratio, now), self._backstop.update(power.percent, now))
        message = power_sentence(power)
        if level is Severity.CRITICAL and power.percent <= self.thresholds.battery_critical_percent:
            message += ": plug in the charger now"
        put("battery", level, message)
        verdict = {
            Severity.CRITICAL: PowerVerdict.NO_GO,
            Severity.WARN: PowerVerdict.AT_RISK,
        }.get(level, PowerVerdict.GO if power.forecast_min is not None else PowerVerdict.ESTIMATING)
        return replace(power, verdict=verdict)

    # ------------------------------------------------------------------ system
    def _system(self, now: float, s: SystemReading | None, put: _Put) -> None:
        if s is None:
            return
        if s.cpu_percent is not None:  # smooth: one busy second is not an alarm
            prev = self._cpu_smoothed
            self._cpu_smoothed = s.cpu_percent if prev is None else prev + 0.3 * (s.cpu_percent - prev)
        level = self._cpu.update(self._cpu_smoothed, now)
        cpu = self._cpu_smoothed or 0  # the figure judged
        if self._cpu.clearing:  # the load is gone: say so, rather than "may stutter" at 30 %
            put("cpu", level, f"CPU back to {cpu:.0f} %: the alert clears after {self._cpu.clear_after_s:g} s "
                              f"below {self._exit_of(self._cpu):.0f} %", clearing=True)
        else:
            put("cpu", level, f"CPU {cpu:.0f} %: video may stutter")
        level = self._memory.update(s.memory_percent, now)
        free = format_bytes(s.memory_available_bytes) if s.memory_available_bytes is not None else "?"
        put("memory", level, f"Memory {s.memory_percent or 0:.0f} % used: {free} free", self._memory.clearing)
        hottest = s.hottest
        level = self._temp.update(hottest.celsius if hottest else None, now)
        if hottest:
            put("temperature", level, f"Temperature {hottest.celsius:.0f} °C ({hottest.sensor}): "
                                      "keep the laptop out of the sun, give it air", self._temp.clearing)

    @staticmethod
    def _exit_of(tracker: Hysteresis) -> float:
        """The threshold the figure must stay on the good side of for its current level to clear."""
        levels = tracker.levels
        exit_at = levels.critical_exit if tracker.state >= Severity.CRITICAL else levels.warn_exit
        return exit_at if exit_at is not None else 0.0

    def _disk_rule(self, now: float, disk: DiskStatus | None, put: _Put) -> None:
        if disk is None:
            return
        if disk.error:
            put("disk", Severity.WARN, f"Disk {disk.path}: cannot read free space ({disk.error})")
            return
        left = disk.record_seconds_left
        level = self._disk.update(None if left is None else left / 60.0, now)
        if left is not None and disk.free_bytes is not None:
            put("disk", level, f"Disk {format_bytes(disk.free_bytes)} free: about {format_duration(left)} "
                               f"of recording at {disk.record_bitrate_bps / 1e6:.1f} Mbit/s", self._disk.clearing)

    # ------------------------------------------------------------------ network
    def _network(
        self, now: float, interfaces: Sequence[InterfaceStatus], endpoints: Sequence[EndpointStats], put: _Put
    ) -> None:
        real = [i for i in interfaces if i.kind not in (InterfaceKind.LOOPBACK, InterfaceKind.VIRTUAL)]
        if real:
            none_up = not any(i.up for i in real)
            names = ", ".join(i.name for i in real)
            put("network", Severity(self._no_network.set(none_up, now)),
                f"No network: every interface is down ({names})")
        t = self.thresholds
        for e in endpoints:
            tr = self._endpoints.get(e.name)
            if tr is None:
                tr = self._endpoints[e.name] = _EndpointTrackers(
                    down=Hysteresis(Levels(critical=2, critical_exit=0.5), t.clear_after_s),
                    failing=Flag(Severity.INFO, t.clear_after_s),
                    rtt=Hysteresis(Levels(t.rtt_warn_ms, t.rtt_warn_ms * 0.72, t.rtt_critical_ms,
                                          t.rtt_critical_ms * 0.8), t.clear_after_s),
                    loss=Hysteresis(Levels(t.loss_warn_percent, t.loss_warn_percent / 4, t.loss_critical_percent,
                                           t.loss_critical_percent * 0.6), t.clear_after_s),
                )
            title = e.name[:1].upper() + e.name[1:]
            if e.state is EndpointState.UNKNOWN:
                continue
            down = tr.down.update(float(e.consecutive_failures), now)
            failing = tr.failing.set(e.consecutive_failures > 0, now)  # a lone lost probe: info, held
            why = f" ({e.last_error})" if e.last_error else ""
            if down > Severity.OK:
                n = e.consecutive_failures
                msg = (f"{title} unreachable: {n} probes failed in a row{why}" if n
                       else f"{title} is answering again, watching it")
                put(f"endpoint.{e.name}.down", down, msg)
            else:
                put(f"endpoint.{e.name}.down", failing,
                    f"{title}: a probe failed{why}" if e.consecutive_failures else f"{title}: a probe failed recently")
            if down > Severity.OK:  # one sentence for a dead endpoint, not three
                tr.rtt.reset()
                tr.loss.reset()
                put(f"endpoint.{e.name}.rtt", Severity.OK, "")
                put(f"endpoint.{e.name}.loss", Severity.OK, "")
                continue
            rtt_ms = e.srtt_s * 1000 if e.srtt_s is not None else None
            level = tr.rtt.update(rtt_ms, now)
            jitter = f" (jitter {e.jitter_s * 1000:.0f} ms)" if e.jitter_s is not None else ""
            put(f"endpoint.{e.name}.rtt", level, f"{title} round trip {rtt_ms or 0:.0f} ms{jitter}", tr.rtt.clearing)
            loss = e.loss_percent if e.probes >= 5 else None
            level = tr.loss.update(loss, now)
            put(f"endpoint.{e.name}.loss", level,
                f"{title} loss {e.loss_percent or 0:.0f} % over the last {e.probes} probes", tr.loss.clearing)

    # ------------------------------------------------------------------ microphone
    def _mic(self, now: float, mic: MicStatus | None, put: _Put) -> None:
        if mic is None or mic.state is MicState.DISABLED:
            return
        name = self.mic_wanted_name
        if mic.state in (MicState.NO_AUDIO, MicState.NO_DEVICE):
            severity = Severity.WARN if name else Severity.INFO
            what = f"'{name}' is not connected" if name else mic.detail or "no input device"
            put("mic.device", severity, f"No microphone: {what}")
        elif mic.state is MicState.LOST:
            put("mic.device", Severity.CRITICAL, f"Microphone '{mic.device}' stopped: unplugged?")
        elif mic.wanted and mic.device != mic.wanted:
            put("mic.device", Severity.WARN, f"Microphone '{mic.wanted}' not found: using '{mic.device}'")
        else:
            put("mic.device", Severity.OK, "")
        meter = mic.meter if mic.state is MicState.LIVE else None
        level = self._mic_clip.set(meter.clipping if meter else False, now)
        put("mic.clip", level, f"Microphone clipping: peak {meter.hold_dbfs if meter else 0:.1f} dBFS, "
                               "turn the gain down", self._mic_clip.clearing)
        silent = meter is not None and meter.silent_s >= self.thresholds.silence_seconds
        level = self._mic_silent.set(silent, now)
        put("mic.silence", level,
            f"Microphone silent for {meter.silent_s if meter else 0:.0f} s: dead mic or muted?",
            self._mic_silent.clearing)
