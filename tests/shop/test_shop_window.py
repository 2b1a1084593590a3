"""The host's window with a shop: real key presses, a USB scanner's burst, the stand-in shop behind it.
The counter in the program frame's pixels follows online orders; a scan never reaches the shortcuts;
a shop that hangs for 10 s never holds the window."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from booth.app.gui import build_window
from booth.app.options import Options
from booth.app.root import build_booth
from booth.app.shop_part import add_shop
from booth.bench.shop_standin import StandinProcess
from booth.core.config import ProgramConfig, load_config
from booth.core.drop import Phase
from booth.core.overlay import Corner, OverlayModel
from booth.core.shop.codes import make_codes
from booth.devices.imaging import to_program
from booth.ui.dialogs import CodeDialog
from booth.video.overlay_render import OverlayRenderer
from tests.conftest import SolidSource
from tests.shop.conftest import CODES_SECRET_TEXT, TEE_ITEM, write_drop
from tests.waiting import wait_until

SIZE = (640, 360)


@pytest.fixture
def shop_window(qtbot, standin: StandinProcess, tmp_path: Path):  # type: ignore[no-untyped-def]
    yield from open_window(qtbot, standin, tmp_path)


@pytest.fixture
def pooled_window(qtbot, standin: StandinProcess, tmp_path: Path):  # type: ignore[no-untyped-def]
    yield from open_window(qtbot, standin, tmp_path, pool="market")


def open_window(qtbot, standin: StandinProcess, tmp_path: Path, pool: str = ""):  # type: ignore[no-untyped-def]
    config = load_config(write_drop(tmp_path, standin, pool=pool))
    config = type(config)(**{**config.__dict__, "program": ProgramConfig(*SIZE, 30), "corner": Corner.BOTTOM_LEFT})
    source = SolidSource(SIZE)
    booth = build_booth(config, source=source)
    booth.shop = add_shop(booth.lifecycle, config, Options(), booth.controller, None)
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, 3, "the window to take the keyboard")
    wait_until(lambda: booth.controller.view().sku("tee").shop_available == 400, 5, "the first poll")
    yield booth, window, source
    window.close()
    booth.stop()


def code_with(letters: str) -> str:
    """A valid code whose characters include shortcut keys (so a scan would fire them if it leaked)."""
    rng = random.Random(7)
    for _ in range(5000):
        code = make_codes(CODES_SECRET_TEXT.encode(), "tee", "", 1, lambda n: bytes(rng.randrange(256)
                                                                                   for _ in range(n)))[0]  # fmt: skip
        if all(ch in code.code for ch in letters):
            return code.display
    raise AssertionError("no such code")


def overlay_half(pixels: np.ndarray) -> np.ndarray:
    return pixels[SIZE[1] // 2:]


def reference(source: SolidSource, left: int) -> np.ndarray:
    pixels = to_program(source.read(), *SIZE)
    white = (255, 255, 255)
    model = OverlayModel("TEE / BLACK", f"{left} LEFT", white, "10:00", "STARTS SOON", white, Corner.BOTTOM_LEFT)
    OverlayRenderer(SIZE).burn(pixels, model)
    return overlay_half(pixels)


def test_an_online_order_moves_the_counter_burned_into_the_program(qtbot, shop_window, standin) -> None:  # type: ignore[no-untyped-def]
    booth, window, source = shop_window
    standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 2}]})
    wait_until(lambda: np.array_equal(overlay_half(booth.program.newest().pixels), reference(source, 48)), 5,
               "48 LEFT in the program frame")  # fmt: skip
    assert "48 left · shop 398" in window.sku_buttons["tee"].text()
    wait_until(lambda: window.shop_pill.text().startswith("SHOP · synced"), 3, "the SHOP pill")


def test_a_scanned_code_sells_one_and_never_reaches_the_shortcuts(qtbot, shop_window, standin) -> None:  # type: ignore[no-untyped-def]
    booth, window, _ = shop_window
    code = code_with("TEAC")  # T starts the timer, E extends, A adjusts, C clips: none may fire
    qtbot.keyClicks(window, code)  # a keyboard wedge: the whole code in a burst, then Enter
    qtbot.keyClick(window, Qt.Key.Key_Return)
    wait_until(lambda: booth.controller.view().sku("tee").left == 49, 5, "the code's sale")
    wait_until(lambda: "(sticker code)" in window.message_log.texts()[0], 3, "the host's message")
    assert booth.controller.view().phase is Phase.READY  # T never reached its shortcut
    assert QApplication.activeModalWidget() is None  # nor did A (adjust) open its dialog
    assert booth.controller.view().units_sold == 1  # and the Enter ended the code, it did not sell another
    wait_until(lambda: standin.available(TEE_ITEM) == 399, 5, "the code's sale at the shop")
    qtbot.keyClicks(window, code)
    qtbot.keyClick(window, Qt.Key.Key_Return)
    wait_until(lambda: "was already used at this booth" in window.message.text(), 3, "the second scan refused")
    assert booth.controller.view().sku("tee").left == 49


def test_the_hosts_keys_still_work_beside_the_scanner(qtbot, shop_window) -> None:  # type: ignore[no-untyped-def]
    booth, window, _ = shop_window
    qtbot.keyClick(window, Qt.Key.Key_Space)  # sells at once, as always
    wait_until(lambda: booth.controller.view().sku("tee").left == 49, 3, "Space to sell")
    qtbot.keyClick(window, Qt.Key.Key_Return)  # Enter alone sells too
    wait_until(lambda: booth.controller.view().sku("tee").left == 48, 3, "Enter to sell")
    qtbot.keyClick(window, Qt.Key.Key_T)  # a lone letter: its shortcut, a moment later
    wait_until(lambda: booth.controller.view().phase is Phase.LIVE, 3, "T to start the offer")
    qtbot.keyClick(window, Qt.Key.Key_2)
    wait_until(lambda: booth.controller.featured_sku == "cap", 3, "2 to feature the cap")


def test_a_code_typed_in_the_code_box_is_redeemed(qtbot, shop_window) -> None:  # type: ignore[no-untyped-def]
    booth, window, _ = shop_window
    qtbot.keyClick(window, Qt.Key.Key_R)
    dialog = wait_until(lambda: QApplication.activeModalWidget(), 3, "the code box")
    assert isinstance(dialog, CodeDialog)
    qtbot.keyClicks(dialog.field, code_with("").lower().replace("-", " "))  # typed, forgivingly
    qtbot.keyClick(dialog.field, Qt.Key.Key_Return)
    wait_until(lambda: booth.controller.view().sku("tee").left == 49, 5, "the typed code's sale")


def test_a_shop_that_hangs_for_10_s_never_holds_the_window(qtbot, shop_window, standin) -> None:  # type: ignore[no-untyped-def]
    booth, window, _ = shop_window
    standin.faults(slow_s=10.0)
    qtbot.keyClicks(window, code_with(""))
    qtbot.keyClick(window, Qt.Key.Key_Return)  # its claim waits on the shop, off the window's thread
    wait_until(lambda: "Checking code" in window.message.text(), 2, "the code to be taken")
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Space)  # the host keeps selling meanwhile
    wait_until(lambda: booth.controller.view().units_sold >= 3, 2, "the sales while the shop hangs")
    seq = booth.program.seq
    wait_until(lambda: window.view.frame is not None and booth.program.seq > seq + 10, 2, "the preview to go on")
    wait_until(lambda: booth.controller.view().units_sold == 4, 8, "the code, accepted once the claim gave up")
    standin.faults(slow_s=0.0)


def test_the_hosts_key_on_a_shared_pool_waits_for_the_shop_off_the_window(qtbot, pooled_window, standin) -> None:  # type: ignore[no-untyped-def]
    booth, window, _ = pooled_window
    qtbot.keyClick(window, Qt.Key.Key_Space)  # the shop takes the unit first, then the counter moves
    wait_until(lambda: booth.controller.view().sku("tee").left == 49, 3, "the pooled sale")
    assert standin.available(TEE_ITEM) == 399 and len(standin.state()["adjustments"]) == 1
    standin.faults(slow_s=3.0)  # the shop now applies writes but answers late
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_until(lambda: "the shared pool first" in window.message.text(), 2, "the host told it is on its way")
    seq = booth.program.seq
    wait_until(lambda: window.view.frame is not None and booth.program.seq > seq + 10, 2, "the preview to go on")
    wait_until(lambda: booth.controller.view().sku("tee").left == 48, 3, "counted after a second without answer")
    standin.faults(slow_s=0.0)
    wait_until(lambda: booth.shop is not None and booth.shop.status().queued == 0, 10, "the sale confirmed")
    assert standin.available(TEE_ITEM) == 398 and len(standin.state()["adjustments"]) == 2  # each sale once
