"""Services speak in plain callbacks from their own threads; these turn them into Qt signals."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from booth.core.drop import Refusal
from booth.core.events import DropEvent
from booth.core.failover import Switch
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
    """Drop events, refusals, program cuts and warnings from service threads, onto the GUI thread."""

    event_applied = Signal(object)  # DropEvent
    action_refused = Signal(object)  # Refusal
    program_switched = Signal(object)  # Switch
    warned = Signal(str)
    clip_saved = Signal(object)  # ClipResult, or None when making it failed

    def clipped(self, result: object) -> None:
        self.clip_saved.emit(result)

    def switched(self, switch: Switch) -> None:
        self.program_switched.emit(switch)

    def warn(self, text: str) -> None:
        self.warned.emit(text)

    def applied(self, event: DropEvent) -> None:
        self.event_applied.emit(event)

    def refused(self, refusal: Refusal) -> None:
        self.action_refused.emit(refusal)
