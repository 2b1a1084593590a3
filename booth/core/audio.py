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
