"""The demo rig's camera: a moving test pattern with a frame counter and the wall clock.

Motion makes a freeze obvious and the clock makes latency visible. Cheap by design:
the colour bars are drawn once, each frame only copies them and draws the moving parts.
Like a stamping sender, it also carries its clock machine-readably (booth.core.timecode, at the
top edge), so the demo rig shows a source delay figure too.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from booth.core import timecode
from booth.core.frames import Pixels

_BARS_BGR = [
    (192, 192, 192), (0, 192, 192), (192, 192, 0), (0, 192, 0),
    (192, 0, 192), (0, 0, 192), (192, 0, 0), (16, 16, 16),
]  # fmt: skip


class DemoSource:
    live = False

    def __init__(self, size: tuple[int, int], fps: float, label: str = "demo:") -> None:
        self.label = label
        self.nominal_fps = fps
        self._w, self._h = size
        self._background = self._draw_background()
        self._count = 0

    def _draw_background(self) -> Pixels:
        w, h = self._w, self._h
        frame = np.empty((h, w, 3), np.uint8)
        frame[:] = 24
        top, bottom = self._bars_top, h * 3 // 4
        bar_w = w / len(_BARS_BGR)
        for i, colour in enumerate(_BARS_BGR):
            frame[top:bottom, round(i * bar_w) : round((i + 1) * bar_w)] = colour
        ramp = np.linspace(0, 255, w, dtype=np.uint8)
        frame[bottom : bottom + h // 16] = ramp[None, :, None]
        return frame

    @property
    def _bars_top(self) -> int:
        return self._h // 8

    def open(self) -> None:
        self._count = 0

    def read(self) -> Pixels:
        w, h = self._w, self._h
        frame = self._background.copy()
        # A bar that sweeps across the picture once every two seconds.
        period = max(1, round(2 * self.nominal_fps))
        x = (self._count % period) * (w - w // 40) // period
        frame[self._bars_top : h * 3 // 4, x : x + w // 40] = 255
        # Counter and clock sit in the top band, clear of the overlay's default corners.
        scale = h / 360
        thickness = max(1, round(2 * scale))
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
        baseline = round(self._bars_top * 0.72)
        cv2.putText(
            frame, f"DEMO #{self._count:06d}", (round(w * 0.05), baseline),
            cv2.FONT_HERSHEY_DUPLEX, 0.8 * scale, (255, 255, 255), thickness, cv2.LINE_AA,
        )  # fmt: skip
        cv2.putText(
            frame, stamp, (round(w * 0.55), baseline),
            cv2.FONT_HERSHEY_DUPLEX, 0.8 * scale, (255, 255, 255), thickness, cv2.LINE_AA,
        )  # fmt: skip
        timecode.draw(frame, round(time.time() * 1000), timecode.Band.TOP)
        self._count += 1
        return frame

    def close(self) -> None:
        pass
