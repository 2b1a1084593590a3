"""Fault shims at Booth's own seams, for rehearsal drills: the same faults a phone, an uplink, a
battery, a disk or a shop gives on the night, injected where Booth meets them — so a drill runs the
same with a real phone and a real ingest as with test senders, and never kills a process Booth
does not own.

- `FaultySource` wraps a `FrameSource`: `pull` (the stream drops: reads and opens fail), `stall`
  (connected, no frames: reads wait), `freeze` (frames arrive, the picture is the last one again).
- `FaultyPusher` wraps the ingest push: `stall` stops feeding it (the bytes never reach ffmpeg, so
  the ingest stops receiving, as when the uplink stalls).
- `FaultySensors` replaces the battery reading; `FaultyDiskUsage` the disk guard's free space.
- `FaultyAdapter` is the shop client's transport: `unreachable` refuses every request.

Every shim passes through untouched until its `FaultSwitch` is set. They are built only for a
rehearsal (`FaultSeams`); a live drop has none.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from booth.core.frames import Pixels
from booth.core.health.power import BatteryReading
from booth.core.output import IngestTarget
from booth.devices.health_system import SystemSensors
from booth.devices.ingest import FfmpegPusher
from booth.devices.sources import FrameSource, SourceError

PULL, STALL, FREEZE, UNREACHABLE = "pull", "stall", "freeze", "unreachable"


class FaultSwitch:
    """Which fault is on ("" = none), set by a drill from any thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._mode = ""
        self._since: float | None = None
        self._changed = threading.Condition()

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def since(self) -> float | None:
        """Monotonic time the fault went on (None while off)."""
        return self._since

    def set(self, mode: str) -> float:
        with self._changed:
            self._mode, self._since = mode, time.monotonic()
            self._changed.notify_all()
            return self._since

    def clear(self) -> None:
        with self._changed:
            self._mode, self._since = "", None
            self._changed.notify_all()

    def wait_while(self, mode: str, timeout: float) -> bool:
        """Wait until the fault is no longer `mode` (True) or `timeout` passes (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._mode != mode, timeout)


class FaultySource:
    """A `FrameSource` with a drill's fault in front of it."""

    def __init__(self, inner: FrameSource, switch: FaultSwitch) -> None:
        self.inner = inner
        self.switch = switch
        self._last: Pixels | None = None
        self._closed = threading.Event()

    @property
    def label(self) -> str:
        return self.inner.label

    @property
    def live(self) -> bool:
        return self.inner.live

    @property
    def nominal_fps(self) -> float:
        return self.inner.nominal_fps

    def __getattr__(self, name: str) -> Any:  # anything else a source offers (stamps, …) is the inner one's
        return getattr(self.inner, name)

    def open(self) -> None:
        self._closed.clear()
        if self.switch.mode == PULL:
            raise SourceError(f"{self.label}: pulled by a rehearsal drill (no stream)")
        self.inner.open()

    def read(self) -> Pixels:
        mode = self.switch.mode
        if mode == PULL:
            raise SourceError(f"{self.label}: pulled by a rehearsal drill (the stream dropped)")
        if mode == STALL:
            # Connected, nothing arrives: the read waits like a stalled network read would.
            while self.switch.mode == STALL and not self._closed.is_set():
                self.switch.wait_while(STALL, 0.1)
            if self._closed.is_set():
                raise SourceError(f"{self.label}: closed while stalled")
        pixels = self.inner.read()
        if self.switch.mode == FREEZE and self._last is not None:
            return self._last.copy()  # the sender re-sends its last picture
        self._last = pixels
        return pixels

    def close(self) -> None:
        self._closed.set()
        self.inner.close()


class FaultyPusher:
    """An ingest push with a drill's fault in front of its stdin."""

    def __init__(self, inner: FfmpegPusher, switch: FaultSwitch) -> None:
        self.inner = inner
        self.switch = switch
        self.swallowed_bytes = 0

    @property
    def target(self) -> IngestTarget:
        return self.inner.target

    def __getattr__(self, name: str) -> Any:  # pid, stderr, exit_code, close, start: the real push's
        return getattr(self.inner, name)

    def write(self, data: bytes) -> None:
        if self.switch.mode == STALL:
            self.swallowed_bytes += len(data)  # the ingest gets nothing: ffmpeg's byte count stops
            return
        self.inner.write(data)


class FaultySensors:
    """The rig's sensors with the battery reading replaced while a drill holds it."""

    def __init__(self, inner: SystemSensors) -> None:
        self.inner = inner
        self.battery_override: BatteryReading | None = None

    def battery(self) -> BatteryReading | None:
        override = self.battery_override
        return override if override is not None else self.inner.battery()

    def __getattr__(self, name: str) -> Any:  # system(), interfaces(): the real ones
        return getattr(self.inner, name)


DiskUsage = Callable[[str], tuple[int, int, int]]


class FaultyDiskUsage:
    """`shutil.disk_usage` with the free space replaced while a drill holds it."""

    def __init__(self, inner: DiskUsage) -> None:
        self.inner = inner
        self.free_override: int | None = None

    def __call__(self, path: str) -> tuple[int, int, int]:
        total, used, free = self.inner(path)
        override = self.free_override
        if override is None:
            return total, used, free
        return total, max(0, total - override), override


class FaultyAdapter(HTTPAdapter):
    """The shop client's transport: while `unreachable`, every request fails as a refused connection."""

    def __init__(self, switch: FaultSwitch) -> None:
        super().__init__()
        self.switch = switch

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.switch.mode == UNREACHABLE:
            raise requests.ConnectionError("connection refused (the shop is unreachable: a rehearsal drill)")
        return super().send(request, **kwargs)


class FaultSeams:
    """Every seam a rehearsal's drills reach, built once by the composition root."""

    def __init__(self) -> None:
        self.sources: dict[str, FaultSwitch] = {}
        self.ingests: dict[str, FaultSwitch] = {}
        self.sensors: FaultySensors | None = None
        self.disk: FaultyDiskUsage | None = None
        self.shop = FaultSwitch("shop")

    def source(self, role: str) -> FaultSwitch:
        return self.sources.setdefault(role, FaultSwitch(role))

    def ingest(self, name: str) -> FaultSwitch:
        return self.ingests.setdefault(name, FaultSwitch(name))

    def wrap_source(self, role: str, source: FrameSource) -> FrameSource:
        return FaultySource(source, self.source(role))

    def pusher(self, target: IngestTarget) -> FfmpegPusher:
        return FaultyPusher(FfmpegPusher(target), self.ingest(target.name))  # type: ignore[return-value]

    def wrap_sensors(self, sensors: SystemSensors) -> SystemSensors:
        self.sensors = FaultySensors(sensors)
        return self.sensors

    def wrap_disk_usage(self, disk_usage: DiskUsage) -> DiskUsage:
        self.disk = FaultyDiskUsage(disk_usage)
        return self.disk

    def shop_adapter(self) -> FaultyAdapter:
        return FaultyAdapter(self.shop)

    def clear(self) -> None:
        """Every fault off (a drill that was interrupted leaves nothing behind)."""
        for switch in [*self.sources.values(), *self.ingests.values(), self.shop]:
            switch.clear()
        if self.sensors is not None:
            self.sensors.battery_override = None
        if self.disk is not None:
            self.disk.free_override = None
