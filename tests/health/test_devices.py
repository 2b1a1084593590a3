"""psutil and PyAudio faked only at their seam, with the real APIs' reading shapes."""

from __future__ import annotations

import pytest

from booth.audio.microphone import MicMonitor
from booth.core.clock import ManualClock
from booth.core.health.meter import MicState
from booth.core.health.network import InterfaceKind
from booth.devices.health_audio import AudioUnavailable, PyAudioBackend
from booth.devices.health_system import PsutilSensors, SensorError

from .fakes import (
    LAPTOP_DEVICES,
    MACBOOK_UNKNOWN,
    THINKPAD_CHARGING,
    THINKPAD_ON_BATTERY,
    THINKPAD_TEMPS,
    FakePsutil,
    FakePyAudioModule,
    sine,
)


def test_battery_shapes(tmp_path):
    on_battery = PsutilSensors(FakePsutil(THINKPAD_ON_BATTERY), sysfs_net=tmp_path).battery()
    assert on_battery is not None
    assert (on_battery.percent, on_battery.os_seconds_left, on_battery.plugged) == (62.37, 9420.0, False)
    charging = PsutilSensors(FakePsutil(THINKPAD_CHARGING), sysfs_net=tmp_path).battery()
    assert charging is not None and charging.os_seconds_left is None and charging.plugged is True
    unknown = PsutilSensors(FakePsutil(MACBOOK_UNKNOWN), sysfs_net=tmp_path).battery()
    assert unknown is not None and unknown.os_seconds_left is None and unknown.plugged is False
    assert PsutilSensors(FakePsutil(None), sysfs_net=tmp_path).battery() is None  # desktop, VM
    with pytest.raises(SensorError, match="battery reading failed"):
        PsutilSensors(FakePsutil(OSError("ACPI error")), sysfs_net=tmp_path).battery()


def test_temperatures_present_empty_absent_and_raising(tmp_path):
    s = PsutilSensors(FakePsutil(temps=THINKPAD_TEMPS), sysfs_net=tmp_path).system()
    assert s.temperatures_supported and s.hottest is not None
    assert (s.hottest.sensor, s.hottest.celsius) == ("coretemp/Package id 0", 61.0)
    assert any(t.sensor == "acpitz/#0" for t in s.temperatures)
    vm = PsutilSensors(FakePsutil(temps={}), sysfs_net=tmp_path).system()
    assert vm.temperatures == () and not vm.temperatures_supported and vm.errors == ()
    mac = PsutilSensors(FakePsutil(has_temps=False), sysfs_net=tmp_path).system()
    assert not mac.temperatures_supported and mac.errors == ()
    broken = PsutilSensors(FakePsutil(temps=OSError("EIO reading hwmon")), sysfs_net=tmp_path).system()
    assert not broken.temperatures_supported and "EIO" in broken.errors[0]
    assert broken.cpu_percent == 12.0 and broken.memory_percent == 43.7  # the rest still reads


def test_the_disk_guard_reads_where_recordings_will_go_and_turns_it_into_time(tmp_path):
    from booth.core.recording import RecordingConfig
    from booth.runtime.disk_guard import DiskGuard

    asked: list[str] = []

    def usage(path: str) -> tuple[int, int, int]:
        asked.append(path)
        return 500_000_000_000, 0, 41_000_000_000

    guard = DiskGuard(tmp_path / "recordings" / "not-yet", RecordingConfig(min_free_mb=200), 6e6 / 8, disk_usage=usage)
    assert guard.status() is None  # nothing read until the guard's worker (or check_now) reads it
    d = guard.check_now()
    assert asked == [str(tmp_path)]  # the folder does not exist yet: its nearest existing parent
    assert d.free_bytes == 41_000_000_000 and d.record_seconds_left == pytest.approx(41e9 * 8 / 6e6)
    assert guard.status() == d and not guard.below_minimum


def test_interfaces_kinds_from_sysfs_and_throughput(tmp_path):
    (tmp_path / "wlp2s0" / "wireless").mkdir(parents=True)
    tether = tmp_path / "enx0a1b2c3d4e5f" / "device"
    tether.mkdir(parents=True)
    (tmp_path / "drivers" / "cdc_ether").mkdir(parents=True)
    (tether / "driver").symlink_to(tmp_path / "drivers" / "cdc_ether")
    sensors = PsutilSensors(FakePsutil(), sysfs_net=tmp_path, platform="linux")
    sensors.interfaces(0.0)
    by_name = {i.name: i for i in sensors.interfaces(1.0)}
    assert by_name["wlp2s0"].kind is InterfaceKind.WIFI and by_name["wlp2s0"].up
    assert by_name["enx0a1b2c3d4e5f"].kind is InterfaceKind.CELLULAR and not by_name["enx0a1b2c3d4e5f"].up
    assert by_name["lo"].kind is InterfaceKind.LOOPBACK
    assert by_name["wlp2s0"].tx_bps == pytest.approx(5e6) and by_name["wlp2s0"].speed_mbps is None


