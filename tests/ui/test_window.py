"""The host's window driven by real key presses; the program frame's pixels must follow."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from booth.app.gui import build_window
from booth.app.options import Options
from booth.app.root import build_booth
from booth.app.startup import resolve_config
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from booth.core.overlay import AMBER, Corner, OverlayModel
from booth.devices.imaging import to_program
from booth.ui.dialogs import AdjustStockDialog, ConfirmDialog, KeyMapDialog
from booth.ui.keymap import BINDINGS
from booth.video.overlay_render import OverlayRenderer
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)


@pytest.fixture
def booth_window(qtbot):
    spec = DropSpec("UI drop", (Sku("tee", "TEE / BLACK", 12), Sku("cap", "CAP", 4)), timer_seconds=90,
                    pre_sale=True)
    config = type(demo_config())(drop=spec, program=ProgramConfig(*SIZE, 30), corner=Corner.BOTTOM_LEFT)
    source = SolidSource(SIZE)
    booth = build_booth(config, source=source)
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, 3)  # shortcuts go to the active window
    wait_until(lambda: window.view.frame is not None, 5)
    yield booth, window, source
    window.close()
    booth.stop()


def reference_frame(source: SolidSource, model: OverlayModel) -> np.ndarray:
    """The bottom half of the program frame this model must produce (the overlay's half)."""
    pixels = to_program(source.read(), *SIZE)
    OverlayRenderer(SIZE).burn(pixels, model)
    return pixels[SIZE[1] // 2 :]


def overlay_half(frame) -> np.ndarray:
    return frame.pixels[SIZE[1] // 2 :]


def program_after(qtbot, booth):
    """The program frame once one composed after this moment is out."""
    target = booth.program.seq + 2
    wait_until(lambda: booth.program.seq >= target, 5)
    return booth.program.newest()


def expected_model(left: int, colour=(255, 255, 255)) -> OverlayModel:
    white = (255, 255, 255)
    return OverlayModel("TEE / BLACK", f"{left} LEFT", colour, "01:30", "STARTS SOON", white, Corner.BOTTOM_LEFT)


def test_space_sells_one_and_the_program_frame_shows_the_new_count(qtbot, booth_window):
    booth, window, source = booth_window
    before = program_after(qtbot, booth)
    assert np.array_equal(overlay_half(before), reference_frame(source, expected_model(12)))
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_until(lambda: booth.controller.view().sku("tee").left == 11, 3)
    after = program_after(qtbot, booth)
    assert np.array_equal(overlay_half(after), reference_frame(source, expected_model(11)))
    assert not np.array_equal(overlay_half(after), overlay_half(before))
    assert "11 left" in window.sku_buttons["tee"].text()
    assert "Sold 1 × TEE / BLACK: 11 left." in window.message.text()


def test_backspace_undoes_the_last_sale(qtbot, booth_window):
    booth, window, _ = booth_window
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_until(lambda: booth.controller.view().sku("tee").left == 9, 3)
    qtbot.keyClick(window, Qt.Key.Key_Backspace)
    wait_until(lambda: booth.controller.view().sku("tee").left == 10, 3)
    assert "Undid a sale" in window.message.text()


def test_adjusting_stock_asks_first_and_cancel_changes_nothing(qtbot, booth_window):
    booth, window, source = booth_window
    qtbot.keyClick(window, Qt.Key.Key_A)
    dialog = window.findChild(AdjustStockDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.spin.setValue(3)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert booth.controller.view().sku("tee").left == 12

    qtbot.keyClick(window, Qt.Key.Key_A)
    wait_until(lambda: any(d.isVisible() for d in window.findChildren(AdjustStockDialog)), 3)
    dialog = next(d for d in window.findChildren(AdjustStockDialog) if d.isVisible())
    dialog.spin.setValue(7)
    assert dialog.confirm_button.text() == "Set stock to 7"
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: booth.controller.view().sku("tee").left == 7, 3)
    frame = program_after(qtbot, booth)
    assert np.array_equal(overlay_half(frame), reference_frame(source, expected_model(7, AMBER)))


def test_timer_key_starts_then_ending_asks_and_closes_sales(qtbot, booth_window):
    booth, window, _ = booth_window
    qtbot.keyClick(window, Qt.Key.Key_T)
    wait_until(lambda: booth.controller.view().phase.value == "live", 3)
    assert window.timer_button.text() == "END OFFER"
    qtbot.keyClick(window, Qt.Key.Key_T)
    confirm = window.findChild(ConfirmDialog)
    assert confirm is not None and "End the offer now?" in confirm.question.text()
    qtbot.mouseClick(confirm.confirm_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: booth.controller.view().phase.value == "ended", 3)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_until(lambda: "Offer ended" in window.message.text(), 3)
    assert window.message.property("severity") == "error"
    assert booth.controller.view().sku("tee").left == 12
    assert not window.sell_button.isEnabled()
    assert booth.overlay_model().timer_label == "OFFER ENDED"


def test_number_keys_feature_another_product_on_the_overlay(qtbot, booth_window):
    booth, window, _ = booth_window
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert booth.overlay_model().product == "CAP"
    assert booth.overlay_model().stock_colour == AMBER  # 4 left
    qtbot.keyClick(window, Qt.Key.Key_Space)
    wait_until(lambda: booth.controller.view().sku("cap").left == 3, 3)
    assert booth.controller.view().sku("tee").left == 12


def test_f1_shows_every_key(qtbot, booth_window):
    _, window, _ = booth_window
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(KeyMapDialog)
    assert dialog is not None and dialog.isVisible()
    shown = " ".join(dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount()))
    for binding in BINDINGS:
        if not binding.action.startswith("feature_"):
            assert binding.label in shown


def test_preview_shows_the_program_frame_itself_and_status_names_fps_and_sources(qtbot, booth_window):
    _booth, window, _ = booth_window
    wait_until(lambda: window.view.frames_shown > 5, 5)
    assert window.view.frame.pixels.shape == (360, 640, 4)  # the program frame, not a widget-side copy
    assert window.view.frame.source == "primary"
    wait_until(lambda: "PROGRAM" in window.status.text() and "LIVE" in window.status.text(), 3)
    assert "fps" in window.status.text() and "test:solid" in window.status.text()
    row = window.source_panel.rows["primary"]
    assert "LIVE" in row.state.text() and "fps" in row.state.text() and "ON PROGRAM" in row.program.text()
    assert "last frame" in row.state.toolTip() and "reconnects 0" in row.state.toolTip()
    window.toggle_health()  # the tech lead's Sources tab has every figure, whole
    details = window.source_details.text.text()
    assert "test:solid" in details and "last frame" in details and "reconnects 0" in details


def test_a_broken_drop_file_starts_no_drop_and_names_every_problem(tmp_path):
    bad = tmp_path / "drop.toml"
    bad.write_text("[drop]\ntimr_seconds = 90\n[[sku]]\nid = 'tee'\nname = 'TEE'\nstock = -3\n[program]\nfps = 500\n")
    config, problems = resolve_config(Options(drop=bad))
    assert config is None  # never the demo product on air instead
    assert any("drop.timr_seconds: unknown key (did you mean 'timer_seconds'?)" in p for p in problems)
    assert any("sku[1].stock: must be a whole number ≥ 0, got -3" in p for p in problems)
    assert any("program.fps: must be between 1 and 60, got 500" in p for p in problems)
    assert all(str(bad) in p for p in problems)


def test_bad_command_line_overrides_fall_back_with_a_message():
    config, problems = resolve_config(Options(source="webcam", size="99x99", fps=500.0))
    assert config is not None and config.primary.kind.value == "demo"
    assert config.program.size == (1280, 720) and config.program.fps == 30
    assert any("--source" in p for p in problems)
    assert any("--size" in p for p in problems) and any("--fps" in p for p in problems)


def test_the_problems_screen_lists_every_problem_and_starts_the_drop_once_fixed(qtbot, tmp_path):
    from booth.ui.problems_window import ProblemsWindow

    drop = tmp_path / "drop.toml"
    drop.write_text("[[sku]]\nid = 'tee'\nname = 'TEE'\nstock = -3\n[drop]\ntitle = 5\n")
    _config, problems = resolve_config(Options(drop=drop))
    window = ProblemsWindow(drop, problems)
    qtbot.addWidget(window)
    ready: list = []
    window.config_ready.connect(ready.append)
    window.show()
    try:
        assert "2 problems" in window.heading.text() and "no drop is on air" in window.heading.text()
        assert "sku[1].stock" in window.list.text() and "drop.title: must be text" in window.list.text()
        drop.write_text("[drop]\ntitle = 'Fixed'\n[[sku]]\nid = 'tee'\nname = 'TEE'\nstock = 3\n")
        qtbot.keyClick(window, Qt.Key.Key_F5)
        wait_until(lambda: bool(ready), 5)
        assert ready[0].drop.title == "Fixed"
    finally:
        window.close()


def test_v_records_the_viewer_count_for_the_decision_rate(qtbot):
    from booth.ui.dialogs import ViewerCountDialog

    config = type(demo_config())(drop=demo_config().drop, program=ProgramConfig(*SIZE, 30))
    booth = build_booth(config, source=SolidSource(SIZE))
    recorded: list[int] = []
    window = build_window(booth, on_viewers=recorded.append)
    qtbot.addWidget(window)
    booth.start()
    try:
        window.show()
        window.activateWindow()
        wait_until(window.isActiveWindow, 3)
        qtbot.keyClick(window, Qt.Key.Key_V)
        dialog = window.findChild(ViewerCountDialog)
        assert dialog is not None and dialog.isVisible()
        dialog.spin.setValue(240)
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        assert recorded == [240]
        assert "Viewers: 240 recorded." in window.message.text()
    finally:
        window.close()
        booth.stop()
