"""The tech lead's window over the host's: history from start-up, info kept off the host's line,
room for more tabs."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from booth.app.root import build_booth
from booth.core.config import ProgramConfig, demo_config
from booth.core.health.alerts import Alert, Severity
from booth.ui.main_window import MainWindow
from tests.conftest import SolidSource
from tests.health.fakes import WARN_BATTERY, make_snapshot
from tests.waiting import wait_until

SIZE = (640, 360)
NO_MIC = Alert("mic.device", Severity.INFO, "No microphone: no input device", 990.0)


class Rig:
    """Health snapshots in the monitor's shape, one per refresh, 0.5 s of rig time apart."""

    def __init__(self) -> None:
        self.count = 0
        self.alerts: tuple[Alert, ...] = ()

    def latest(self):
        self.count += 1
        return make_snapshot(seq=self.count, t=1000 + self.count * 0.5, battery=80 - self.count * 0.1,
                             alerts=self.alerts)  # fmt: skip


@pytest.fixture
def window_and_rig(qtbot):
    config = dataclasses.replace(demo_config(), program=ProgramConfig(*SIZE, 30))
    booth = build_booth(config, source=SolidSource(SIZE))
    rig = Rig()
    window = MainWindow(booth.controller, booth.program, booth.compositor.stats, booth.switcher, health=rig.latest)
    window.stop_refreshing()  # the test refreshes by hand, so it knows how many snapshots were seen
    qtbot.addWidget(window)
    booth.start()
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, 3, "the active window")
    yield window, rig
    window.close()
    booth.stop()


def test_health_history_runs_from_start_up_whether_the_window_is_open_or_not(qtbot, window_and_rig):
    window, _rig = window_and_rig
    for _ in range(120):  # a minute of refreshes with the tech lead's window closed
        window.refresh()
    assert not window.tech.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_H)
    wait_until(window.tech.isVisible, 3, "the tech lead's window")
    xs, ys = window.health_panel.curves["battery_percent"].getData()
    assert len(xs) >= 30 and xs[0] <= -58 / 60  # the whole minute is plotted, from the first refresh
    assert ys[0] == pytest.approx(80 - 0.1)  # the very first snapshot, seen when the window was built


def test_info_stays_off_the_host_line_and_warnings_reach_it(qtbot, window_and_rig):
    window, rig = window_and_rig
    rig.alerts = (NO_MIC,)
    window.refresh()
    assert window.alert_line.text() == "Rig OK"
    window.toggle_health()
    assert "No microphone" in window.health_panel.rows["alerts"].text()  # it is in the tech lead's view
    rig.alerts = (WARN_BATTERY, NO_MIC)
    window.refresh()
    assert window.alert_line.text() == WARN_BATTERY.message  # "(+1 more)" counts only what needs action


def test_more_tabs_fit_beside_the_four(qtbot, window_and_rig):
    window, _rig = window_and_rig
    index = window.tech.add_tab(QLabel("connect a phone"), "Connect")
    assert [window.tech.tabs.tabText(i) for i in range(window.tech.tabs.count())] == [
        "Rig health", "Output", "Sources", "Messages", "Connect"]
    assert index == 4
