"""A machine-readable time code in a thin band of a picture, that survives scaling and encoding.

44 black or white cells across the full width of a band at the top or bottom edge of the frame:

    sync 1 0 1 0 | a 32-bit value, most significant bit first | CRC-8 of the value

Cells are fractions of the frame, so the code reads back the same after any scaling that keeps the
frame's edges (a decoder scaling to the program size, a platform re-encoding to 360p). Black and
white are 0 and 255 in every colour channel, so the code is all in luma and survives 4:2:0 chroma.
A read compares each cell with the sync cells' own levels (no fixed threshold) and refuses a cell
that is neither clearly dark nor clearly light, so a natural picture practically never reads as a
code (the sync pattern, the margins and the CRC must all agree; callers also check plausibility).

Two uses: a test sender stamps its wall clock (ms, mod 2**32) at the top of its picture, so Booth
can measure each source's delay; the compositor stamps the program frame's slot on the program
clock at the bottom (outside the graphics-safe area), so a read-back of what viewers get tells
which program frame it is and so how late it reached them.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from booth.core.frames import Pixels

SYNC = (1, 0, 1, 0)
VALUE_BITS = 32
CRC_BITS = 8
CELLS = len(SYNC) + VALUE_BITS + CRC_BITS
BAND_FRACTION = 0.025  # of the frame height: inside the outer 2.5 % (the graphics-safe area starts at 5 %)
MIN_BAND_ROWS = 4
MIN_CONTRAST = 60  # light sync cells must be this much brighter than dark ones (of 255)
MARGIN = 0.25  # each cell at least this share of the contrast away from the middle
WRAP = 1 << VALUE_BITS


class Band(StrEnum):
    TOP = "top"  # a sender's stamp
    BOTTOM = "bottom"  # the program's own time code


def band_rows(height: int, band: Band) -> tuple[int, int]:
    rows = max(MIN_BAND_ROWS, round(height * BAND_FRACTION))
    return (0, rows) if band is Band.TOP else (height - rows, height)


def crc8(value: int) -> int:
    """CRC-8 (polynomial 0x07) of the value's four bytes, big-endian."""
    crc = 0
    for byte in (value & (WRAP - 1)).to_bytes(4, "big"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def code_bits(value: int) -> npt.NDArray[np.bool_]:
    value &= WRAP - 1
    payload = [(value >> (VALUE_BITS - 1 - i)) & 1 for i in range(VALUE_BITS)]
    check = crc8(value)
    crc = [(check >> (CRC_BITS - 1 - i)) & 1 for i in range(CRC_BITS)]
    return np.array([*SYNC, *payload, *crc], dtype=bool)


@lru_cache(maxsize=16)
def _column_cells(width: int) -> npt.NDArray[np.intp]:
    """The cell each pixel column belongs to."""
    return np.minimum(CELLS - 1, (np.arange(width) * CELLS) // width)


@lru_cache(maxsize=16)
def _sample_columns(width: int) -> npt.NDArray[np.intp]:
    """Three columns in the middle half of every cell (clear of the blur at its edges)."""
    starts = np.arange(CELLS) * width / CELLS
    cell_w = width / CELLS
    offsets = np.array([0.3, 0.5, 0.7]) * cell_w
    cols = np.floor(starts[:, None] + offsets[None, :]).astype(np.intp)
    return np.clip(cols, 0, width - 1).reshape(-1)


def draw(pixels: Pixels, value: int, band: Band) -> None:
    """Stamp `value` (mod 2**32) into the band, in place. Pixels are gray, BGR or BGRA (alpha set opaque)."""
    height, width = pixels.shape[:2]
    y0, y1 = band_rows(height, band)
    levels = np.where(code_bits(value)[_column_cells(width)], 255, 0).astype(np.uint8)
    if pixels.ndim == 2:
        pixels[y0:y1, :] = levels[None, :]
        return
    row = np.repeat(levels[:, None], pixels.shape[2], axis=1)
    if pixels.shape[2] == 4:
        row[:, 3] = 255
    pixels[y0:y1] = row[None]  # whole pixels: one contiguous copy per row, not a strided one per channel


def read(pixels: Pixels, band: Band) -> int | None:
    """The value stamped in the band, or None when there is no clear, valid code there."""
    height, width = pixels.shape[:2]
    if width < CELLS * 2 or height < MIN_BAND_ROWS * 2:
        return None
    y0, y1 = band_rows(height, band)
    quarter = max(1, (y1 - y0) // 4)
    rows = pixels[y0 + quarter : y1 - quarter] if y1 - y0 > 2 else pixels[y0:y1]
    if rows.ndim == 3:
        rows = rows[:, :, 1]  # green: closest to luma, and the code is the same in every channel
    samples = rows[:, _sample_columns(width)].astype(np.float32).mean(axis=0).reshape(CELLS, 3).mean(axis=1)
    light = (samples[0] + samples[2]) / 2
    dark = (samples[1] + samples[3]) / 2
    contrast = light - dark
    if contrast < MIN_CONTRAST:
        return None
    middle = (light + dark) / 2
    if np.any(np.abs(samples - middle) < MARGIN * contrast):
        return None
    bits = samples > middle
    if tuple(int(b) for b in bits[: len(SYNC)]) != SYNC:
        return None
    value = 0
    for bit in bits[len(SYNC) : len(SYNC) + VALUE_BITS]:
        value = (value << 1) | int(bit)
    check = 0
    for bit in bits[len(SYNC) + VALUE_BITS :]:
        check = (check << 1) | int(bit)
    return value if check == crc8(value) else None


def unwrap(value: int, near: int) -> int:
    """The whole number ≡ value (mod 2**32) closest to `near` (a wall clock in ms, a slot count)."""
    base = near - ((near - value) % WRAP)
    return base + WRAP if near - base > WRAP // 2 else base
