"""System figures: CPU, memory, temperatures, disk and recording time left.

One unit convention for sizes everywhere Booth shows or reads one: decimal (SI) units, as file
managers and disk makers count — 1 kB = 1000 bytes, 1 MB = 10^6, 1 GB = 10^9. `format_bytes`
writes them, and `MB` turns a configured "…_mb" figure into bytes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Temperature:
    sensor: str  # "coretemp/Package id 0"
    celsius: float
    high: float | None = None
    critical: float | None = None


@dataclass(frozen=True)
class SystemReading:
    cpu_percent: float | None  # whole machine, 0–100
    process_cpu_percent: float | None  # Booth's own process, % of one core (can exceed 100)
    memory_percent: float | None
    memory_available_bytes: int | None
    temperatures: tuple[Temperature, ...] = ()
    temperatures_supported: bool = False  # False: the OS exposes none (macOS, Windows, VMs)
    load_1m: float | None = None
    errors: tuple[str, ...] = ()  # readings that failed, in words

    @property
    def hottest(self) -> Temperature | None:
        return max(self.temperatures, key=lambda t: t.celsius, default=None)


@dataclass(frozen=True)
class DiskStatus:
    path: str
    free_bytes: int | None
    total_bytes: int | None
    record_bitrate_bps: float
    error: str | None = None

    @property
    def record_seconds_left(self) -> float | None:
        return recording_seconds_left(self.free_bytes, self.record_bitrate_bps)


def recording_seconds_left(free_bytes: int | None, bitrate_bps: float) -> float | None:
    if free_bytes is None or bitrate_bps <= 0:
        return None
    return free_bytes * 8 / bitrate_bps


MB = 1_000_000


def format_bytes(n: float) -> str:
    """'512 B', '3.2 kB', '812.4 MB', '41.3 GB' (decimal units, see above)."""
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n:.1f} TB"


def format_duration(seconds: float) -> str:
    """'9 h 12 min', '14 min', '45 s'."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    if s >= 60:
        return f"{s // 60} min"
    return f"{s} s"
