"""Cut a stretch out of a recorded MPEG-TS file: from the keyframe at or before the start to the
first keyframe after the end, found by bisecting on byte offsets (a recording is hours long;
reading it whole to find one moment is not an option).

Times are seconds from the file's first video timestamp, which is what "time in the recording"
means everywhere in clips and packs. The file may still be growing (the recorder appends to it):
only whole packets up to its size when opened are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from booth.core.ts_index import PTS_HZ, TsKeyframe, TsScan, scan, seconds_between
from booth.core.tsscan import PACKET

PROBE = PACKET * 700  # ≈ 128 KB: a few frames of video at any bitrate Booth uses
MAX_SPAN = 64 * 1024 * 1024  # a GOP is never this long: stop looking for a keyframe beyond it


class TsWindowError(ValueError):
    pass


@dataclass(frozen=True)
class TsWindow:
    data: bytes  # starts at a keyframe (tables included), whole packets
    start_s: float  # of that keyframe, seconds from the file's first video timestamp
    file_s: float  # the file's length so far on the same clock (its last video timestamp)


class _File:
    def __init__(self, f: BinaryIO, size: int) -> None:
        self.f, self.size = f, size

    def scan(self, start: int, end: int) -> TsScan:
        start, end = max(0, start), min(self.size, end)
        self.f.seek(start)
        return scan(self.f.read(max(0, end - start)), base=start)

    def read(self, start: int, end: int) -> bytes:
        self.f.seek(start)
        return self.f.read(end - start)


def read_ts_window(path: Path, start_s: float, end_s: float) -> TsWindow:
    """The bytes covering [start_s, end_s] of the recording at `path`. TsWindowError (a sentence)
    when the file is missing, has no video, or the window is outside it."""
    try:
        with open(path, "rb") as f:
            ts = _File(f, path.stat().st_size // PACKET * PACKET)
            return _window(ts, path.name, start_s, end_s)
    except OSError as exc:
        raise TsWindowError(f"the recording {path.name} cannot be read: {exc.strerror or exc}") from None


def _window(ts: _File, name: str, start_s: float, end_s: float) -> TsWindow:
    first = ts.scan(0, PROBE).first_pts
    if first is None:
        raise TsWindowError(f"the recording {name} has no video in it")
    last = _last_pts(ts)
    file_s = seconds_between(first, last) if last is not None else 0.0
    start_s = max(0.0, start_s)
    if start_s > file_s:
        raise TsWindowError(f"the recording {name} is {file_s:.0f} s long: there is nothing at {start_s:.0f} s")
    begin = _keyframe_at_or_before(ts, first, start_s)
    stop = _keyframe_after(ts, first, max(end_s, start_s), begin.offset)
    return TsWindow(ts.read(begin.offset, stop), seconds_between(first, begin.pts), file_s)


def _last_pts(ts: _File) -> int | None:
    back = PROBE
    while True:
        found = ts.scan(ts.size - back, ts.size).last_pts
        if found is not None or back >= min(ts.size, MAX_SPAN):
            return found
        back *= 4


def _offset_near(ts: _File, first: int, seconds: float) -> int:
    """A packet-aligned offset whose first timestamp is at or before `seconds` (bisection)."""
    lo, hi = 0, ts.size // PACKET
    while hi - lo > 1:
        mid = (lo + hi) // 2
        pts = ts.scan(mid * PACKET, mid * PACKET + PROBE).first_pts
        if pts is not None and seconds_between(first, pts) <= seconds:
            lo = mid
        else:
            hi = mid
    return lo * PACKET


def _keyframe_at_or_before(ts: _File, first: int, seconds: float) -> TsKeyframe:
    near = _offset_near(ts, first, seconds)
    target = first + round(seconds * PTS_HZ)
    back = PROBE * 4
    while True:
        keys = [k for k in ts.scan(near - back, near + PROBE).keyframes if seconds_between(target, k.pts) <= 0]
        if keys:
            return keys[-1]
        if near - back <= 0 or back > MAX_SPAN:
            keys = ts.scan(0, PROBE * 8).keyframes
            if keys:
                return keys[0]  # before the first keyframe: start at the first one
            raise TsWindowError("the recording has no keyframe to start a clip from")
        back *= 2


def _keyframe_after(ts: _File, first: int, seconds: float, not_before: int) -> int:
    """Offset of the first keyframe later than `seconds`, or the end of the file."""
    start = max(not_before + PACKET, _offset_near(ts, first, seconds))
    span = PROBE * 4
    while start < ts.size:
        end = min(ts.size, start + span)
        for key in ts.scan(start, end).keyframes:
            if key.offset > not_before and seconds_between(first, key.pts) > seconds:
                return key.offset
        start = end
        span = min(span * 2, MAX_SPAN)
    return ts.size
