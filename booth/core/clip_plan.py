"""Which stretches of the program become clips: the window around a moment, the kind of a moment
from its logged reason, and the 60–90 s recap stitched from all the moments.

Pure: times are seconds into the recording, given by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

BEFORE = 2 / 3  # a clip around a moment shows what led to it: two thirds before, one third after
RECAP_TARGET_S = 75.0
RECAP_SHORTEST_S = 60.0
RECAP_LONGEST_S = 90.0
RECAP_PIECE_MIN_S = 4.0  # shorter than this a moment is a flicker, not a story
PACK_SUFFIX = "-pack"


def pack_folder(recording: PurePath) -> PurePath:
    """Where a recording's pack lives: beside it, `booth-20310101-200000-pack/` (manifest.json inside).
    The one convention the pack maker and the report share (they never import each other)."""
    return recording.with_name(recording.stem + PACK_SUFFIX)


class MomentKind(StrEnum):
    FIRST_SALE = "first sale"
    LOW_STOCK = "low stock"
    SOLD_OUT = "sold out"
    CUT = "cut"  # the program cut to another camera, or the stream moved to another ingest
    OTHER = "moment"


def moment_kind(reason: str) -> MomentKind:
    """The kind of a logged moment, from the reasons program out writes (`MomentDetector`,
    camera switches, ingest switches)."""
    text = reason.strip().lower()
    if text == "first sale":
        return MomentKind.FIRST_SALE
    if text.endswith(" sold out") or text == "sold out":
        return MomentKind.SOLD_OUT
    if " low stock" in text or text.startswith("low stock"):
        return MomentKind.LOW_STOCK
    if text.startswith(("camera switch", "ingest ")):
        return MomentKind.CUT
    return MomentKind.OTHER


@dataclass(frozen=True)
class Span:
    start_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


def clip_window(moment_s: float, clip_s: float, recording_s: float, before: float = BEFORE) -> Span:
    """`clip_s` around the moment (two thirds before it), moved to stay inside the recording."""
    clip_s = min(clip_s, recording_s)
    start = min(max(0.0, moment_s - before * clip_s), max(0.0, recording_s - clip_s))
    return Span(round(start, 3), round(clip_s, 3))


def _merged(times: Sequence[float], piece: float, recording_s: float, before: float) -> list[Span]:
    spans: list[list[float]] = []
    for t in times:
        start, end = max(0.0, t - before * piece), min(recording_s, t + (1 - before) * piece)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [Span(round(s, 3), round(e - s, 3)) for s, e in spans if e > s]


def plan_recap(
    moment_times: Iterable[float],
    recording_s: float,
    target_s: float = RECAP_TARGET_S,
    before: float = BEFORE,
) -> list[Span]:
    """Stretches of the recording, in order, that together last about `target_s` (60–90 s when the
    recording allows): every moment gets an equal piece; overlapping pieces merge. Each piece's
    length is found by bisection, since the merged total only grows with it."""
    times = sorted(t for t in moment_times if 0.0 <= t <= recording_s)
    if recording_s <= 0:
        return []
    if not times or recording_s <= target_s:
        # nothing marked, or too little recorded to choose from: the end of the drop, as long as allowed
        length = min(recording_s, RECAP_LONGEST_S)
        return [Span(round(recording_s - length, 3), round(length, 3))]

    def total(piece: float) -> float:
        return sum(s.duration_s for s in _merged(times, piece, recording_s, before))

    if total(RECAP_PIECE_MIN_S) > RECAP_LONGEST_S:
        # more moments than 90 s can hold: keep an evenly spread selection, first and last included
        keep = max(2, int(target_s // RECAP_PIECE_MIN_S))
        times = sorted({times[round(i * (len(times) - 1) / (keep - 1))] for i in range(keep)})
    lo, hi = RECAP_PIECE_MIN_S, recording_s
    if total(lo) >= target_s:
        piece = lo
    else:
        for _ in range(50):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if total(mid) < target_s else (lo, mid)
        piece = hi
    return _merged(times, piece, recording_s, before)
