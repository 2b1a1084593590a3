"""Microphone input through PyAudio in callback mode.

`PyAudioBackend(module=…)` is the seam: the real `pyaudio` module by default, a fake with
PyAudio's own shapes (device-info dicts, `open(stream_callback=…)`) in tests. Without
PortAudio, or without any input device, it raises `AudioUnavailable` with a sentence; the
caller shows "no microphone" and everything else keeps working.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Protocol

from booth.core.health.meter import InputDevice

log = logging.getLogger(__name__)

FRAMES_PER_BLOCK = 1024

BlockCallback = Callable[[bytes, int], None]  # (int16 mono samples, PortAudio status flags)


class AudioUnavailable(RuntimeError):
    """No audio system (PortAudio missing) or it failed; the message is for the tech lead."""


class AudioStream(Protocol):
    def is_active(self) -> bool: ...

    def close(self) -> None: ...


class AudioBackend(Protocol):
    def input_devices(self, refresh: bool = False) -> list[InputDevice]: ...

    def open_input(self, device: InputDevice, on_block: BlockCallback) -> AudioStream: ...

    def close(self) -> None: ...


# C callbacks for the audio libraries' message hooks; kept referenced for the life of the process.
_ALSA_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p)
_JACK_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
_hooks: list[object] = []
_silenced = False


def silence_audio_libraries() -> None:
    """Route ALSA's and JACK's own messages (≈65 lines of start-up chatter when there is no sound
    card) to the debug log instead of stderr — through the libraries' documented message hooks, so
    the process's stderr is never touched and other threads' log lines are never lost.

    `snd_lib_error_set_handler` (ALSA) and `jack_set_error_function` / `jack_set_info_function`
    (JACK) are the hooks those libraries offer for exactly this; a library that is not installed
    is simply skipped. Idempotent.
    """
    global _silenced
    if _silenced:
        return
    _silenced = True
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # PortAudio must not try to launch jackd
    try:
        alsa = ctypes.CDLL(ctypes.util.find_library("asound") or "libasound.so.2")
    except OSError:
        alsa = None
    if alsa is not None:
        def alsa_message(file: bytes | None, line: int, function: bytes | None, err: int, fmt: bytes | None) -> None:
            log.debug("ALSA: %s (%s:%d)", (fmt or b"").decode("utf-8", "replace"), (function or b"?").decode(), line)

        handler = _ALSA_HANDLER(alsa_message)
        _hooks.append(handler)
        alsa.snd_lib_error_set_handler(handler)
    try:
        jack = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")
    except OSError:
        jack = None
    if jack is not None:
        def jack_message(text: bytes | None) -> None:
            log.debug("JACK: %s", (text or b"").decode("utf-8", "replace"))

        handler = _JACK_HANDLER(jack_message)
        _hooks.append(handler)
        jack.jack_set_error_function(handler)
        jack.jack_set_info_function(handler)


class _PyAudioStream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def is_active(self) -> bool:
        try:
            return bool(self._stream.is_active())
        except Exception:  # the device vanished under the stream
            return False

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stream.stop_stream()
        with contextlib.suppress(Exception):
            self._stream.close()


class PyAudioBackend:
    def __init__(self, module: Any = None, quiet: bool = True) -> None:
        self._module = module
        self._quiet = quiet
        self._pa: Any = None
        self._lock = threading.Lock()

    def _mod(self) -> Any:
        if self._module is None:
            try:
                import pyaudio
            except (ImportError, OSError) as exc:
                raise AudioUnavailable(f"PortAudio/PyAudio is not installed ({exc})") from None
            self._module = pyaudio
        return self._module

    def _instance(self, refresh: bool) -> Any:
        mod = self._mod()
        if refresh and self._pa is not None:
            # PortAudio lists devices once, at initialisation: re-initialise to see a mic plugged in later
            with contextlib.suppress(Exception):
                self._pa.terminate()
            self._pa = None
        if self._pa is None:
            try:
                if self._quiet:
                    silence_audio_libraries()
                self._pa = mod.PyAudio()
            except Exception as exc:
                raise AudioUnavailable(f"PortAudio failed to start ({type(exc).__name__}: {exc})") from None
        return self._pa

    def input_devices(self, refresh: bool = False) -> list[InputDevice]:
        with self._lock:
            pa = self._instance(refresh)
            try:
                default = int(pa.get_default_input_device_info()["index"])
            except (OSError, KeyError, ValueError, TypeError):
                default = None  # "No Default Input Device Available"
            devices = []
            try:
                count = int(pa.get_device_count())
                for index in range(count):
                    info = pa.get_device_info_by_index(index)
                    devices.append(
                        InputDevice(
                            index=int(info["index"]),
                            name=str(info["name"]),
                            channels=int(info["maxInputChannels"]),
                            default_rate=float(info["defaultSampleRate"]),
                            is_default=int(info["index"]) == default,
                        )
                    )
            except Exception as exc:
                raise AudioUnavailable(f"cannot list audio devices ({type(exc).__name__}: {exc})") from None
            return devices

    def open_input(self, device: InputDevice, on_block: BlockCallback) -> AudioStream:
        mod = self._mod()
        with self._lock:
            pa = self._instance(False)

        def callback(in_data: bytes | None, frame_count: int, time_info: Any, status: int) -> tuple[None, int]:
            # PortAudio's thread: an exception here would abort the stream, so none may escape
            try:
                on_block(in_data or b"", int(status))
            except Exception:
                log.exception("microphone block handler failed")
            return None, mod.paContinue

        try:
            stream = pa.open(
                format=mod.paInt16,
                channels=1,
                rate=int(device.default_rate) or 48000,
                input=True,
                input_device_index=device.index,
                frames_per_buffer=FRAMES_PER_BLOCK,
                stream_callback=callback,
            )
        except Exception as exc:  # OSError [Errno -9996] Invalid input device, -9985 busy…
            raise AudioUnavailable(f"cannot open '{device.name}' ({exc})") from None
        return _PyAudioStream(stream)

    def close(self) -> None:
        with self._lock:
            if self._pa is not None:
                with contextlib.suppress(Exception):
                    self._pa.terminate()
                self._pa = None
