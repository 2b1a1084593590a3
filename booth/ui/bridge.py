"""Services speak in plain callbacks from their own threads; these turn them into Qt signals."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from booth.core.drop import Refusal
from booth.core.events import DropEvent
from booth.core.frames import ProgramFrame


class FrameNotifier(QObject):
    """Latest-frame-wins: at most one 'frame ready' is queued to the GUI, however fast frames come."""

    frame_ready = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._pending = threading.Event()

    def notify(self, _frame: ProgramFrame) -> None:  # compositor thread
        if not self._pending.is_set():
            self._pending.set()
            self.frame_ready.emit()

    def taken(self) -> None:  # GUI thread, before reading the newest frame
        self._pending.clear()


class DropEvents(QObject):
    event_applied = Signal(object)  # DropEvent
    action_refused = Signal(object)  # Refusal

    def applied(self, event: DropEvent) -> None:
        self.event_applied.emit(event)

    def refused(self, refusal: Refusal) -> None:
        self.action_refused.emit(refusal)
