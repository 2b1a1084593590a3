"""Program sound on the program clock: timestamped microphone blocks → evenly cut encoder frames.

A sound card's sample clock is not the program clock (crystals differ by tens of ppm, a resampler
rounds), so counting samples would slowly pull the sound away from the picture. Each block comes
with the program time of its first sample; blocks are laid end to end while they agree with their
timestamps, and the timeline re-aligns when the disagreement passes `resync_s` — a drop or a few
ms of silence, inaudible in speech — or after a real gap (blocks lost, the microphone re-opened).
Where no sound came, the track carries silence, so it never stops.

A timestamp is the moment a block reached us, so it is only ever late, never early: a busy machine
delivers blocks tens of ms late and then in a burst. The disagreement that counts is therefore
the smallest one over the last `window_s` — the blocks that came on time — so lateness never moves
the sound, and only a real drift or a real gap does.

Samples are counted at `rate` from the program clock's zero: sample n is program time n / rate.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]



class AudioTimeline:
    def __init__(
        self, rate: int = 48000, frame: int = 1024, resync_s: float = 0.010, gap_s: float = 0.1,
        window_s: float = 2.0, gap_window_s: float = 0.3, keep_s: float = 3.0,
    ) -> None:  # fmt: skip
        self.rate = rate
        self.frame = frame
        self._resync = round(resync_s * rate)
        self._gap = round(gap_s * rate)
        self._window = round(window_s * rate)
        self._gap_window = round(gap_window_s * rate)
        self._keep = round(keep_s * rate)
        self.next_sample = 0  # the first sample not yet cut into a frame
        self._end: int | None = None  # just after the last sample placed
        self._errors: deque[tuple[int, int]] = deque()  # (where, timestamp − end-to-end position), in samples
        self._pending: deque[tuple[int, Samples]] = deque()
        self.resyncs = 0
        self.dropped_samples = 0  # sound that overlapped what was already placed or cut, or came too late
        self.silent_samples = 0  # cut frames' samples that no block covered

    def start_at(self, seconds: float) -> None:
        """The track starts at program time `seconds` (a restarted encoder joins a running clock)."""
        self.next_sample = max(self.next_sample, math.floor(seconds * self.rate))

    def add(self, start_s: float, pcm: bytes) -> None:
        """A block of s16le mono at `rate` whose first sample was captured at program time `start_s`."""
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        if not len(samples):
            return
        stamped = round(start_s * self.rate)
        if self._end is None:
            position = stamped
        else:
            self._errors.append((self._end, stamped - self._end))
            while self._errors and self._end - self._errors[0][0] > self._window:
                self._errors.popleft()
            position = self._end
            # Blocks lost (or the microphone re-opened): every block since is far behind its time,
            # where late blocks catch up in a burst. Otherwise a slow drift, judged on the least late.
            lately = min(error for at, error in self._errors if self._end - at <= self._gap_window)
            on_time = lately if lately > self._gap else min(error for _at, error in self._errors)
            if on_time > self._gap or abs(on_time) > self._resync:
                position += on_time
                self._errors = deque((at, error - on_time) for at, error in self._errors)
                self.resyncs += 1
        # Never over sound already placed or already cut into frames.
        floor = self.next_sample if self._end is None else max(self.next_sample, self._end)
        if position < floor:
            cut = min(len(samples), floor - position)
            self.dropped_samples += cut
            samples, position = samples[cut:], position + cut
        self._end = position + len(samples)
        if len(samples):
            self._pending.append((position, samples))
        while self._pending and self._pending[-1][0] + len(self._pending[-1][1]) - self._pending[0][0] > self._keep:
            _start, old = self._pending.popleft()  # nobody is cutting frames (no video): keep the newest only
            self.dropped_samples += len(old)

    def frames_until(self, seconds: float) -> list[tuple[int, Samples]]:
        """Cut every whole frame that ends by program time `seconds`: (first sample, samples) each."""
        limit = math.floor(seconds * self.rate)
        frames = []
        while self.next_sample + self.frame <= limit:
            start, end = self.next_sample, self.next_sample + self.frame
            chunk = np.zeros(self.frame, np.int16)
            covered = 0
            while self._pending and self._pending[0][0] < end:
                block_start, block = self._pending[0]
                block_end = block_start + len(block)
                if block_end <= start:
                    self._pending.popleft()
                    continue
                lo, hi = max(start, block_start), min(end, block_end)
                chunk[lo - start : hi - start] = block[lo - block_start : hi - block_start]
                covered += hi - lo
                if block_end <= end:
                    self._pending.popleft()
                else:
                    break
            self.silent_samples += self.frame - covered
            frames.append((start, chunk))
            self.next_sample = end
        return frames
