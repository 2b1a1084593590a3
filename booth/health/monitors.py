"""Rig monitors: sampler threads that turn sensors, probes and the microphone into snapshots.

Threads (each named, each with a stop event, all joined by `HealthMonitor.stop`):
- `booth-health`: samples psutil once a second and publishes a `HealthSnapshot` every
  `refresh_s` (0.25 s) — alerts are evaluated there, so their hysteresis runs on one cadence;
- `booth-probe-<endpoint>`: one per endpoint, so a hanging endpoint delays nobody else;
- `booth-health-mic`: opens the microphone by name and re-probes every 5 s when there is none.

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
from booth.core.health.meter import (
    InputDevice,
    MeterBallistics,
    MicState,
    MicStatus,
    choose_input_device,
    int16_block_levels,
)
from booth.core.health.network import EndpointState, EndpointStats, InterfaceStatus, LinkStats
from booth.core.health.power import DrainEstimator, PowerStatus, PowerVerdict, assess_power
from booth.core.health.rules import HealthRules
from booth.core.health.settings import HealthConfig
from booth.core.health.snapshot import HealthSnapshot, empty_snapshot
from booth.core.health.system import DiskStatus, SystemReading
from booth.devices.health_audio import AudioBackend, AudioStream, AudioUnavailable, PyAudioBackend
from booth.devices.health_probes import Probe, make_probe
from booth.devices.health_system import PsutilSensors, SensorError, SystemSensors

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 3.0


class _Worker:
    """A named thread with a stop event; `step()` returns how long to wait before the next one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.on_start()
        while not self._stop.is_set():
            try:
                wait = self.step()
            except Exception:
                log.exception("%s: step failed; carrying on", self.name)
                wait = 1.0
            if wait > 0:
                self._stop.wait(wait)
        self.on_stop()

    def request_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = JOIN_TIMEOUT_S) -> bool:
        thread, self._thread = self._thread, None
        if thread is None:  # never started (sampled by hand): release what it holds all the same
            self.on_stop()
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("%s did not stop within %.1f s (blocked in a native call); abandoning it", self.name,
                        timeout)
            return False
        return True

    def stop(self) -> None:
        self.request_stop()
        self.join()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def on_start(self) -> None:
        pass

    def on_stop(self) -> None:
        pass

    def step(self) -> float:
        raise NotImplementedError


# ---------------------------------------------------------------------- endpoints
class ProbeMonitor(_Worker):
    """Probes one endpoint every `interval_s`; after a failure it re-probes at once to confirm."""

    # Loss is judged over 60 probes (30 s at 0.5 s): over 20, one lost probe is already 5 % (critical).
    def __init__(self, probe: Probe, interval_s: float = 0.5, timeout_s: float = 0.6, clock: Clock | None = None,
                 window: int = 60) -> None:
        super().__init__(f"booth-probe-{probe.name}")
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

    def on_stop(self) -> None:
        self.probe.close()


