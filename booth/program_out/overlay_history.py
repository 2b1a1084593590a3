"""Where the burned-in plate was over the last minutes, so a clip's crop lifts (and hides) all of it.

The plate's width follows its text ("50 LEFT" is wider than "9 LEFT", "LAST CALL" than "LIVE"), so
the place of the plate *now* is not where it was 20 s ago. Sampled twice a second on its own worker
(the overlay model is cheap to read), kept as long as the replay buffer; a clip asks for the union
over its stretch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from booth.core.clip_presets import Rect
from booth.runtime.worker import Worker, every

SAMPLE_EVERY_S = 0.5


class OverlayHistory:
    def __init__(self, box: Callable[[], Rect | None], keep_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self._box = box
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, Rect | None]] = deque(maxlen=max(8, round(keep_s / SAMPLE_EVERY_S) + 8))
        self._worker = Worker("booth-overlay-history", every(SAMPLE_EVERY_S, self.sample), "Overlay place")

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def sample(self) -> None:
        box = self._box()
        with self._lock:
            self._samples.append((self._clock(), box))

    def union(self, start: float, end: float) -> Rect | None:
        """Every place the plate had between `start` and `end` (monotonic), and where it is now."""
        now = self._box()
        with self._lock:
            boxes = [box for at, box in self._samples if start - SAMPLE_EVERY_S <= at <= end and box is not None]
        if now is not None:
            boxes.append(now)
        if not boxes:
            return None
        found = boxes[0]
        for box in boxes[1:]:
            found = found.union(box)
        return found
