"""The picture time code reads back what was stamped, after scaling and blur, and nothing from other pictures."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from booth.core import timecode
from booth.core.timecode import Band


@pytest.mark.parametrize("channels", [0, 3, 4])
@pytest.mark.parametrize("band", list(Band))
def test_a_stamped_value_reads_back_from_gray_bgr_and_bgra(channels, band):
    shape = (360, 640) if channels == 0 else (360, 640, channels)
    pixels = np.full(shape, 120, np.uint8)
    for value in (0, 1, 0xDEADBEEF, 2**32 - 1, 1_765_432_109_876):
        timecode.draw(pixels, value, band)
        assert timecode.read(pixels, band) == value % 2**32
    other = Band.BOTTOM if band is Band.TOP else Band.TOP
    assert timecode.read(pixels, other) is None


def test_the_code_survives_downscaling_and_blur_like_a_platform_reencode():
    rng = np.random.default_rng(3)
    picture = rng.integers(0, 255, (720, 1280, 3), np.uint8)
    timecode.draw(picture, 123456789, Band.BOTTOM)
    small = cv2.resize(picture, (426, 240), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0)
    assert timecode.read(small, Band.BOTTOM) == 123456789
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok and timecode.read(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), Band.BOTTOM) == 123456789


def test_pictures_without_a_code_never_read_as_one():
    rng = np.random.default_rng(11)
    found = 0
    for i in range(600):
        kind = i % 3
        if kind == 0:  # noise
            picture = rng.integers(0, 255, (180, 320, 3), np.uint8)
        elif kind == 1:  # bars of random levels, the worst case for a black/white code
            bars = rng.integers(0, 2, 44 * 2).repeat(4)[:320].astype(np.uint8) * 255
            picture = np.repeat(np.repeat(bars[None, :, None], 180, axis=0), 3, axis=2)
        else:  # a smooth gradient with text
            picture = np.tile(np.linspace(0, 255, 320, dtype=np.uint8)[None, :, None], (180, 1, 3))
            cv2.putText(picture, f"#{i:06d}", (10, 175), cv2.FONT_HERSHEY_DUPLEX, 0.6, (255, 255, 255), 1)
        found += timecode.read(picture, Band.BOTTOM) is not None
    assert found == 0


def test_a_wrapped_value_unwraps_to_the_one_nearest_the_reader_clock():
    now_ms = 1_765_432_109_876
    stamped = now_ms - 140
    assert timecode.unwrap(stamped % 2**32, now_ms) == stamped
    assert timecode.unwrap((now_ms + 50) % 2**32, now_ms) == now_ms + 50
    assert timecode.unwrap(5, 2**32 + 3) == 2**32 + 5
    assert timecode.unwrap(2**32 - 2, 2**32 + 3) == 2**32 - 2
