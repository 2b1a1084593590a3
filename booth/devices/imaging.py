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


SAMPLE_STEP = 8  # every 8th pixel both ways: ~32k samples at 1080p, sensor noise survives (no averaging)


def picture_sample(frame_bgr: Pixels) -> Pixels:
    return np.ascontiguousarray(frame_bgr[::SAMPLE_STEP, ::SAMPLE_STEP])


def picture_change(previous: Pixels | None, sample: Pixels) -> float:
    """Mean absolute level change between two samples (0 = identical pictures); -1 without a previous."""
    if previous is None or previous.shape != sample.shape:
        return -1.0
    return float(np.mean(cv2.absdiff(previous, sample)))


def load_picture(path: str) -> Pixels:
    """A still image (PNG, JPEG…) as BGR; raises ValueError naming the file when unreadable."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"not a readable image: {path}")
    return image  # type: ignore[no-any-return]
