"""A microphone at the device seam for benchmarks: a sound card that beeps at every whole second.

It stands in for PortAudio: a thread hands 1024-sample blocks to the same listener the real
microphone calls (`MicFeed.on_block`), each the moment its last sample is "captured". Its sample
clock runs `ppm` fast (sound cards' crystals differ from the system clock by tens of ppm), and the
picture of what it hears is known exactly: a 10 ms 1 kHz beep starting at each whole second of
the monotonic clock, the clock Booth's program clock runs on. Finding those beeps in the recording
tells how far sound and picture of the same instant ended up apart.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np

BLOCK = 1024
BEEP_S = 0.010
BEEP_HZ = 1000.0
LEVEL = 20000


class BeepingMicrophone:
    def __init__(self, on_block: Callable[[bytes, int], None], rate: int = 48000, ppm: float = 100.0) -> None:
        self._on_block = on_block
        self.rate = rate
        self.ppm = ppm
        self.blocks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="booth-bench-mic", daemon=True)

    def start(self) -> BeepingMicrophone:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        card_rate = self.rate * (1 + self.ppm / 1e6)  # samples per real second
        start = time.monotonic()
        sample = 0
        while not self._stop.is_set():
            real = start + (sample + np.arange(BLOCK)) / card_rate  # when each sample is captured
            into = real - np.floor(real)  # seconds past the last whole second
            block = np.where(into < BEEP_S, LEVEL * np.sin(2 * math.pi * BEEP_HZ * into), 0.0).astype("<i2")
            self._stop.wait(max(0.0, real[-1] - time.monotonic()))  # the card delivers once the block is full
            self._on_block(block.tobytes(), self.rate)
            self.blocks += 1
            sample += BLOCK
