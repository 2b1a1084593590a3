"""Failover as the host sees it: the cut, its reason, the source strip, the lock and the slate."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from booth.app.gui import build_window
from booth.app.root import build_booth
from booth.core.config import ProgramConfig, demo_config
from booth.core.failover import FailoverSettings, Lock
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)


@pytest.fixture
def two_cameras(qtbot):
    base = demo_config()
    drop = dataclasses.replace(base.drop, pre_sale=True)
    config = type(base)(drop=drop, program=ProgramConfig(*SIZE, 30), failover=FailoverSettings(dwell_s=0.5))
    primary = SolidSource(SIZE, bgr=(90, 90, 90), label="test:phone")
    secondary = SolidSource(SIZE, bgr=(30, 120, 30), label="test:laptop-cam")
    booth = build_booth(config, source=primary, secondary_source=secondary)
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, 3)
    wait_until(lambda: booth.switcher.statuses()[0].state.value == "live", 5)
    yield booth, window, primary, secondary
    window.close()
    booth.stop()


def latest_program(booth):
    """The newest program frame (waits for the first one: the compositor may not have composed yet)."""
    return wait_until(booth.program.newest, 5.0, "the first program frame")


def test_unplugged_primary_cuts_to_the_secondary_with_the_reason_on_screen(qtbot, two_cameras):
    booth, window, primary, _ = two_cameras
    primary.unplugged.set()
    wait_until(lambda: latest_program(booth).source == "secondary", 5)
    frame = latest_program(booth)
    assert tuple(frame.pixels[100, 300, :3]) == (30, 120, 30)  # the laptop camera's picture…
    assert frame.pixels[200:, :320].max() == 255  # …with the overlay still burned in
    wait_until(lambda: "Cut to the secondary" in window.message.text(), 3)
    assert "primary down" in window.message.text() and "unplugged by the test" in window.message.text()
    wait_until(lambda: "ON PROGRAM" in window.source_panel.rows["secondary"].program.text(), 3)
    state = window.source_panel.rows["primary"].state
    wait_until(lambda: state.text().startswith("DOWN · retry in "), 3)  # the countdown first
    assert "unplugged by the test" in state.text()


def test_the_primary_returns_after_the_dwell_and_the_lock_keeps_the_secondary(qtbot, two_cameras):
    booth, window, primary, _ = two_cameras
    switches = []
    booth.switcher.on_switch(switches.append)
    qtbot.mouseClick(window.lock_bar.buttons[Lock.SECONDARY], Qt.MouseButton.LeftButton)
    wait_until(lambda: latest_program(booth).source == "secondary", 3)
    assert window.lock_bar.buttons[Lock.SECONDARY].isChecked()
    qtbot.keyClick(window, Qt.Key.Key_L)  # stay on secondary → force primary
    assert booth.switcher.lock is Lock.PRIMARY  # as asked, at once; the switcher applies it on its thread
    wait_until(lambda: latest_program(booth).source == "primary", 3)
    qtbot.keyClick(window, Qt.Key.Key_L)  # → automatic
    assert booth.switcher.lock is Lock.AUTO
    primary.unplugged.set()
    wait_until(lambda: latest_program(booth).source == "secondary", 5)
    primary.unplugged.clear()
    qtbot.keyClick(window, Qt.Key.Key_F5)  # reconnect now instead of waiting for the backoff
    wait_until(lambda: latest_program(booth).source == "primary", 8)
    reasons = [s.reason for s in switches]
    assert any("healthy for" in r and "back to the primary" in r for r in reasons)


def test_both_cameras_gone_shows_the_slate_with_the_overlay(qtbot, two_cameras):
    booth, window, primary, secondary = two_cameras
    primary.unplugged.set()
    secondary.unplugged.set()
    wait_until(lambda: latest_program(booth).source == "slate", 8)
    frame = latest_program(booth)
    assert frame.pixels[200:, :320].max() == 255  # "50 LEFT" is still on the program
    wait_until(lambda: "SLATE ON PROGRAM" in window.source_panel.slate_label.text(), 3)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # and the drop goes on
    wait_until(lambda: booth.controller.view().units_sold == 1, 3)


def test_each_cut_is_logged_with_its_reason_and_the_gap_viewers_saw(qtbot, tmp_path):
    from booth.app.session_records import SessionRecords
    from booth.drop.session import start_drop_session
    from booth.store.reader import SessionReader

    base = demo_config()
    config = type(base)(drop=base.drop, program=ProgramConfig(*SIZE, 30))
    session = start_drop_session(tmp_path, config)
    primary = SolidSource(SIZE, label="test:phone")
    booth = build_booth(config, session=session, source=primary,
                        secondary_source=SolidSource(SIZE, bgr=(30, 120, 30)))  # fmt: skip
    booth.switcher.on_cut(SessionRecords(session.log, booth.compositor.stats).program_cut)
    seen = []
    booth.switcher.on_cut(seen.append)
    booth.start()
    try:
        wait_until(lambda: booth.switcher.statuses()[0].state.value == "live", 5)
        # the secondary may open first and be on program for a moment: start from the primary
        wait_until(lambda: latest_program(booth).source == "primary", 5)
        primary.unplugged.set()
        wait_until(lambda: latest_program(booth).source == "secondary", 5)
        wait_until(lambda: any(c.from_source == "primary" for c in seen), 5)  # the cut has reached the program
        wait_until(lambda: session.log.flush(), 5)
    finally:
        booth.stop()  # the session log closes last
    with SessionReader(tmp_path / "booth.sqlite3") as reader:
        cuts = [e.payload for e in reader.events(reader.session().id) if e.kind == "source_switch"]
    cuts = [c for c in cuts if c["from"] == "primary"]  # not the start-up cut, if the secondary opened first
    assert len(cuts) == 1
    assert (cuts[0]["from"], cuts[0]["to"], cuts[0]["automatic"]) == ("primary", "secondary", True)
    assert cuts[0]["reason"].startswith("primary down: test:phone: unplugged by the test")
    assert cuts[0]["gap_ms"] > 0


def test_the_return_dwell_counts_down_on_the_primarys_line(qtbot):
    base = demo_config()
    config = type(base)(drop=dataclasses.replace(base.drop, pre_sale=True), program=ProgramConfig(*SIZE, 30),
                        failover=FailoverSettings(dwell_s=3.0))  # fmt: skip
    primary = SolidSource(SIZE, label="test:phone")
    booth = build_booth(config, source=primary, secondary_source=SolidSource(SIZE, bgr=(30, 120, 30)))
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    try:
        window.show()
        wait_until(lambda: latest_program(booth).source == "primary", 8)
        primary.unplugged.set()
        wait_until(lambda: latest_program(booth).source == "secondary", 5)
        primary.unplugged.clear()
        booth.switcher.reconnect_now()
        program = window.source_panel.rows["primary"].program
        wait_until(lambda: program.text().startswith("BACK ON IN "), 5, "the countdown")  # the dwell runs
        seen = {program.text()}
        wait_until(lambda: seen.add(program.text()) or program.text() == "● ON PROGRAM", 8, "the primary back")
        counted = sorted(t for t in seen if t.startswith("BACK ON IN "))
        assert counted[-1] in ("BACK ON IN 3 s", "BACK ON IN 2 s") and len(counted) >= 2  # it counted down
    finally:
        window.close()
        booth.stop()
