"""Pixel work for the compositor, in OpenCV (it releases the GIL, numpy channel flips do not)."""

from __future__ import annotations

import cv2
import numpy as np

from booth.core.frames import Pixels


def to_program(frame_bgr: Pixels, width: int, height: int) -> Pixels:
    """A new BGRA image of the program size showing the frame, letterboxed if the aspect differs.

    BGRA is Qt's RGB32 layout on little-endian machines, so the preview can wrap it
    without copying and the encoder can convert it in one call.
    """
    h, w = frame_bgr.shape[:2]
    if (w, h) == (width, height):
        return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2BGRA)  # type: ignore[no-any-return]
    scale = min(width / w, height / h)
    fit_w, fit_h = max(2, round(w * scale)), max(2, round(h * scale))
    resized = cv2.resize(frame_bgr, (fit_w, fit_h), interpolation=cv2.INTER_LINEAR)
    canvas = np.empty((height, width, 4), np.uint8)
    canvas[:] = (0, 0, 0, 255)
    x, y = (width - fit_w) // 2, (height - fit_h) // 2
    canvas[y : y + fit_h, x : x + fit_w] = cv2.cvtColor(resized, cv2.COLOR_BGR2BGRA)
    return canvas


def solid(width: int, height: int, bgr: tuple[int, int, int]) -> Pixels:
    canvas = np.empty((height, width, 4), np.uint8)
    canvas[:] = (*bgr, 255)
    return canvas
