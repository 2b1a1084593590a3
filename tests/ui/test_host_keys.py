"""Real key presses on the host's window: Enter applies what was typed, Escape says it dropped it,
and quitting while anything is on air asks first (Enter keeps Booth running)."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from booth.app.gui import build_window
from booth.app.root import build_booth
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from booth.ui.dialogs import AdjustStockDialog, ConfirmDialog, ViewerCountDialog
from booth.ui.theme import stylesheet
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)


@pytest.fixture
def host(qtbot, qapp):
    qapp.setStyleSheet(stylesheet())  # the real look: a style can hide what is typed (it once did)
    spec = DropSpec("Keys drop", (Sku("tee", "TEE / BLACK", 12),), timer_seconds=90)
    config = dataclasses.replace(demo_config(), drop=spec, program=ProgramConfig(*SIZE, 30))
    booth = build_booth(config, source=SolidSource(SIZE))
    viewers: list[int] = []
    window = build_window(booth, on_viewers=viewers.append)
    qtbot.addWidget(window)
    booth.start()
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, 3, "the active window")
    yield booth, window, viewers
    window.close()
    booth.stop()
    qapp.setStyleSheet("")


def typed_into(qtbot, dialog_type, window, keys: str):
    """The dialog the last key opened, with `keys` typed where the keyboard focus is."""
    dialog = wait_until(lambda: next((d for d in window.findChildren(dialog_type) if d.isVisible()), None), 3,
                        "the dialog")  # fmt: skip
    wait_until(lambda: QApplication.focusWidget() is not None and dialog.isAncestorOf(QApplication.focusWidget()),
               3, "the keyboard in the dialog")  # fmt: skip
    qtbot.keyClicks(QApplication.focusWidget(), keys)
    return dialog


def test_enter_applies_the_stock_typed_in_adjust_stock(qtbot, host):
    booth, window, _ = host
    qtbot.keyClick(window, Qt.Key.Key_A)
    dialog = typed_into(qtbot, AdjustStockDialog, window, "7")  # replaces the 12 shown, not "127"
    assert dialog.confirm_button.text() == "Set stock to 7" and dialog.confirm_button.isDefault()
    typed = dialog.spin.lineEdit()  # and the host sees what they typed
    assert typed.text() == "7" and typed.width() > typed.fontMetrics().horizontalAdvance("100000")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    wait_until(lambda: booth.controller.view().sku("tee").left == 7, 3, "the stock to be 7")
    wait_until(lambda: "Stock of TEE / BLACK set to 7." in window.message.text(), 3, "the message")
    assert not dialog.isVisible()


def test_escape_drops_the_typed_stock_and_says_so(qtbot, host):
    booth, window, _ = host
    qtbot.keyClick(window, Qt.Key.Key_A)
    typed_into(qtbot, AdjustStockDialog, window, "3")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    wait_until(lambda: "not changed" in window.message.text(), 3, "the message")
    assert window.message.text() == "Stock of TEE / BLACK not changed (cancelled; 3 was typed)."
    assert booth.controller.view().sku("tee").left == 12


def test_enter_records_the_viewer_count_typed(qtbot, host):
    _booth, window, viewers = host
    qtbot.keyClick(window, Qt.Key.Key_V)
    dialog = typed_into(qtbot, ViewerCountDialog, window, "240")
    assert dialog.confirm_button.text() == "Record 240"
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Enter)  # the keypad's Enter, too
    wait_until(lambda: viewers == [240], 3, "the viewer count to be recorded")
    assert window.message.text() == "Viewers: 240 recorded."
    wait_until(window.isActiveWindow, 3, "the host's window to have the keyboard back")
    qtbot.keyClick(window, Qt.Key.Key_V)
    typed_into(qtbot, ViewerCountDialog, window, "300")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    wait_until(lambda: "not recorded" in window.message.text(), 3, "the message")
    assert viewers == [240]


def test_ending_the_offer_keeps_cancel_as_the_default(qtbot, host):
    booth, window, _ = host
    qtbot.keyClick(window, Qt.Key.Key_T)
    wait_until(lambda: booth.controller.view().phase.value == "live", 3, "the offer to start")
    qtbot.keyClick(window, Qt.Key.Key_T)
    confirm = typed_into(qtbot, ConfirmDialog, window, "")
    assert confirm.cancel_button.isDefault() and not confirm.confirm_button.isDefault()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)  # a stray Enter ends nothing
    wait_until(lambda: not confirm.isVisible(), 3, "the question to close")
    assert booth.controller.view().phase.value == "live"


def test_ctrl_q_while_live_asks_first_and_enter_stays(qtbot, host):
    booth, window, _ = host
    qtbot.keyClick(window, Qt.Key.Key_T)
    wait_until(lambda: booth.controller.view().phase.value == "live", 3, "the offer to start")
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    confirm = typed_into(qtbot, ConfirmDialog, window, "")
    assert confirm.question.text().startswith("Quit Booth now? The offer is live (01:")
    assert confirm.question.text().endswith("left). Quitting stops it.")
    assert confirm.cancel_button.text() == "Stay" and confirm.cancel_button.isDefault()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    wait_until(lambda: not confirm.isVisible(), 3, "the question to close")
    assert window.isVisible() and booth.controller.view().phase.value == "live"  # still running, still live
    wait_until(window.isActiveWindow, 3, "the host's window to have the keyboard back")
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    confirm = typed_into(qtbot, ConfirmDialog, window, "")
    qtbot.mouseClick(confirm.confirm_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: not window.isVisible(), 3, "the window to close")


def test_ctrl_q_with_nothing_on_air_quits_at_once(qtbot, host):
    _booth, window, _ = host
    assert window.quit_risks() == []
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    wait_until(lambda: not window.isVisible(), 3, "the window to close")


def test_recording_counts_as_on_air(qtbot, tmp_path):
    """The real program out, recording to a folder: quitting would stop the recording, so it asks."""
    from booth.app.options import Options
    from booth.app.root import add_rig

    config = dataclasses.replace(demo_config(), program=ProgramConfig(*SIZE, 30))
    booth = build_booth(config, source=SolidSource(SIZE))
    add_rig(booth, Options(data_dir=tmp_path))
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    try:
        wait_until(lambda: booth.output.status().recording_path, 20, "the recording to start")
        assert window.quit_risks() == ["the recording is running"]
    finally:
        window.close()
        booth.stop()


def test_the_offer_state_is_on_screen_and_every_big_button_shows_its_key(qtbot, host):
    from booth.ui.key_button import KeyButton

    booth, window, _ = host
    assert window.offer_pill.text() == "READY · 01:30"
    qtbot.keyClick(window, Qt.Key.Key_T)
    wait_until(lambda: window.offer_pill.text().startswith("LIVE · 01:"), 3, "LIVE on the pill")
    assert window.output_pill.text() == "NO OUTPUT" and window.rec_pill.text() == "NO REC"
    booth.controller.end_offer()
    wait_until(lambda: window.offer_pill.text() == "OFFER ENDED", 3, "ENDED on the pill")
    assert window.sell_button.text() == "SALES CLOSED" and window.sell_button.key == "E reopens"
    keys = {b.text(): b.key for b in window.side.findChildren(KeyButton) if b.objectName() != "sku"}
    assert keys == {"SALES CLOSED": "E reopens", "ENDED": "T", "+30 s": "E", "UNDO": "Backspace", "ADJUST": "A",
                    "CLIP": "C", "AUTO": "L", "HOLD 2ND": "L", "FORCE 1ST": "L", "TECH LEAD": "H", "KEYS": "F1"}
    assert [b.key for b in window.sku_buttons.values()] == ["1"]
    assert window.source_panel.reconnect_button.key == "F5"


def test_the_microphone_meter_says_what_it_hears(qtbot):
    from booth.core.health.meter import MeterReading, MicState, MicStatus
    from booth.ui.mic_meter import MicMeter

    meter = MicMeter()
    qtbot.addWidget(meter)
    meter.set_status(MicStatus(MicState.LIVE, "USB Audio", meter=MeterReading(-18.2, -27.0, -12.0, False, 0, 0.3)))
    assert meter.text == "MIC -18 dB"
    meter.set_status(MicStatus(MicState.LIVE, "USB Audio", meter=MeterReading(-0.4, -6.0, -0.1, True, 3, 0.0)))
    assert meter.text == "MIC 0 dB CLIP"
    meter.set_status(MicStatus(MicState.NO_DEVICE, detail="no input device"))
    assert meter.text == "NO MIC" and "no input device" in meter.toolTip()
    meter.set_status(MicStatus(MicState.LOST, "USB Audio"))
    assert meter.text == "MIC LOST"
