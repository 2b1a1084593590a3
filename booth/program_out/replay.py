"""The last minutes of the encoded program, in memory, whole GOPs: what clips are cut from.

Time is the parent's monotonic clock at the moment a TS chunk arrived from the encoder, so marks,
clips and recording cuts all share one timeline.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Chunk:
    at: float  # monotonic arrival time
    keyframe: bool  # starts at a decoder entry point
    data: bytes


class ReplayBuffer:
    """The last `seconds` of the encoded program, whole GOPs, never raw frames.

    Trimmed a GOP at a time, so the oldest chunk is always a keyframe and at least `seconds`
    are kept (at most one GOP more). Thread-safe.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._chunks: deque[Chunk] = deque()
        self._keys: deque[float] = deque()  # arrival times of keyframe chunks
        self._bytes = 0
        self._lock = threading.Lock()

    def append(self, chunk: Chunk) -> None:
        with self._lock:
            if not self._chunks and not chunk.keyframe:
                return  # always start at a keyframe
            self._chunks.append(chunk)
            self._bytes += len(chunk.data)
            if chunk.keyframe:
                self._keys.append(chunk.at)
            # drop the oldest GOP while the rest still covers `seconds`
            while len(self._keys) >= 2 and chunk.at - self._keys[1] >= self.seconds:
                self._keys.popleft()
                while self._chunks and self._chunks[0].at < self._keys[0]:
                    self._bytes -= len(self._chunks.popleft().data)
                while self._chunks and not self._chunks[0].keyframe:
                    self._bytes -= len(self._chunks.popleft().data)

    @property
    def bytes(self) -> int:
        return self._bytes

    def span_s(self) -> float:
        with self._lock:
            return self._chunks[-1].at - self._chunks[0].at if self._chunks else 0.0

    def start_time(self) -> float | None:
        with self._lock:
            return self._chunks[0].at if self._chunks else None

    def window(self, start: float, end: float) -> tuple[bytes, float] | None:
        """Bytes from the last keyframe at or before `start` up to `end`, and the real start time."""
        with self._lock:
            chunks = list(self._chunks)
        if not chunks:
            return None
        begin = 0
        for i, chunk in enumerate(chunks):
            if chunk.keyframe and chunk.at <= start:
                begin = i
            elif chunk.at > start:
                break
        picked = [c.data for c in chunks[begin:] if c.at <= end]
        return (b"".join(picked), chunks[begin].at) if picked else None

    def last_gop(self) -> list[Chunk]:
        """From the newest keyframe on: what a fresh ingest connection starts with."""
        with self._lock:
            chunks = list(self._chunks)
        for i in range(len(chunks) - 1, -1, -1):
            if chunks[i].keyframe:
                return chunks[i:]
        return []
