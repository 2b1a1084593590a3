"""With both sources down, the configured slate picture is the program, overlay still on top."""

from __future__ import annotations

import cv2
import numpy as np

from booth.app.root import build_booth
from booth.core.config import load_config
from tests.conftest import SolidSource
from tests.waiting import wait_until

DROP = """
[program]
size = "640x360"
[sources]
primary = "camera:0"
secondary = "demo:"
slate_image = "slate.png"
[[sku]]
id = "tee"
name = "TEE"
stock = 5
"""


def test_the_slate_picture_from_the_config_goes_out_when_both_sources_are_down(qtbot, tmp_path):
    cv2.imwrite(str(tmp_path / "slate.png"), np.full((90, 160, 3), (180, 0, 180), np.uint8))  # magenta card
    (tmp_path / "drop.toml").write_text(DROP)
    config = load_config(tmp_path / "drop.toml")
    primary, secondary = SolidSource((640, 360)), SolidSource((640, 360), bgr=(0, 90, 0))
    primary.unplugged.set()
    secondary.unplugged.set()
    booth = build_booth(config, source=primary, secondary_source=secondary)
    booth.start()
    try:
        wait_until(lambda: (booth.program.newest() or None) is not None, 5)
        wait_until(lambda: booth.program.newest().source == "slate", 5)
        frame = booth.program.newest()
    finally:
        booth.stop()
    assert tuple(frame.pixels[60, 320, :3]) == (180, 0, 180)  # the card, scaled to the program
    assert frame.pixels[200:, :320].max() == 255  # "5 LEFT" burned in on top of it