# ---------------------------------------------------------------------- microphone
class MicMonitor(_Worker):
    """Keeps the remembered microphone open and metered; never raises.

    `wanted` is a device *name* ("" = the default input). Levels are computed on PortAudio's
    thread (≈10 µs per block) and kept latest-wins behind a lock.
    """

    REPROBE_S = 5.0
    STALL_S = 2.0  # a live stream with no block for this long is treated as lost

    def __init__(self, backend: AudioBackend, wanted: str = "", clock: Clock | None = None,
                 silence_dbfs: float = -60.0) -> None:
        super().__init__("booth-health-mic")
        self.backend = backend
        self.wanted = wanted
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._meter = MeterBallistics(silence_dbfs=silence_dbfs)
        self._stream: AudioStream | None = None
        self._device: InputDevice | None = None
        self._state = MicState.OPENING
        self._detail = "starting"
        self._last_block_at: float | None = None
        self._next_probe_at = 0.0
        self._blocks = 0
        self._overflows = 0
        self._rate = 48000
        self._block_listeners: list[Callable[[bytes, int], None]] = []

    def add_block_listener(self, listener: Callable[[bytes, int], None]) -> None:
        """`listener(pcm_s16le_mono, sample_rate)` on PortAudio's thread for every block: never block in it."""
        self._block_listeners.append(listener)

    # PortAudio thread
    def _on_block(self, data: bytes, status: int) -> None:
        for listener in self._block_listeners:
            listener(data, self._rate)
        peak, rms = int16_block_levels(data)
        now = self._clock.monotonic()
        with self._lock:
            self._meter.feed(peak, rms, now)
            self._last_block_at = now
            self._blocks += 1
            if status:
                self._overflows += 1

    def step(self) -> float:
        self.check_once()
        return 1.0

    def check_once(self) -> None:
        """Open the device if needed, notice a lost one; the thread calls this once a second."""
        now = self._clock.monotonic()
        with self._lock:
            stream, state, last = self._stream, self._state, self._last_block_at
        if stream is not None:
            stalled = last is not None and now - last > self.STALL_S
            if not stream.is_active() or stalled:
                name = self._device.name if self._device else "?"
                log.warning("microphone '%s' stopped (%s); re-probing every %.0f s", name,
                            "no audio for %.0f s" % (now - (last or now)) if stalled else "stream ended",
                            self.REPROBE_S)
                stream.close()
                self._set(MicState.LOST, "the input stream stopped", stream=None)
                self._next_probe_at = now + self.REPROBE_S
            return
        if now < self._next_probe_at:
            return
        self._next_probe_at = now + self.REPROBE_S
        try:
            devices = self.backend.input_devices(refresh=state is not MicState.OPENING)
        except AudioUnavailable as exc:
            self._set(MicState.NO_AUDIO, str(exc))
            return
        device = choose_input_device(devices, self.wanted)
        if device is None:
            if state is not MicState.LOST:
                self._set(MicState.NO_DEVICE, "no input device")
            return
        try:
            with self._lock:
                self._meter.reset(now)
                self._last_block_at = now
            self._rate = int(device.default_rate) or 48000  # what the backend opens it at
            stream = self.backend.open_input(device, self._on_block)
        except AudioUnavailable as exc:
            self._set(MicState.NO_DEVICE, str(exc))
            return
        self._device = device
        log.info("microphone: '%s' (%d ch, %.0f Hz)", device.name, device.channels, device.default_rate)
        self._set(MicState.LIVE, "", stream=stream)

    def _set(self, state: MicState, detail: str, stream: AudioStream | None = None) -> None:
        with self._lock:
            if state is not self._state:
                log.info("microphone: %s%s", state.value, f" ({detail})" if detail else "")
            self._state, self._detail, self._stream = state, detail, stream

    def status(self, now: float | None = None) -> MicStatus:
        now = self._clock.monotonic() if now is None else now
        with self._lock:
            device = self._device.name if self._device else None
            meter = self._meter.reading(now) if self._state is MicState.LIVE else None
            wanted = self.wanted if self.wanted and device and self.wanted.lower() not in device.lower() else None
            return MicStatus(self._state, device, wanted, self._detail, meter)

    def on_stop(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        self.backend.close()


# ---------------------------------------------------------------------- everything
class HealthMonitor(_Worker):
    """Samples the system, gathers endpoint and mic figures, evaluates alerts, publishes snapshots."""

    def __init__(
        self,
        config: HealthConfig,
        sensors: SystemSensors,
        probes: Sequence[ProbeMonitor] = (),
        mic: MicMonitor | None = None,
        clock: Clock | None = None,
        drop_need_s: Callable[[], float | None] = lambda: None,
        output_bitrate_bps: Callable[[], float] | None = None,
        refresh_s: float = 0.25,
        system_every_s: float = 1.0,
    ) -> None:
        super().__init__("booth-health")
        self.config = config
        self.sensors = sensors
        self.probes = tuple(probes)
        self.mic = mic
        self._clock = clock or SystemClock()
        self.drop_need_s = drop_need_s
        self._output_bitrate = output_bitrate_bps or (lambda: config.output_bitrate_kbps * 1000.0)
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
        audio: AudioBackend | None = None,
        **kwargs: object,
    ) -> HealthMonitor:
        """The real rig: psutil, the configured endpoints, PyAudio (unless `mic = "none"`)."""
        clock = clock or SystemClock()
        probes = [
            ProbeMonitor(make_probe(e, clock.monotonic), e.interval_s, e.timeout_s, clock) for e in config.endpoints
        ]
        mic = None
        if config.mic_wanted:
            mic = MicMonitor(audio or PyAudioBackend(), config.mic, clock)
        return cls(config, sensors or PsutilSensors(), probes, mic, clock, drop_need_s, **kwargs)  # type: ignore[arg-type]

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
            p.start()
        if self.mic is not None:
            self.mic.start()
        super().start()

    def stop(self) -> None:
        workers: list[_Worker] = [self, *self.probes]
        if self.mic is not None:
            workers.append(self.mic)
        for w in workers:
            w.request_stop()
        for w in workers:
            w.join()

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
        self._disk = self.sensors.disk(self.config.disk_path, self.config.record_bitrate_kbps * 1000.0)
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
        endpoints = tuple(p.stats(now) for p in self.probes)
        mic = self.mic.status(now) if self.mic is not None else MicStatus(MicState.DISABLED, detail="mic = none")
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
