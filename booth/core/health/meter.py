"""Microphone meter maths: block levels in dBFS, ballistics, peak hold, clip and silence.

`block_levels` is what the audio callback runs (about 10 µs per 1024 samples); everything
else advances on the times passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FLOOR_DBFS = -90.0
CLIP_DBFS = -1.0


def to_dbfs(amplitude: float) -> float:
    if amplitude <= 0.0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * math.log10(amplitude))


def block_levels(samples: npt.NDArray[np.int16]) -> tuple[float, float]:
    """(peak, RMS) in dBFS of int16 samples (any channel layout). Empty → floor."""
    if samples.size == 0:
        return FLOOR_DBFS, FLOOR_DBFS
    x = samples.astype(np.float32) / 32768.0
    peak = float(np.max(np.abs(x)))
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return to_dbfs(peak), to_dbfs(rms)


def int16_block_levels(data: bytes) -> tuple[float, float]:
    return block_levels(np.frombuffer(data, dtype=np.int16))


@dataclass(frozen=True)
class MeterReading:
    peak_dbfs: float  # with ballistics: instant attack, steady release
    rms_dbfs: float
    hold_dbfs: float  # peak hold
    clipping: bool  # a block touched CLIP_DBFS within the last `clip_hold_s`
    clip_count: int
    silent_s: float  # seconds since the last block above the silence threshold


class MeterBallistics:
    def __init__(
        self,
        release_db_per_s: float = 24.0,
        hold_s: float = 1.5,
        clip_dbfs: float = CLIP_DBFS,
        clip_hold_s: float = 2.0,
        silence_dbfs: float = -60.0,
    ) -> None:
        self.release_db_per_s = release_db_per_s
        self.hold_s = hold_s
        self.clip_dbfs = clip_dbfs
        self.clip_hold_s = clip_hold_s
        self.silence_dbfs = silence_dbfs
        self.reset(None)

    def reset(self, now: float | None) -> None:
        self._peak = FLOOR_DBFS
        self._rms = FLOOR_DBFS
        self._hold = FLOOR_DBFS
        self._hold_at = -math.inf
        self._last_at: float | None = None
        self._last_clip_at = -math.inf
        self.clip_count = 0
        self._last_sound_at = now if now is not None else -math.inf
        self._started_at = now

    def feed(self, peak_dbfs: float, rms_dbfs: float, now: float) -> None:
        if self._started_at is None:
            self._started_at = now
            self._last_sound_at = now
        fall = self._fall(now)
        self._last_at = now
        self._peak = max(peak_dbfs, self._peak - fall)
        self._rms = max(rms_dbfs, self._rms - fall)
        held = self._hold - fall if now - self._hold_at > self.hold_s else self._hold
        if peak_dbfs >= held:
            self._hold, self._hold_at = peak_dbfs, now
        else:
            self._hold = held  # decaying once the hold time is over
        if peak_dbfs >= self.clip_dbfs:
            self._last_clip_at = now
            self.clip_count += 1
        if peak_dbfs > self.silence_dbfs:
            self._last_sound_at = now

    def _fall(self, now: float) -> float:
        if self._last_at is None:
            return 0.0
        return max(0.0, now - self._last_at) * self.release_db_per_s

    def reading(self, now: float) -> MeterReading:
        fall = self._fall(now)
        hold = self._hold if now - self._hold_at <= self.hold_s else self._hold - fall
        return MeterReading(
            peak_dbfs=max(FLOOR_DBFS, self._peak - fall),
            rms_dbfs=max(FLOOR_DBFS, self._rms - fall),
            hold_dbfs=max(FLOOR_DBFS, hold),
            clipping=now - self._last_clip_at <= self.clip_hold_s,
            clip_count=self.clip_count,
            silent_s=max(0.0, now - self._last_sound_at) if self._started_at is not None else 0.0,
        )


class MicState(StrEnum):
    DISABLED = "disabled"  # configured off
    NO_AUDIO = "no audio system"  # PortAudio/PyAudio missing
    NO_DEVICE = "no microphone"
    OPENING = "opening"
    LIVE = "live"
    LOST = "lost"  # was live, the stream stopped (unplugged?)


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool = False


@dataclass(frozen=True)
class MicStatus:
    state: MicState
    device: str | None = None
    wanted: str | None = None  # the remembered name, when a different device had to be used
    detail: str = ""
    meter: MeterReading | None = None

    @property
    def available(self) -> bool:
        return self.state is MicState.LIVE


def choose_input_device(devices: Sequence[InputDevice], wanted: str | None) -> InputDevice | None:
    """The remembered device by name (exact, then case-insensitive substring), else the default input.

    Devices are remembered by name, never by index: indexes change when anything is plugged in.
    """
    inputs = [d for d in devices if d.channels > 0]
    if not inputs:
        return None
    if wanted:
        for d in inputs:
            if d.name == wanted:
                return d
        for d in inputs:
            if wanted.lower() in d.name.lower():
                return d
    for d in inputs:
        if d.is_default:
            return d
    return inputs[0]
