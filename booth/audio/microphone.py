"""The microphone: opened by name, metered, and the source of the program's sound.

`MicMonitor` keeps the remembered input open on PortAudio's callback thread and re-probes every
5 s when there is none (`booth-mic`). Levels feed the tech lead's meter; every block also goes to
block listeners (the program audio feed), which must never block PortAudio's thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from booth.core.clock import Clock, SystemClock
from booth.core.health.meter import (
    InputDevice,
    MeterBallistics,
    MicState,
    MicStatus,
    choose_input_device,
    int16_block_levels,
)
from booth.devices.health_audio import AudioBackend, AudioStream, AudioUnavailable
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)


class MicMonitor:
    """Keeps the remembered microphone open and metered; never raises.

    `wanted` is a device *name* ("" = the default input). Levels are computed on PortAudio's
    thread (≈10 µs per block) and kept latest-wins behind a lock.
    """

    REPROBE_S = 5.0
    STALL_S = 2.0  # a live stream with no block for this long is treated as lost

    def __init__(self, backend: AudioBackend, wanted: str = "", clock: Clock | None = None,
                 silence_dbfs: float = -60.0) -> None:
        self.worker = Worker("booth-mic", self.step, "Microphone", on_stop=self._release)
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

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        if self.worker.running:
            self.worker.stop()  # releases the device on its own thread
        else:
            self._release()  # never started (checked by hand): release what it holds all the same

    def _release(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
        self.backend.close()
