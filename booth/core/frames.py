"""Frames as they move from a source to the program."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Pixels = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class SourceFrame:
    """One decoded picture: BGR, any size. `seq` counts frames since the source opened."""

    pixels: Pixels
    seq: int
    captured_at: float  # monotonic seconds when the read returned
    origin_at: float | None = None  # when the sender says it took the picture (monotonic), if it says


@dataclass(frozen=True, slots=True)
class ProgramFrame:
    """One program picture: BGRA at program size with the overlay burned in.

    Never mutated after publication: the preview and the encoder share it. `slot` and `program_at`
    place it on the program clock (booth.core.program_clock): the encoder's PTS is the slot.
    """

    pixels: Pixels
    seq: int
    composed_at: float
    source: str  # which source it shows ("primary", "secondary", "slate")
    source_seq: int  # the source frame's seq, -1 for the slate
    captured_at: float  # when that source frame was captured
    repeat: bool  # the source had no new frame in time; the last one was shown again
    slot: int  # its slot on the program clock (the encoder's PTS)
    program_at: float  # the program clock's instant for that slot (monotonic): what it was composed FOR
    origin_at: float | None = None  # when the sender took the picture shown (monotonic), if known

    def stamp(self) -> FrameStamp:
        return FrameStamp(
            self.seq, self.composed_at, self.source, self.source_seq, self.captured_at, self.repeat,
            self.slot, self.program_at, self.origin_at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class FrameStamp:
    """A program frame without its pixels: what readers of every frame's timing keep."""

    seq: int
    composed_at: float
    source: str
    source_seq: int
    captured_at: float
    repeat: bool
    slot: int
    program_at: float
    origin_at: float | None = None