# ---------------------------------------------------------------------- microphone
def test_pyaudio_devices_by_name_and_callback_levels():
    module = FakePyAudioModule()
    backend = PyAudioBackend(module, quiet=False)
    devices = backend.input_devices()
    assert [d.name for d in devices if d.channels > 0] == [
        "HDA Intel PCH: ALC257 Analog (hw:0,0)", "RØDE Lavalier GO: USB Audio (hw:2,0)"]
    assert devices[0].is_default
    clock = ManualClock()
    mic = MicMonitor(backend, "RØDE Lavalier GO", clock)
    mic.check_once()
    status = mic.status()
    assert status.state is MicState.LIVE and status.device == "RØDE Lavalier GO: USB Audio (hw:2,0)"
    (stream,) = module.streams
    assert stream.kwargs["input_device_index"] == 2 and stream.kwargs["rate"] == 48000
    assert stream.push(sine(0.5)) == (None, module.paContinue)
    meter = mic.status().meter
    assert meter is not None and meter.peak_dbfs == pytest.approx(-6.0, abs=0.1)
    stream.push(sine(0.999))
    meter = mic.status().meter
    assert meter is not None and meter.clipping


def test_no_portaudio_and_no_device_are_states_not_crashes():
    gone = PyAudioBackend(FakePyAudioModule(init_error=OSError("libportaudio.so.2: cannot open")), quiet=False)
    with pytest.raises(AudioUnavailable, match="PortAudio failed to start"):
        gone.input_devices()
    mic = MicMonitor(gone, "", ManualClock())
    mic.check_once()
    assert mic.status().state is MicState.NO_AUDIO
    # this CI VM: PyAudio initialises, zero devices, no default input
    empty_module = FakePyAudioModule(devices=[], default_input=None)
    empty = MicMonitor(PyAudioBackend(empty_module, quiet=False), "", ManualClock())
    empty.check_once()
    assert empty.status().state is MicState.NO_DEVICE
    busy_module = FakePyAudioModule(open_error=OSError(-9985, "Device unavailable"))
    busy = MicMonitor(PyAudioBackend(busy_module, quiet=False), "", ManualClock())
    busy.check_once()
    assert busy.status().state is MicState.NO_DEVICE and "cannot open" in busy.status().detail


def test_unplugged_mid_drop_is_lost_then_found_again_by_name():
    module = FakePyAudioModule()
    clock = ManualClock()
    mic = MicMonitor(PyAudioBackend(module, quiet=False), "RØDE", clock)
    mic.check_once()
    module.streams[0].push(sine(0.1))
    module.streams[0].active = False  # PortAudio ends the stream when the USB device goes
    module.devices = module.devices[:2]
    clock.advance(1)
    mic.check_once()
    assert mic.status().state is MicState.LOST
    module.devices = list(LAPTOP_DEVICES)  # plugged back in
    clock.advance(MicMonitor.REPROBE_S)
    mic.check_once()
    assert mic.status().state is MicState.LIVE and module.streams[-1].kwargs["input_device_index"] == 2
    assert module.inits >= 2  # PortAudio was re-initialised to see the new device


def test_a_stream_that_stops_delivering_is_lost():
    module = FakePyAudioModule()
    clock = ManualClock()
    mic = MicMonitor(PyAudioBackend(module, quiet=False), "", clock)
    mic.check_once()
    clock.advance(MicMonitor.STALL_S + 0.5)
    mic.check_once()
    assert mic.status().state is MicState.LOST


def test_microphone_blocks_reach_the_program_audio_feed_at_the_device_rate():
    from booth.audio.mic_feed import MicFeed

    module = FakePyAudioModule()
    mic = MicMonitor(PyAudioBackend(module, quiet=False), "RØDE Lavalier GO", ManualClock())
    pushed: list[bytes] = []
    feed = MicFeed(lambda pcm, _captured_at: pushed.append(pcm))
    mic.add_block_listener(feed.on_block)
    mic.check_once()
    (stream,) = module.streams
    block = sine(0.5)
    stream.push(block)
    feed.drain()
    assert pushed == [block.tobytes()]  # 48 kHz device: the program gets the samples as they are
