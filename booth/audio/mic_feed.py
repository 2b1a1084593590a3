"""Carries microphone blocks to the program audio without ever blocking PortAudio's thread.

PortAudio's callback only appends to a bounded queue (the oldest audio is dropped past
~1 s, a stalled encoder must not grow memory); a named thread resamples to 48 kHz and hands
the PCM to the encoder, whose pipe write may block.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from booth.core.audio import resample_s16_mono
from booth.runtime.worker import Worker, every

PROGRAM_RATE = 48000
MAX_QUEUED_BLOCKS = 64  # ≈ 1.4 s of 1024-sample blocks


class MicFeed:
    def __init__(self, push: Callable[[bytes], None]) -> None:
        self._push = push
        self._queue: deque[tuple[bytes, int]] = deque(maxlen=MAX_QUEUED_BLOCKS)
        self._lock = threading.Lock()
        self._worker = Worker("booth-mic-feed", every(0.02, self.drain), "Program sound")
        self.dropped_blocks = 0

    def on_block(self, pcm: bytes, rate: int) -> None:  # PortAudio thread: append and return
        with self._lock:
            if len(self._queue) == self._queue.maxlen:
                self.dropped_blocks += 1
            self._queue.append((pcm, rate))

    def drain(self) -> None:
        with self._lock:
            blocks, self._queue = list(self._queue), deque(maxlen=MAX_QUEUED_BLOCKS)
        for pcm, rate in blocks:
            self._push(resample_s16_mono(pcm, rate, PROGRAM_RATE))

    def start(self) -> MicFeed:
        self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()
