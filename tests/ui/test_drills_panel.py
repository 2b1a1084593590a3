"""The drills panel in the tech lead's window: a click runs a drill on its own worker during a rehearsal,
the scorecard fills in on the GUI thread, and the result is in the session log; a live drop has no drills."""

from __future__ import annotations

from PySide6.QtCore import Qt

from booth.app.gui import build_window
from booth.app.options import Options
from booth.app.root import add_rig, build_booth
from booth.core.config import parse_config
from booth.drop.session import start_drop_session
from booth.store import kinds
from tests.conftest import SolidSource
from tests.waiting import wait_until

DROP = {
    "drop": {"title": "Drills"},
    "program": {"size": "320x180", "fps": 15},
    "health": {"mic": "none"},
    "recording": {"folder": ""},
    "sku": [{"id": "tee", "name": "TEE / BLACK", "stock": 10}],
}


def test_a_click_runs_the_drill_and_the_scorecard_fills_in(qtbot, tmp_path):
    config = parse_config(DROP, "drop.toml")
    session = start_drop_session(tmp_path, config, kind="rehearsal")
    booth = build_booth(config, source=SolidSource((320, 180), fps=15), session=session)
    add_rig(booth, Options(data_dir=tmp_path))
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    try:
        panel = window.drills_panel
        assert window.tech.tabs.tabText(window.tech.tabs.count() - 1) == "Drills"
        assert panel.buttons["low-battery"].isEnabled()
        qtbot.mouseClick(panel.buttons["low-battery"], Qt.MouseButton.LeftButton)
        assert not panel.run_all.isEnabled()  # one run at a time
        wait_until(lambda: not panel.running, 20, "the drill to finish")
        result = panel.results["low-battery"]
        assert result.passed is True and result.figure <= 2.0
        row = [panel.table.item(0 + 4, column).text() for column in range(5)]  # low-battery is the 5th drill
        assert row[0] == "low-battery" and row[3] == "PASS" and row[1].endswith(" s")
        assert panel.summary.text().startswith("Scorecard: every drill passed")
        assert panel.run_all.isEnabled()
        rows = session.log.call(lambda db: db.execute(
            "SELECT kind FROM events WHERE kind IN (?, ?)", (kinds.DRILL, kinds.SCORECARD)).fetchall())
        assert [r[0] for r in rows] == [kinds.DRILL, kinds.SCORECARD]
    finally:
        window.close()
        booth.stop()


def test_a_live_drop_has_no_drills_to_run(qtbot, tmp_path):
    config = parse_config(DROP, "drop.toml")
    session = start_drop_session(tmp_path, config)
    booth = build_booth(config, source=SolidSource((320, 180), fps=15), session=session)
    window = build_window(booth)
    qtbot.addWidget(window)
    try:
        panel = window.drills_panel
        assert booth.faults is None and not panel.run_all.isEnabled()
        assert not any(button.isEnabled() for button in panel.buttons.values())
        assert panel.note.text().startswith("Drills run only in a rehearsal, never during a live drop")
    finally:
        window.close()
        session.close()
