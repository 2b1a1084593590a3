"""The run of show on the host's screen and the REHEARSAL mark, in the host view and burned into the
program picture (what a recording or clip carries), with a real session log and real key presses."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from booth.app.gui import build_window
from booth.app.root import build_booth
from booth.core.config import parse_config
from booth.drop.session import start_drop_session
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)
DROP = {
    "drop": {"title": "Weekend drop"},
    "program": {"size": "640x360", "fps": 30},
    "sku": [{"id": "tee", "name": "TEE / BLACK", "stock": 40}],
    "plan": {
        "time_zone": "Europe/Berlin",
        "segment": [
            {"name": "TEASER", "kind": "teaser", "start": "2030-06-01 18:00", "minutes": 10},
            {"name": "HEADLINE BURST", "start": "2030-06-02 19:00", "minutes": 15, "quota": {"tee": 20}},
        ],
    },
}


@pytest.fixture
def host(qtbot, tmp_path, request):
    kind = request.param
    config = parse_config(DROP, "drop.toml")
    session = start_drop_session(tmp_path, config, kind=kind)
    booth = build_booth(config, source=SolidSource(SIZE), session=session)
    window = build_window(booth)
    qtbot.addWidget(window)
    booth.start()
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow, 3)
    wait_until(lambda: window.view.frame is not None, 5)
    yield booth, window
    window.close()
    booth.stop()


def mark_pixels(booth) -> np.ndarray:
    mark = booth.compositor.mark
    x, y, w, h = mark.box if mark is not None else (SIZE[0] // 2 - 60, 18, 120, 30)
    target = booth.program.seq + 2
    wait_until(lambda: booth.program.seq >= target, 5, "two more program frames")
    return booth.program.newest().pixels[y : y + h, x : x + w, :3]


def is_red(pixels: np.ndarray) -> bool:
    b, g, r = (float(pixels[..., i].mean()) for i in range(3))
    return r > 150 and r > 2 * g and r > 2 * b


@pytest.mark.parametrize("host", ["rehearsal"], indirect=True)
def test_a_rehearsal_is_marked_in_the_picture_and_the_host_view_and_t_steps_through_the_plan(qtbot, host):
    booth, window = host
    assert "REHEARSAL" in window.windowTitle()
    assert window.show_strip.badge.isVisible() and window.show_strip.badge.text() == "REHEARSAL"
    assert is_red(mark_pixels(booth))  # burned in: the recording and every clip carry it
    assert window.show_strip.now_line.text() == "next: TEASER now · armed: T starts it"

    qtbot.keyClick(window, Qt.Key.Key_T)
    wait_until(lambda: booth.controller.view().show.now is not None, 3, "the teaser to start")
    window.refresh()
    assert window.show_strip.now_line.text().startswith("now: TEASER 00:0")
    assert window.show_strip.now_line.text().endswith("of 10:00 · next: HEADLINE BURST in 10 m")
    assert window.show_strip.clock_line.text() == "TEASER: on time, running · show on plan"
    wait_until(lambda: "TEASER started: 10:00 on the clock." in window.message_log.texts(), 3, "the host's message")
    assert is_red(mark_pixels(booth))


@pytest.mark.parametrize("host", ["drop"], indirect=True)
def test_a_live_drop_with_a_plan_shows_now_and_next_without_a_rehearsal_mark(qtbot, host):
    booth, window = host
    assert "REHEARSAL" not in window.windowTitle() and booth.compositor.mark is None
    assert not window.show_strip.badge.isVisible()
    assert not is_red(mark_pixels(booth))
    assert window.show_strip.now_line.text().startswith("next: TEASER in ")
    qtbot.keyClick(window, Qt.Key.Key_T)  # years before it: T explains instead of starting it
    wait_until(lambda: any(t.startswith("TEASER is planned for Sat 18:00") for t in window.message_log.texts()), 3,
               "the refusal on the host's line")
    assert booth.controller.view().show.now is None
