"""The offer's and the output's state as coloured pills: READY / LIVE / LAST CALL / ENDED, and
STREAMING / ON BACKUP / RECONNECTING / NOT STREAMING with ● REC (or NO REC, REC FAILED) beside it. Read from across the
stall: the colour says it before the words do."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from booth.core.drop import DropView, Phase
from booth.core.output import OutputState, OutputStatus
from booth.core.overlay import format_clock
from booth.ui.elided import ElidedLabel
from booth.ui.theme import PALETTE

Look = tuple[str, str, str]  # text, background, text colour


def offer_look(view: DropView) -> Look:
    clock = format_clock(view.remaining_s)
    if view.phase is Phase.READY:
        return f"READY · {clock}", PALETTE.neutral, PALETTE.text
    if view.phase is Phase.LIVE:
        return f"LIVE · {clock} left", PALETTE.green, "#0b1a10"
    if view.phase is Phase.LAST_CALL:
        return f"LAST CALL · {clock}", PALETTE.amber, "#111111"
    return "OFFER ENDED", PALETTE.red, "#ffffff"


def output_look(status: OutputStatus | None) -> Look:
    if status is None:
        return "NO OUTPUT", PALETTE.neutral, PALETTE.muted
    minutes, seconds = divmod(int(status.time_live_s), 60)
    on_air = f" · {minutes:02d}:{seconds:02d}" if status.time_live_s else ""
    return {
        OutputState.LIVE: (f"STREAMING{on_air}", PALETTE.red, "#ffffff"),
        OutputState.BACKUP: (f"ON BACKUP{on_air}", PALETTE.amber, "#111111"),
        OutputState.CONNECTING: ("CONNECTING…", PALETTE.neutral, PALETTE.text),
        OutputState.RECONNECTING: ("RECONNECTING", PALETTE.amber, "#111111"),
        OutputState.OFF: ("NOT STREAMING", PALETTE.neutral, PALETTE.muted),
    }[status.state]


def recording_look(status: OutputStatus | None) -> Look:
    if status is not None and status.recording_path and not status.recording_error:
        return "● REC", PALETTE.panel, PALETTE.red
    if status is not None and status.recording_error:
        return "REC FAILED", PALETTE.red, "#ffffff"
    return "NO REC", PALETTE.panel, PALETTE.muted


class Pill(ElidedLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent, min_chars=3)
        self.setObjectName("pill")
        self._look: Look | None = None

    def show_look(self, look: Look) -> None:
        self.set_full_text(look[0])
        if look[1:] != (self._look or ("", "", ""))[1:]:
            self.setStyleSheet(f"QLabel#pill {{ background: {look[1]}; color: {look[2]}; }}")
        self._look = look

    @property
    def background(self) -> str:
        return self._look[1] if self._look else ""
