"""A source that stamps its pictures shows how far behind its sender the program is, on the host's strip."""

from __future__ import annotations

import time

from booth.app.root import build_booth
from booth.core import timecode
from booth.core.config import ProgramConfig, demo_config
from booth.ui.source_panel import describe
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)
LAG_S = 0.250


class LaggingCamera(SolidSource):
    """Pictures that left their sender 250 ms before Booth reads them (a phone behind a slow link)."""

    def read(self):
        frame = super().read()
        timecode.draw(frame, round((time.time() - LAG_S) * 1000), timecode.Band.TOP)
        return frame


def test_the_program_source_status_says_how_far_behind_its_sender_it_is(qapp):
    config = demo_config()
    config = type(config)(drop=config.drop, program=ProgramConfig(*SIZE, 30))
    booth = build_booth(config, source=LaggingCamera(SIZE))
    booth.start()
    try:
        wait_until(lambda: booth.switcher.statuses()[0].delay_ms is not None, 5, "a delay figure")
        status = booth.switcher.statuses()[0]
    finally:
        booth.stop()
    # sender → program: the lag plus composing (the stamp is in whole milliseconds, so half of one either way)
    assert LAG_S * 1000 - 0.5 <= status.delay_ms < LAG_S * 1000 + 100
    assert status.delay_alert == ""
    assert f"{status.delay_ms:.0f} ms behind its sender" in describe(status)
