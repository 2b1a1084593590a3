"""The slices speak in plain callbacks from their own workers; these turn them into Qt signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from booth.core.drop import Refusal
from booth.core.events import DropEvent
from booth.core.failover import Switch


class DropEvents(QObject):
    """Drop events, refusals, program cuts and warnings from service threads, onto the GUI thread."""

    event_applied = Signal(object)  # DropEvent
    action_refused = Signal(object)  # Refusal
    program_switched = Signal(object)  # Switch
    warned = Signal(str)
    clip_saved = Signal(object)  # ClipResult, or None when making it failed
    code_redeemed = Signal(object)  # booth.app.shop_part.Redemption

    def redeemed(self, outcome: object) -> None:
        self.code_redeemed.emit(outcome)

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
