"""The phone remote and the OBS overlay in a real headless browser, against a real Booth.

The remote: a tap on SELL at 360×640 must change the counter burned into the program frame. The
overlay: a transparent 1920×1080 page whose plate sits where the burned-in one does, says what it
says, turns amber at low stock, and comes back in step after a reload.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from booth.app.control_api import add_control_api
from booth.app.options import Options
from booth.app.root import Booth, build_booth
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from booth.core.overlay import Corner, OverlayModel, format_clock, overlay_for
from booth.devices.imaging import to_program
from booth.ops.metrics import MetricsSources
from booth.video.overlay_render import OverlayRenderer
from tests.api.client import Client
from tests.browser import Browser
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)


@dataclass
class Rig:
    booth: Booth
    source: SolidSource
    client: Client

    def page(self, name: str) -> str:
        return f"http://127.0.0.1:{self.client.port}/{name}#token={self.client.token}"


@pytest.fixture
def rig(qapp, tmp_path: Path) -> Iterator[Rig]:
    spec = DropSpec("Page drop", (Sku("tee", "TEE / BLACK", 12),), timer_seconds=90, low_at=10, critical_at=3,
                    pre_sale=True)  # fmt: skip
    config = type(demo_config())(drop=spec, program=ProgramConfig(*SIZE, 30), corner=Corner.BOTTOM_LEFT)
    source = SolidSource(SIZE)
    booth = build_booth(config, source=source)
    api = add_control_api(booth.lifecycle, booth.problems, Options(api_port=0, data_dir=tmp_path),
                          booth.controller, None, MetricsSources(drop=booth.controller.view),
                          sources=booth.switcher, corner=str(config.corner))  # fmt: skip
    booth.start()
    assert api is not None and api.port is not None, booth.problems
    yield Rig(booth, source, Client(api.port, api.token))
    booth.stop()


def overlay_half(pixels: np.ndarray) -> np.ndarray:
    return pixels[SIZE[1] // 2 :]


def reference(source: SolidSource, model: OverlayModel) -> np.ndarray:
    pixels = to_program(source.read(), *SIZE)
    OverlayRenderer(SIZE).burn(pixels, model)
    return overlay_half(pixels)


def test_a_tap_on_sell_in_the_phone_remote_changes_the_counter_on_the_program(rig: Rig, browser: Browser) -> None:
    browser.emulate(360, 640, mobile=True)
    browser.driver.get(rig.page("remote"))
    wait_until(lambda: browser.text("#stock") == "12 LEFT", 15, "the remote to show the stock")
    # One-handed at 360×640: nothing to scroll, SELL large and in the thumb's half of the screen.
    layout = browser.driver.execute_script(
        "const r = document.getElementById('sell').getBoundingClientRect();"
        "return [document.documentElement.scrollHeight, r.width, r.height, r.top, r.bottom];")  # fmt: skip
    scroll_height, width, height, top, bottom = layout
    assert scroll_height <= 640 and bottom <= 640
    assert width >= 300 and height >= 150 and top >= 320
    model = overlay_for(rig.booth.controller.view(), "tee", Corner.BOTTOM_LEFT)
    frame = rig.booth.program.newest()
    assert np.array_equal(overlay_half(frame.pixels), reference(rig.source, model))

    browser.tap("#sell")

    wait_until(lambda: rig.booth.controller.view().sku("tee").left == 11, 10, "the tap to sell one")
    expected = reference(rig.source, overlay_for(rig.booth.controller.view(), "tee", Corner.BOTTOM_LEFT))
    wait_until(lambda: np.array_equal(overlay_half(rig.booth.program.newest().pixels), expected), 10,
               "the program frame to show 11 LEFT")  # fmt: skip
    wait_until(lambda: browser.text("#stock") == "11 LEFT", 10, "the remote to follow the event stream")
    assert browser.text("#message") == "Sold: 11 left."


def screenshot(browser: Browser) -> np.ndarray:
    png = np.frombuffer(browser.driver.get_screenshot_as_png(), np.uint8)
    image = cv2.imdecode(png, cv2.IMREAD_UNCHANGED)
    assert image is not None and image.shape == (1080, 1920, 4)
    return image  # BGRA


def plate_box(alpha: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(alpha > 0)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def test_the_obs_overlay_is_transparent_matches_the_burned_in_plate_and_resyncs(rig: Rig, browser: Browser) -> None:
    browser.emulate(1920, 1080)
    browser.transparent()
    rig.booth.controller.start_timer()
    browser.driver.get(rig.page("overlay"))
    wait_until(lambda: browser.text("#stock") == "12 LEFT", 15, "the overlay to show the stock")
    wait_until(lambda: browser.driver.execute_script("return document.fonts.status") == "loaded", 10, "fonts")
    image = screenshot(browser)
    alpha = image[:, :, 3]
    assert alpha[:50, :].max() == 0 and alpha[:, -50:].max() == 0  # nothing painted outside the plate

    # Where the burned-in overlay sits in a 1920×1080 program: the same corner, margins and size.
    burned, pos = OverlayRenderer((1920, 1080)).image_for(overlay_for(rig.booth.controller.view(), "tee",
                                                                      Corner.BOTTOM_LEFT))  # fmt: skip
    left, top, right, bottom = plate_box(alpha)
    assert abs(left - pos.x()) <= 3 and abs(bottom - (pos.y() + burned.height())) <= 3
    assert right - left == pytest.approx(burned.width(), rel=0.08)
    assert bottom - top == pytest.approx(burned.height(), rel=0.05)
    plate = image[top + 20 : bottom - 20, left + 20 : right - 20]
    assert np.median(plate[:, :, :3]) < 40  # the dark plate
    white = (plate[:, :, :3] > 230).all(axis=2)
    assert white.sum() > 2000  # the white counter and clock

    # The countdown is computed in the page from the absolute deadline.
    shown = browser.text("#clock")
    assert shown in {format_clock(rig.booth.controller.view().remaining_s + d) for d in (-1, 0, 1)}

    for _ in range(2):
        rig.booth.controller.sell("tee")  # 10 left: amber, as on the program
    wait_until(lambda: browser.text("#stock") == "10 LEFT", 10, "the overlay to follow the sale")

    def amber_pixels() -> int:
        b, g, r = (screenshot(browser)[top:bottom, left:right, i].astype(int) for i in range(3))
        return int(((r > 220) & (g > 140) & (g < 200) & (b < 60)).sum())

    wait_until(lambda: amber_pixels() > 1000, 10, "the counter to turn amber at 10 left")

    browser.driver.refresh()  # OBS reloads a source that was hidden: it must come back in step
    wait_until(lambda: browser.text("#stock") == "10 LEFT", 15, "the reloaded overlay to resync")
