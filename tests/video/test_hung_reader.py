"""A read that never returns is judged from outside and its reader replaced; the program goes on."""

from __future__ import annotations

import threading

from booth.core.failover import FailoverSettings
from booth.core.source_state import SourceState
from booth.video.capture import CaptureService
from booth.video.switcher import Switcher
from tests.conftest import SolidSource
from tests.waiting import wait_until


class HangingSource(SolidSource):
    """Delivers a few frames, then blocks inside read() like a driver that never returns."""

    def __init__(self) -> None:
        super().__init__((320, 180), label="test:hanging-camera")
        self.release = threading.Event()

    def read(self):
        if self.frames >= 5:
            self.release.wait(30)  # bounded, so the abandoned thread ends with the test
        return super().read()

    def close(self) -> None:
        self.release.set()  # what killing a decoder process does to its blocked read


def test_a_hung_reader_is_abandoned_and_a_fresh_one_takes_over(qtbot):
    replacements: list[SolidSource] = []

    def make_source() -> SolidSource:
        replacements.append(SolidSource((320, 180), label="test:camera-reopened"))
        return replacements[-1]

    hanging = HangingSource()
    capture = CaptureService("primary", hanging, make_source=make_source)
    switcher = Switcher(capture, None, FailoverSettings(hung_after_s=0.5))
    capture.start()
    switcher.start()
    try:
        wait_until(lambda: switcher.statuses()[0].state is SourceState.STALLED, 5)
        wait_until(lambda: capture.abandoned_readers == 1, 5)
        wait_until(lambda: switcher.statuses()[0].state is SourceState.LIVE, 5)
        assert capture.source is replacements[0] and replacements[0].frames > 0
        assert hanging.release.is_set()  # the stuck source was closed, not left holding the device
    finally:
        switcher.stop()
        capture.stop()
