"""Short-form clips from the host's window: Shift+C exports a 9:16 clip of the last seconds as
[clips] says, while C still saves the 16:9 remux; the Output view's clip controls export a clean
clip with a typed caption, show its progress, cancel one, and open the result's folder."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from booth.app.gui import build_window
from booth.app.options import Options
from booth.app.root import add_rig, build_booth
from booth.core.clips_config import ClipsConfig
from booth.core.config import ProgramConfig, demo_config
from booth.program_out.export import JobState
from booth.ui.clip_panel import open_folder
from tests.conftest import SolidSource
from tests.program_out.clips.conftest import streams
from tests.waiting import wait_until

SIZE = (640, 360)
CLIPS = ClipsConfig(preset="tiktok-720", seconds=4.0, caption="Only 7 left!", clean=True)


@pytest.fixture
def clip_window(qtbot, tmp_path: Path):
    config = dataclasses.replace(demo_config(), program=ProgramConfig(*SIZE, 30), clips=CLIPS)
    booth = build_booth(config, source=SolidSource(SIZE))
    add_rig(booth, Options(data_dir=tmp_path))
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, 3, "the window to be active")  # shortcuts go to the active window
    assert booth.output is not None and booth.output.clean_replay is not None
    wait_until(lambda: booth.output.replay.span_s() >= 4.5 and booth.output.clean_replay.span_s() >= 4.5, 40,
               "4.5 s of program and clean stream")  # fmt: skip
    yield booth, window
    window.close()
    booth.stop()


def finished(window):  # type: ignore[no-untyped-def]
    shown = window.clip_panel.shown
    return shown if shown is not None and shown.finished else None


def test_shift_c_exports_a_vertical_clip_and_c_still_saves_the_remux(qtbot, clip_window) -> None:
    booth, window = clip_window
    qtbot.keyClick(window, Qt.Key.Key_C)
    wait_until(lambda: "Clip saved" in booth.output.status().clip_message, 20, "the 16:9 clip")
    assert window.clip_panel.shown is None, "C is the 16:9 remux, not a 9:16 export"
    qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    status = wait_until(lambda: finished(window), 120, "the 9:16 clip")
    assert status.state is JobState.DONE, status.message
    assert window.clip_panel.progress.value() == 100 and window.clip_panel.folder_button.isEnabled()
    info = streams(status.path)
    assert (int(info["video"]["width"]), int(info["video"]["height"])) == (720, 1280)
    assert status.path.parent == Path(booth.output.clips_folder)
    assert status.label.startswith("9:16 overlay")  # Shift+C is always with the overlay


def test_the_output_view_exports_a_clean_captioned_clip_cancels_one_and_opens_its_folder(qtbot, clip_window) -> None:
    _booth, window = clip_window
    qtbot.keyClick(window, Qt.Key.Key_H)  # the tech lead's window …
    tabs = window.tech.tabs
    wait_until(tabs.isVisible, 5, "the tech lead's window")
    output_tab = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Output")
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(output_tab).center())
    panel = window.clip_panel  # … its Output tab
    wait_until(panel.isVisible, 5, "the clip controls on screen")
    wait_until(lambda: re.match(r"clean feed: [1-9]\d* fps · \d+ skipped", panel.clean_label.text()), 10,
               "the clean feed's line: running, and what it skipped")  # fmt: skip
    panel.caption.clear()
    qtbot.keyClicks(panel.caption, "Last call!")
    assert panel.clean.isChecked()  # [clips] clean = true is the default choice
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)  # changed my mind
    cancelled = wait_until(lambda: finished(window), 60, "the cancelled export")
    assert cancelled.state is JobState.CANCELLED and cancelled.path is None
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    done = wait_until(lambda: (s := finished(window)) and s.job_id > cancelled.job_id and s, 120, "the clean clip")
    assert done.state is JobState.DONE, done.message
    assert "clean" in done.path.name and done.layout is not None and done.layout.caption is not None
    assert list(done.path.parent.glob("*.part")) == []
    panel.open_folder_requested.disconnect(open_folder)  # no file manager on a test machine
    with qtbot.waitSignal(panel.open_folder_requested, timeout=2000) as opened:
        qtbot.mouseClick(panel.folder_button, Qt.MouseButton.LeftButton)
    assert opened.args == [done.path.parent]


def test_a_marked_moment_becomes_a_vertical_clip_from_the_output_view(qtbot, clip_window) -> None:
    booth, window = clip_window
    booth.output.mark("host: the try-on")
    qtbot.keyClick(window, Qt.Key.Key_H)
    tabs = window.tech.tabs
    wait_until(tabs.isVisible, 5, "the tech lead's window")
    output_tab = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Output")
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(output_tab).center())
    moments = window.output_panel.moment_list

    def listed():  # type: ignore[no-untyped-def]
        return next((moments.item(i) for i in range(moments.count()) if "the try-on" in moments.item(i).text()), None)

    item = wait_until(listed, 10, "the moment listed")
    qtbot.mouseClick(moments.viewport(), Qt.MouseButton.LeftButton, pos=moments.visualItemRect(item).center())
    panel = window.clip_panel
    panel.seconds.setValue(6)  # 4 s before the moment, 2 after
    qtbot.mouseClick(panel.around_moment, Qt.MouseButton.LeftButton)
    assert panel.around_moment.isChecked()
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    status = wait_until(lambda: finished(window), 120, "the moment's clip")
    assert status.state is JobState.DONE, status.message
    assert "the try-on" in status.label
    info = streams(status.path)
    assert (int(info["video"]["width"]), int(info["video"]["height"])) == (720, 1280)
    assert 3.9 <= float(info["format"]["duration"]) <= 6.6


def test_the_code_catcher_hands_shift_c_on_as_shift_c(qtbot) -> None:
    """With a shop, letters pass through the scanner catcher first: a lone Shift+C must stay Shift+C."""
    from PySide6.QtWidgets import QApplication, QWidget

    from booth.ui.code_entry import CodeCatcher

    widget = QWidget()
    qtbot.addWidget(widget)
    replayed: list[str] = []
    catcher = CodeCatcher(widget, lambda _code: None, replayed.append, lambda: None, lambda _text: None)
    QApplication.instance().installEventFilter(catcher)
    try:
        widget.show()
        qtbot.keyClick(widget, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
        wait_until(lambda: replayed, 3, "Shift+C handed on")
        assert replayed == ["C"], replayed
        qtbot.keyClick(widget, Qt.Key.Key_C)
        wait_until(lambda: replayed == ["C", "c"], 3, "C handed on as c")
    finally:
        QApplication.instance().removeEventFilter(catcher)
        catcher.stop()
