"""Leak watches for the autouse fixtures in tests/conftest.py."""

from __future__ import annotations

import weakref

import pytest


class TimerWatch:
    """Records every QTimer started from Python while it is installed; `stop_leaked()` stops and
    names the ones still running."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from PySide6.QtCore import QTimer

        self._started: list[weakref.ref[QTimer]] = []
        original = QTimer.start
        started = self._started

        def tracking_start(timer: QTimer, *args: object) -> None:
            started.append(weakref.ref(timer))
            original(timer, *args)

        monkeypatch.setattr(QTimer, "start", tracking_start)

    def stop_leaked(self) -> list[str]:
        import shiboken6

        leaked = []
        for ref in self._started:
            timer = ref()
            if timer is not None and shiboken6.isValid(timer) and timer.isActive():
                parent = timer.parent()
                owner = type(parent).__name__ if parent else None
                leaked.append(f"QTimer every {timer.interval()} ms (parent {owner})")
                timer.stop()
        return leaked
