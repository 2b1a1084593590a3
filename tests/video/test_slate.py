"""With both sources down, the configured slate picture is the program, overlay still on top."""

from __future__ import annotations

import threading

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


class FreezableSource(SolidSource):
    """A camera whose picture can freeze: frames keep coming, every one identical (an app re-sending
    its last frame), which the watchdog must call frozen."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.frozen = threading.Event()
        self._still = None

    def read(self):
        if self.frozen.is_set() and not self.unplugged.is_set():
            if self._still is None:
                self._still = super().read()
            return self._still.copy()
        self._still = None
        return super().read()


SLATE_BGR = (40, 30, 24)  # the default slate card's colour


def forced_booth(primary):
    from booth.core.config import ProgramConfig, demo_config
    from booth.core.drop import DropSpec, Sku

    config = type(demo_config())(
        drop=DropSpec("Forced", (Sku("tee", "TEE", 5),), timer_seconds=90), program=ProgramConfig(640, 360, 30)
    )
    return build_booth(config, source=primary, secondary_source=SolidSource((640, 360), bgr=(0, 90, 0)))


def test_force_1st_with_a_dead_or_frozen_primary_puts_the_slate_on_program_not_a_frozen_frame(qapp):
    from booth.core.failover import Lock
    from tests.waiting import wait_until

    primary = FreezableSource((640, 360), bgr=(90, 90, 90))
    booth = forced_booth(primary)
    booth.start()
    try:
        wait_until(lambda: (f := booth.program.newest()) is not None and f.source == "primary", 5, "the primary")
        booth.switcher.set_lock(Lock.PRIMARY)
        wait_until(lambda: booth.switcher.lock is Lock.PRIMARY, 3, "the lock")
        for breaks, mends in ((primary.frozen.set, primary.frozen.clear), (primary.unplugged.set, None)):
            breaks()
            slate = wait_until(lambda: (f := booth.program.newest()).source == "slate" and f, 5, "the slate")
            assert tuple(slate.pixels[20, 20, :3]) == SLATE_BGR  # the card, not the frozen grey picture
            assert slate.pixels[200:, :320].max() == 255  # "5 LEFT" still burned in
            assert booth.switcher.statuses()[0].state.value in ("frozen", "down")
            if mends is not None:
                mends()
                back = wait_until(lambda: (f := booth.program.newest()).source == "primary" and f, 5, "the primary")
                assert tuple(back.pixels[100, 300, :3]) == (90, 90, 90)  # forced: back at once, no dwell
        assert booth.switcher.last_switch.automatic  # the dead primary's cut, not a host action
    finally:
        booth.stop()
