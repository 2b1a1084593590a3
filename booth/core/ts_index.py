"""Keyframes and timestamps of an MPEG-TS byte stream, read from 188-byte packets (no decoding).

Why: ffmpeg's own seek in a TS file lands on the keyframe *after* the target (measured with
ffmpeg 5.1: `-ss 1` on a 2 s GOP started the clip at 2.0 s), so a clip cut that way misses its
moment. Booth finds the keyframe at or before the moment itself and hands ffmpeg bytes that
start there; ffmpeg then trims to the exact frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from booth.core.tsscan import PACKET, SYNC, _is_random_access, _pid

VIDEO_PID = 0x100  # FFmpeg numbers streams from 0x100 and Booth's encoders add video first
PTS_HZ = 90_000
_WRAP = 1 << 33


@dataclass(frozen=True, slots=True)
class TsKeyframe:
    offset: int  # byte offset of the keyframe's first packet
    pts: int  # 90 kHz ticks


def pes_pts(buf: bytes | memoryview, offset: int) -> int | None:
    """The PTS of the PES packet starting in the TS packet at `offset`, if it starts one."""
    if not buf[offset + 1] & 0x40:  # payload_unit_start_indicator
        return None
    afc = (buf[offset + 3] >> 4) & 0x3
    start = offset + 4
    if afc in (2, 3):
        start += 1 + buf[offset + 4]
    if afc == 2 or start + 14 > offset + PACKET:
        return None
    if buf[start] != 0 or buf[start + 1] != 0 or buf[start + 2] != 1:
        return None
    if not buf[start + 7] & 0x80:  # PTS_DTS_flags: no PTS
        return None
    b = buf[start + 9 : start + 14]
    return ((b[0] >> 1) & 0x7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


@dataclass(frozen=True, slots=True)
class TsScan:
    keyframes: list[TsKeyframe]
    first_pts: int | None  # of the first and the last video PES in the bytes
    last_pts: int | None


def scan(buf: bytes | memoryview, base: int = 0, video_pid: int = VIDEO_PID) -> TsScan:
    """Video keyframes in `buf` (offsets + `base`) and its first and last video timestamps.
    `buf` must start on a packet boundary; packets that lost sync are skipped."""
    keys: list[TsKeyframe] = []
    first: int | None = None
    last: int | None = None
    for offset in range(0, len(buf) - PACKET + 1, PACKET):
        if buf[offset] != SYNC or _pid(buf, offset) != video_pid:
            continue
        pts = pes_pts(buf, offset)
        if pts is None:
            continue
        if first is None:
            first = pts
        last = pts
        if _is_random_access(buf, offset):
            keys.append(TsKeyframe(base + offset, pts))
    return TsScan(keys, first, last)


def seconds_between(earlier: int, later: int) -> float:
    """later − earlier in seconds, across one 33-bit wrap (every 26.5 h)."""
    delta = later - earlier
    if delta < -_WRAP // 2:
        delta += _WRAP
    return delta / PTS_HZ
