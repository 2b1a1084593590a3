"""Carries microphone blocks to the program audio without ever blocking PortAudio's thread.

PortAudio's callback only stamps the block with the time it arrived and appends it to a bounded
queue (the oldest audio is dropped past ~1 s, a stalled encoder must not grow memory); a named
thread resamples to 48 kHz (one continuous resampler, so no rounding adds up) and hands the PCM
to the encoder with the capture time of its first sample — the program clock places it from that,
not from how many samples came before (booth.core.audio_timeline).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from booth.core.audio import StreamResampler
from booth.runtime.worker import Worker, every

PROGRAM_RATE = 48000
MAX_QUEUED_BLOCKS = 64  # ≈ 1.4 s of 1024-sample blocks


class MicFeed:
    """`push(pcm_48k, captured_at)`: `captured_at` is the monotonic time of the block's first sample."""

    def __init__(self, push: Callable[[bytes, float], None], clock: Callable[[], float] = time.monotonic) -> None:
        self._push = push
        self._clock = clock
        self._queue: deque[tuple[bytes, int, float]] = deque(maxlen=MAX_QUEUED_BLOCKS)
        self._lock = threading.Lock()
        self._resampler: StreamResampler | None = None
        self._worker = Worker("booth-mic-feed", every(0.02, self.drain), "Program sound")
        self.dropped_blocks = 0

    def on_block(self, pcm: bytes, rate: int) -> None:  # PortAudio thread: stamp, append and return
        arrived = self._clock()
        with self._lock:
            if len(self._queue) == self._queue.maxlen:
                self.dropped_blocks += 1
            self._queue.append((pcm, rate, arrived))

    def drain(self) -> None:
        with self._lock:
            blocks, self._queue = list(self._queue), deque(maxlen=MAX_QUEUED_BLOCKS)
        for pcm, rate, arrived in blocks:
            resampler = self._resampler
            if resampler is None or resampler.from_rate != rate:
                resampler = self._resampler = StreamResampler(rate, PROGRAM_RATE)
            # The callback runs once the block is full: its first sample is one block older.
            self._push(resampler.feed(pcm), arrived - len(pcm) / 2 / rate)

    def start(self) -> MicFeed:
        self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()
