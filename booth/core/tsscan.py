"""Cut an MPEG-TS byte stream into chunks that each start where a decoder can start.

FFmpeg's TS muxer writes PAT/PMT (and SDT) right before every video keyframe and flags the
keyframe's first TS packet with random_access_indicator. A chunk that begins at that
PAT is a clean entry point: a clip, a new ingest connection or a cut from the recording can
start there without re-encoding. Everything is done on 188-byte packets; no decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

PACKET = 188
SYNC = 0x47
_TABLE_PIDS = {0x0000, 0x0011, 0x1000}  # PAT, SDT, FFmpeg's first PMT


@dataclass(frozen=True, slots=True)
class TsChunk:
    data: bytes
    keyframe: bool  # the chunk starts at a decoder entry point (tables + keyframe)


def _pid(buf: bytes | memoryview, offset: int) -> int:
    return ((buf[offset + 1] & 0x1F) << 8) | buf[offset + 2]


def _is_random_access(buf: bytes | memoryview, offset: int) -> bool:
    pusi = buf[offset + 1] & 0x40
    afc = (buf[offset + 3] >> 4) & 0x3
    if not pusi or afc not in (2, 3):
        return False
    af_len = buf[offset + 4]
    return af_len > 0 and bool(buf[offset + 5] & 0x40)


class TsSplitter:
    """Feed TS bytes in any pieces; get back whole-packet chunks cut before each keyframe."""

    def __init__(self, video_pid: int = 0x100) -> None:
        self.video_pid = video_pid  # FFmpeg numbers streams from 0x100: the video stream is added first
        self._pending = bytearray()  # bytes not yet a whole packet
        self._held = bytearray()  # table packets that may belong to the next keyframe
        self.garbage_bytes = 0

    def feed(self, data: bytes) -> list[TsChunk]:
        self._pending += data
        whole = len(self._pending) - len(self._pending) % PACKET
        if whole == 0:
            return []
        buf = bytes(self._pending[:whole])
        del self._pending[:whole]
        chunks: list[TsChunk] = []
        current = bytearray()
        current_key = False
        for offset in range(0, len(buf), PACKET):
            if buf[offset] != SYNC:
                self.garbage_bytes += PACKET
                continue
            packet = buf[offset : offset + PACKET]
            if _pid(buf, offset) in _TABLE_PIDS:
                self._held += packet
                continue
            if _pid(buf, offset) == self.video_pid and _is_random_access(buf, offset):
                if current:
                    chunks.append(TsChunk(bytes(current), current_key))
                current = bytearray(self._held)
                current_key = True
                self._held.clear()
                current += packet
                continue
            if self._held:
                current += self._held
                self._held.clear()
            current += packet
        if current:
            chunks.append(TsChunk(bytes(current), current_key))
        return chunks
