"""psutil readers for power, CPU, memory, temperatures, disk and network interfaces.

Everything goes through `PsutilSensors`, whose `ps` argument is the seam: the real
`psutil` module by default, a fake with psutil's own reading shapes in tests. A reading that
fails becomes a sentence in the result, never an exception out of the sampler.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import psutil

from booth.core.health.network import InterfaceStatus, ThroughputMeter, guess_interface_kind
from booth.core.health.power import BatteryReading
from booth.core.health.system import SystemReading, Temperature

log = logging.getLogger(__name__)


class SensorError(RuntimeError):
    """A sensor that exists but failed to read; the message says which and why."""


class SystemSensors(Protocol):
    def battery(self) -> BatteryReading | None:
        """None when the machine has no battery; raises SensorError when the reading failed."""
        ...

    def system(self) -> SystemReading: ...

    def interfaces(self, now: float) -> tuple[InterfaceStatus, ...]: ...


def battery_from_psutil(raw: Any, ps: Any = psutil) -> BatteryReading | None:
    """psutil's `sbattery(percent, secsleft, power_plugged)` → our reading."""
    if raw is None:
        return None
    secsleft = raw.secsleft
    plugged = raw.power_plugged
    os_left: float | None
    if secsleft == ps.POWER_TIME_UNLIMITED:
        os_left = None
        plugged = True if plugged is None else plugged
    elif secsleft == ps.POWER_TIME_UNKNOWN or secsleft is None or secsleft < 0:
        os_left = None
    else:
        os_left = float(secsleft)
    return BatteryReading(float(raw.percent), os_left, None if plugged is None else bool(plugged))


class PsutilSensors:
    def __init__(
        self, ps: ModuleType | Any = psutil, sysfs_net: Path = Path("/sys/class/net"), platform: str = sys.platform
    ) -> None:
        self._ps = ps
        self._sysfs_net = sysfs_net
        self._platform = platform
        self._throughput = ThroughputMeter()
        self._kinds: dict[str, tuple[bool, str | None]] = {}
        self._warned: set[str] = set()
        try:
            self._process = ps.Process(os.getpid())
            self._process.cpu_percent(None)  # the first call returns 0.0: prime both
            ps.cpu_percent(None)
        except Exception as exc:  # a sandbox without /proc
            self._process = None
            self._warn_once("cpu", "CPU readings unavailable: %s", exc)

    def _warn_once(self, key: str, fmt: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(fmt, *args)

    # ------------------------------------------------------------------ power
    def battery(self) -> BatteryReading | None:
        read = getattr(self._ps, "sensors_battery", None)
        if read is None:
            return None  # platform without battery support: treat as mains
        try:
            raw = read()
        except Exception as exc:
            raise SensorError(f"battery reading failed ({type(exc).__name__}: {exc})") from exc
        return battery_from_psutil(raw, self._ps)

    # ------------------------------------------------------------------ system
    def system(self) -> SystemReading:
        ps = self._ps
        errors: list[str] = []

        def attempt(what: str, fn: Any) -> Any:
            try:
                return fn()
            except Exception as exc:
                errors.append(f"{what}: {type(exc).__name__}: {exc}")
                self._warn_once(what, "%s reading failed: %s", what, exc)
                return None

        cpu = attempt("cpu", lambda: float(ps.cpu_percent(None)))
        proc = attempt("process cpu", lambda: float(self._process.cpu_percent(None))) if self._process else None
        mem = attempt("memory", ps.virtual_memory)
        load = attempt("load", lambda: float(ps.getloadavg()[0])) if hasattr(ps, "getloadavg") else None
        temps, supported = self._temperatures(errors)
        return SystemReading(
            cpu_percent=cpu,
            process_cpu_percent=proc,
            memory_percent=float(mem.percent) if mem is not None else None,
            memory_available_bytes=int(mem.available) if mem is not None else None,
            temperatures=temps,
            temperatures_supported=supported,
            load_1m=load,
            errors=tuple(errors),
        )

    def _temperatures(self, errors: list[str]) -> tuple[tuple[Temperature, ...], bool]:
        read = getattr(self._ps, "sensors_temperatures", None)
        if read is None:  # macOS, Windows: the function does not exist
            return (), False
        try:
            raw = read()
        except Exception as exc:
            errors.append(f"temperatures: {type(exc).__name__}: {exc}")
            self._warn_once("temperatures", "temperature sensors failed: %s", exc)
            return (), False
        temps = []
        for chip, entries in (raw or {}).items():
            for index, entry in enumerate(entries):
                if entry.current is None:
                    continue
                label = entry.label or f"#{index}"
                temps.append(Temperature(f"{chip}/{label}", float(entry.current), entry.high, entry.critical))
        return tuple(temps), bool(temps)

    # ------------------------------------------------------------------ disk
    # ------------------------------------------------------------------ network
    def interfaces(self, now: float) -> tuple[InterfaceStatus, ...]:
        try:
            stats = self._ps.net_if_stats()
        except Exception as exc:
            self._warn_once("net_if_stats", "interface list failed: %s", exc)
            return ()
        try:
            io = self._ps.net_io_counters(pernic=True) or {}
        except Exception as exc:
            self._warn_once("net_io", "interface counters failed: %s", exc)
            io = {}
        rates = self._throughput.update(now, {n: (c.bytes_sent, c.bytes_recv) for n, c in io.items()})
        out = []
        for name, st in sorted(stats.items()):
            wireless, driver = self._sysfs_hints(name)
            kind = guess_interface_kind(name, wireless, driver, self._platform)
            tx, rx = rates.get(name, (None, None))
            speed = float(st.speed) if st.speed else None  # psutil: 0 = unknown
            out.append(InterfaceStatus(name, kind, bool(st.isup), speed, tx, rx))
        return tuple(out)

    def _sysfs_hints(self, name: str) -> tuple[bool, str | None]:
        cached = self._kinds.get(name)
        if cached is not None:
            return cached
        wireless, driver = False, None
        if self._platform.startswith("linux"):
            base = self._sysfs_net / name
            try:
                wireless = (base / "wireless").exists() or (base / "phy80211").exists()
                link = base / "device" / "driver"
                if link.exists():
                    driver = Path(os.readlink(link)).name
            except OSError:
                pass
        self._kinds[name] = (wireless, driver)
        return wireless, driver
