"""Source health at a glance: state, fps, last-frame age, reconnects, which one is on program.

The host lock (automatic / stay on secondary / force primary) and "reconnect now" sit on the
same strip, so a producer can take over from automation with one touch.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from booth.core.failover import SLATE, Lock
from booth.core.output import OutputState, OutputStatus
from booth.core.source_state import SourceState, SourceStatus
from booth.ui.theme import PALETTE

STATE_COLOURS = {
    SourceState.LIVE: PALETTE.green,
    SourceState.STARTING: PALETTE.muted,
    SourceState.RECONNECTING: PALETTE.amber,
    SourceState.STALLED: PALETTE.amber,
    SourceState.FROZEN: PALETTE.amber,
    SourceState.DOWN: PALETTE.red,
}


def describe(status: SourceStatus) -> str:
    """One line of figures for a source."""
    age = "—" if status.last_frame_age_s is None else f"{status.last_frame_age_s * 1000:.0f} ms"
    parts = [f"{status.fps:.0f} fps", f"last frame {age}", f"reconnects {status.reconnects}"]
    if status.next_attempt_in_s is not None and status.state is not SourceState.LIVE:
        parts.append(f"next try in {status.next_attempt_in_s:.1f} s")
    return " · ".join(parts)


class SourcePanel(QWidget):
    lock_requested = Signal(object)  # Lock
    reconnect_requested = Signal()

    def __init__(self, roles: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sources")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.setHorizontalSpacing(14)
        self.rows: dict[str, tuple[QLabel, QLabel, QLabel, QLabel]] = {}
        for row, role in enumerate(roles):
            name, state, figures, program = QLabel(role.upper()), QLabel(), QLabel(), QLabel()
            name.setStyleSheet("font-weight: 700;")
            figures.setObjectName("status")
            program.setMinimumWidth(130)
            for label in (state, figures):
                # Long reasons must never widen the window: they are cut, the tooltip has them whole.
                label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
                label.setMinimumWidth(120)
            for col, widget in enumerate((name, state, figures, program)):
                grid.addWidget(widget, row, col)
            self.rows[role] = (name, state, figures, program)
        self.output_name, self.output_state, self.output_figures = QLabel("OUTPUT"), QLabel(), QLabel()
        self.output_name.setStyleSheet("font-weight: 700;")
        self.output_figures.setObjectName("status")
        for label in (self.output_state, self.output_figures):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grid.addWidget(self.output_name, len(roles), 0)
        grid.addWidget(self.output_state, len(roles), 1)
        grid.addWidget(self.output_figures, len(roles), 2, 1, 2)
        roles = [*roles, "output"]
        self.slate_label = QLabel("")
        self.slate_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.slate_label.hide()
        grid.addWidget(self.slate_label, len(roles), 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 2)

        buttons = QHBoxLayout()
        self.lock_buttons: dict[Lock, QPushButton] = {}
        labels = {Lock.AUTO: "AUTO", Lock.SECONDARY: "HOLD 2ND", Lock.PRIMARY: "FORCE 1ST"}
        for lock, text in labels.items():
            button = QPushButton(text)
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setStyleSheet("min-height: 34px; font-size: 16px; padding: 4px 10px;")
            button.setToolTip(f"Sources: {lock.value}")
            button.clicked.connect(lambda _c=False, lock=lock: self.lock_requested.emit(lock))
            buttons.addWidget(button)
            self.lock_buttons[lock] = button
        if len(roles) < 2:
            self.lock_buttons[Lock.SECONDARY].setEnabled(False)
        self.reconnect_button = QPushButton("RECONNECT")
        self.reconnect_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reconnect_button.setStyleSheet("min-height: 34px; font-size: 16px; padding: 4px 10px;")
        self.reconnect_button.setToolTip("Reconnect every source that is not live, now (F5)")
        self.reconnect_button.clicked.connect(lambda _c=False: self.reconnect_requested.emit())
        buttons.addWidget(self.reconnect_button)
        grid.addLayout(buttons, 0, 4, max(1, len(roles)), 1)

    def update_sources(self, statuses: Sequence[SourceStatus], on_program: str, lock: Lock) -> None:
        for status in statuses:
            _name, state, figures, program = self.rows[status.role]
            colour = STATE_COLOURS[status.state]
            text = status.state.value.upper()
            if status.message:  # the label is on the same row already: don't say it twice
                text += f": {status.message.removeprefix(f'{status.label}: ')}"
            state.setText(f"<span style='color:{colour}; font-weight:700'>{_escape(_short(text))}</span>")
            state.setToolTip(text)
            figures.setText(f"{_escape(status.label)} · {describe(status)}")
            program.setText("● ON PROGRAM" if status.role == on_program else "")
            program.setStyleSheet(f"color: {PALETTE.red}; font-weight: 800;" if status.role == on_program else "")
        self.slate_label.setText("● SLATE ON PROGRAM: no source has pictures" if on_program == SLATE else "")
        self.slate_label.setVisible(on_program == SLATE)  # takes a row only when it has something to say
        self.slate_label.setStyleSheet(f"color: {PALETTE.red}; font-weight: 800;")
        for key, button in self.lock_buttons.items():
            button.setChecked(key is lock)

    def update_output(self, status: OutputStatus | None) -> None:
        """One line on what goes out: state, bitrate, drops, recording."""
        if status is None:
            self.output_state.setText("")
            self.output_figures.setText("output not running")
            return
        colour = {
            OutputState.LIVE: PALETTE.green, OutputState.BACKUP: PALETTE.amber,
            OutputState.RECONNECTING: PALETTE.red, OutputState.CONNECTING: PALETTE.amber,
            OutputState.OFF: PALETTE.muted,
        }[status.state]  # fmt: skip
        text = "ON BACKUP" if status.state is OutputState.BACKUP else status.state.value.upper()
        if status.state is OutputState.OFF and status.encoding:
            text = "RECORDING ONLY"
        self.output_state.setText(f"<span style='color:{colour}; font-weight:700'>{text}</span>")
        self.output_state.setToolTip(status.message)
        parts = []
        if status.encoding:
            parts.append(f"{status.bitrate_kbps / 1000:.1f} Mbit/s · {status.dropped_frames} dropped")
        if status.state in (OutputState.LIVE, OutputState.BACKUP):
            minutes, seconds = divmod(int(status.time_live_s), 60)
            parts.append(f"live {minutes:02d}:{seconds:02d}")
        parts.append("● REC" if status.recording_path and not status.recording_error else "not recording")
        if status.problems:
            parts.append(status.problems[0])
        self.output_figures.setText(_escape(" · ".join(parts)))


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
