"""Fakes at the device seams, with the real APIs' shapes.

`FakePsutil` answers like the psutil module (its own namedtuple types, its constants);
`FakePyAudio` answers like the pyaudio module (device-info dicts, callback streams). Readings
were recorded on real machines (a ThinkPad on battery, a MacBook, this CI VM).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import psutil
from psutil import _ntuples as nt

from booth.core.health.alerts import Alert, Severity
from booth.core.health.meter import MeterReading, MicState, MicStatus
from booth.core.health.network import EndpointState, EndpointStats, InterfaceKind, InterfaceStatus
from booth.core.health.power import PowerStatus, PowerVerdict
from booth.core.health.snapshot import HealthSnapshot
from booth.core.health.system import DiskStatus, SystemReading, Temperature

# recorded: ThinkPad T14 on battery (Linux), and the same plugged in and full
THINKPAD_ON_BATTERY = nt.sbattery(percent=62.37, secsleft=9420, power_plugged=False)
THINKPAD_CHARGING = nt.sbattery(percent=80, secsleft=psutil.POWER_TIME_UNLIMITED, power_plugged=True)
MACBOOK_UNKNOWN = nt.sbattery(percent=41, secsleft=psutil.POWER_TIME_UNKNOWN, power_plugged=False)
THINKPAD_TEMPS = {
    "coretemp": [nt.shwtemp("Package id 0", 61.0, 100.0, 100.0), nt.shwtemp("Core 0", 58.0, 100.0, 100.0)],
    "acpitz": [nt.shwtemp("", 47.0, None, None)],
}


class FakeProcess:
    def __init__(self, percent: float = 3.5) -> None:
        self.percent = percent

    def cpu_percent(self, interval: float | None = None) -> float:
        return self.percent


class FakePsutil:
    """The psutil functions Booth calls. Missing attributes behave like a platform without them."""

    POWER_TIME_UNKNOWN = psutil.POWER_TIME_UNKNOWN
    POWER_TIME_UNLIMITED = psutil.POWER_TIME_UNLIMITED

    def __init__(self, battery: Any = None, temps: Any = None, has_temps: bool = True, cpu: float = 12.0,
                 disk_free: int = 41_000_000_000) -> None:
        self.battery_value = battery
        self.temps_value = {} if temps is None else temps
        self.cpu = cpu
        self.disk_free = disk_free
        self.memory = _svmem()
        self.nics = {
            "lo": nt.snicstats(True, psutil.NIC_DUPLEX_UNKNOWN, 0, 65536, "up,loopback,running"),
            "wlp2s0": nt.snicstats(True, psutil.NIC_DUPLEX_UNKNOWN, 0, 1500, "up,broadcast,running,multicast"),
            "enx0a1b2c3d4e5f": nt.snicstats(False, psutil.NIC_DUPLEX_UNKNOWN, 0, 1500, "broadcast,multicast"),
        }
        self.sent = 0
        if not has_temps:
            self.sensors_temperatures = None  # type: ignore[assignment]

    def sensors_battery(self) -> Any:
        if isinstance(self.battery_value, Exception):
            raise self.battery_value
        return self.battery_value

    def sensors_temperatures(self) -> Any:
        if isinstance(self.temps_value, Exception):
            raise self.temps_value
        return self.temps_value

    def cpu_percent(self, interval: float | None = None) -> float:
        return self.cpu

    def Process(self, pid: int | None = None) -> FakeProcess:  # psutil's own name
        return FakeProcess()

    def virtual_memory(self) -> Any:
        return self.memory

    def getloadavg(self) -> tuple[float, float, float]:
        return (0.42, 0.38, 0.30)

    def disk_usage(self, path: str) -> Any:
        return nt.sdiskusage(256_000_000_000, 256_000_000_000 - self.disk_free, self.disk_free, 84.0)

    def net_if_stats(self) -> dict[str, Any]:
        return self.nics

    def net_io_counters(self, pernic: bool = False) -> dict[str, Any]:
        self.sent += 625_000  # 5 Mbit per call
        return {name: nt.snetio(self.sent, self.sent // 4, 0, 0, 0, 0, 0, 0) for name in self.nics}


def _svmem() -> Any:
    fields = nt.svmem._fields
    values = {"total": 16_000_000_000, "available": 9_000_000_000, "percent": 43.7}
    return nt.svmem(*[values.get(f, 0) for f in fields])


# ---------------------------------------------------------------------- PyAudio
class FakeStream:
    def __init__(self, callback: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.callback = callback
        self.kwargs = kwargs
        self.active = True
        self.closed = False

    def push(self, samples: np.ndarray, status: int = 0) -> Any:
        """Deliver one block the way PortAudio does (from its own thread in real life)."""
        return self.callback(samples.astype(np.int16).tobytes(), len(samples), {}, status)

    def is_active(self) -> bool:
        return self.active

    def stop_stream(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True


# recorded: get_device_info_by_index on a laptop with a USB lavalier plugged in
LAPTOP_DEVICES = [
    {"index": 0, "structVersion": 2, "name": "HDA Intel PCH: ALC257 Analog (hw:0,0)", "hostApi": 0,
     "maxInputChannels": 2, "maxOutputChannels": 2, "defaultSampleRate": 44100.0,
     "defaultLowInputLatency": 0.0087, "defaultLowOutputLatency": 0.0087,
     "defaultHighInputLatency": 0.0348, "defaultHighOutputLatency": 0.0348},
    {"index": 1, "structVersion": 2, "name": "HDA Intel PCH: HDMI 0 (hw:0,3)", "hostApi": 0,
     "maxInputChannels": 0, "maxOutputChannels": 8, "defaultSampleRate": 44100.0,
     "defaultLowInputLatency": -1.0, "defaultLowOutputLatency": 0.0058,
     "defaultHighInputLatency": -1.0, "defaultHighOutputLatency": 0.0348},
    {"index": 2, "structVersion": 2, "name": "RØDE Lavalier GO: USB Audio (hw:2,0)", "hostApi": 0,
     "maxInputChannels": 1, "maxOutputChannels": 0, "defaultSampleRate": 48000.0,
     "defaultLowInputLatency": 0.0087, "defaultLowOutputLatency": -1.0,
     "defaultHighInputLatency": 0.0348, "defaultHighOutputLatency": -1.0},
]


class FakePyAudioModule:
    """Stands in for `import pyaudio`: constants plus a `PyAudio` class over a device list."""

    paInt16 = 8
    paContinue = 0
    paComplete = 1

    def __init__(self, devices: list[dict[str, Any]] | None = None, default_input: int | None = 0,
                 open_error: Exception | None = None, init_error: Exception | None = None) -> None:
        self.devices = list(LAPTOP_DEVICES if devices is None else devices)
        self.default_input = default_input
        self.open_error = open_error
        self.init_error = init_error
        self.streams: list[FakeStream] = []
        self.inits = 0
        self.lock = threading.Lock()
        module = self

        class PyAudio:
            def __init__(self) -> None:
                if module.init_error is not None:
                    raise module.init_error
                module.inits += 1
                self._devices = list(module.devices)  # PortAudio snapshots the list at init

            def get_device_count(self) -> int:
                return len(self._devices)

            def get_device_info_by_index(self, index: int) -> dict[str, Any]:
                return dict(self._devices[index])

            def get_default_input_device_info(self) -> dict[str, Any]:
                if module.default_input is None or module.default_input >= len(self._devices):
                    raise OSError("No Default Input Device Available")
                return dict(self._devices[module.default_input])

            def open(self, **kwargs: Any) -> FakeStream:
                if module.open_error is not None:
                    raise module.open_error
                stream = FakeStream(kwargs["stream_callback"], kwargs)
                with module.lock:
                    module.streams.append(stream)
                return stream

            def terminate(self) -> None:
                pass

        self.PyAudio = PyAudio


def sine(amplitude: float, n: int = 1024, rate: float = 48000.0, freq: float = 1000.0) -> np.ndarray:
    t = np.arange(n) / rate
    return np.round(amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


# ---------------------------------------------------------------------- snapshots
def make_snapshot(seq: int = 1, t: float = 1000.0, battery: float | None = 62.0, cpu: float = 23.0,
                  rtt_s: float | None = 0.048, mic_peak: float = -18.0,
                  alerts: tuple[Alert, ...] = ()) -> HealthSnapshot:
    power = (PowerStatus(PowerVerdict.GO, battery, False, None, 0.4, battery / 0.4, "drain", 15.0)
             if battery is not None else PowerStatus(PowerVerdict.MAINS, detail="no battery"))
    return HealthSnapshot(
        seq=seq, taken_at=t, wall=1_700_000_000.0 + t,
        power=power,
        system=SystemReading(cpu, 6.0, 41.0, 9_000_000_000, (Temperature("coretemp/Package id 0", 61.0),), True),
        disk=DiskStatus("/home/booth/recordings", 41_000_000_000, 256_000_000_000, 6e6),
        interfaces=(InterfaceStatus("wlp2s0", InterfaceKind.WIFI, True, None, 4.6e6, 0.8e6),
                    InterfaceStatus("enx0a1b2c3d4e5f", InterfaceKind.CELLULAR, False)),
        endpoints=(EndpointStats("ingest", "rtmp://live.example.com/app/liv…9z",
                                 EndpointState.OK if rtt_s else EndpointState.UNREACHABLE,
                                 rtt_s, 0.004, rtt_s, 0.003 if rtt_s else None, 0.0, 20,
                                 0 if rtt_s else 3, None if rtt_s else "timed out after 0.75 s"),),
        mic=MicStatus(MicState.LIVE, "RØDE Lavalier GO: USB Audio (hw:2,0)", None, "",
                      MeterReading(mic_peak, mic_peak - 9, mic_peak + 3, False, 0, 0.4)),
        alerts=alerts,
        output_bitrate_bps=4.5e6,
    )


WARN_BATTERY = Alert("battery", Severity.WARN, "Battery 14 %: about 11 min left, the drop needs 15", 990.0)
CRIT_INGEST = Alert("endpoint.ingest.down", Severity.CRITICAL,
                    "Ingest unreachable: 3 probes failed in a row (timed out after 0.75 s)", 995.0)
