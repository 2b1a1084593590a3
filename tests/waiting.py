"""The one way tests wait: poll a condition until it holds, or fail saying what never happened.

With a Qt application running, events are processed while waiting (signals queued from workers
reach their slots); without one it simply polls. Bounded by `timeout` seconds, always.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.02


def wait_until(predicate: Callable[[], T], timeout: float = 5.0, what: str = "the condition") -> T:
    """The predicate's first truthy value; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    process_events = _event_pump()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        process_events()


def _event_pump() -> Callable[[], None]:
    try:
        from PySide6.QtCore import QCoreApplication, QEventLoop
    except ImportError:  # pragma: no cover - PySide6 is a base dependency
        return lambda: time.sleep(POLL_S)
    app = QCoreApplication.instance()
    if app is None:
        return lambda: time.sleep(POLL_S)

    def pump() -> None:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, int(POLL_S * 1000))
        time.sleep(POLL_S / 2)

    return pump
