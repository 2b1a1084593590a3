"""PCM helpers for the microphone → program audio path."""

from __future__ import annotations

import numpy as np


def resample_s16_mono(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Linear-interpolation resample of signed 16-bit mono PCM (a voice mic at 44.1 → 48 kHz)."""
    if from_rate == to_rate or not pcm:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    count = max(1, round(len(samples) * to_rate / from_rate))
    positions = np.linspace(0, len(samples) - 1, count, dtype=np.float32)
    resampled = np.interp(positions, np.arange(len(samples), dtype=np.float32), samples)
    return bytes(np.clip(np.rint(resampled), -32768, 32767).astype("<i2").tobytes())


class StreamResampler:
    """`resample_s16_mono` for a continuous stream cut into blocks: the interpolation phase carries
    from one block to the next, so the output keeps exactly `to_rate / from_rate` samples per input
    sample over any length (per-block rounding would add up to ~0.4 ms a second at 44.1 → 48 kHz)."""

    def __init__(self, from_rate: int, to_rate: int) -> None:
        self.from_rate = from_rate
        self.to_rate = to_rate
        self._step = from_rate / to_rate  # input samples per output sample
        self._pos = 0.0  # next output sample, in input samples from this block's first (−1 ≤ pos < 0: before it)
        self._previous: np.float32 | None = None

    def feed(self, pcm: bytes) -> bytes:
        if self.from_rate == self.to_rate or not pcm:
            return pcm
        block = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        if self._previous is not None:
            samples, first = np.concatenate(([self._previous], block)), self._pos + 1
        else:
            samples, first = block, self._pos
        last = len(samples) - 1
        count = int(np.floor((last - first) / self._step)) + 1 if first <= last else 0
        positions = first + np.arange(count, dtype=np.float64) * self._step
        out = np.interp(positions, np.arange(len(samples), dtype=np.float64), samples)
        self._pos = first + count * self._step - len(samples)
        self._previous = samples[-1]
        return bytes(np.clip(np.rint(out), -32768, 32767).astype("<i2").tobytes())
