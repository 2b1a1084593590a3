"""Sources at a glance: one line per camera under the preview, the lock buttons, and the full story
for the tech lead.

The host's line puts what matters first — the state and, when down, the next retry ("DOWN · retry
in 2 s") — and the reason after it, cut with "…" when long: the whole reason is in the tooltip
and in the tech lead's Sources tab. Which source is on program, and "back on in 4 s" while the
return dwell runs, have their own column.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from booth.core.failover import PRIMARY, SECONDARY, SLATE, Lock
from booth.core.source_state import SourceState, SourceStatus
from booth.ui.elided import ElidedLabel
from booth.ui.key_button import KeyButton
from booth.ui.theme import PALETTE

STATE_COLOURS = {
    SourceState.LIVE: PALETTE.green,
    SourceState.STARTING: PALETTE.muted,
    SourceState.RECONNECTING: PALETTE.amber,
    SourceState.STALLED: PALETTE.amber,
    SourceState.FROZEN: PALETTE.amber,
    SourceState.DOWN: PALETTE.red,
}
LOCK_LABELS = {Lock.AUTO: "AUTO", Lock.SECONDARY: "HOLD 2ND", Lock.PRIMARY: "FORCE 1ST"}


def describe(status: SourceStatus) -> str:
    """One line of figures for a source."""
    age = "—" if status.last_frame_age_s is None else f"{status.last_frame_age_s * 1000:.0f} ms"
    parts = [f"{status.fps:.0f} fps", f"last frame {age}", f"reconnects {status.reconnects}"]
    if status.delay_ms is not None:
        parts.append(f"{status.delay_ms:.0f} ms behind its sender")
    if status.dropped:
        parts.append(f"{status.dropped} skipped to stay current")
    if status.next_attempt_in_s is not None and status.state is not SourceState.LIVE:
        parts.append(f"next try in {status.next_attempt_in_s:.1f} s")
    return " · ".join(parts)


def reason_of(status: SourceStatus) -> str:
    """The reader's message without the source's own label (it is on the same line already)."""
    return status.message.removeprefix(f"{status.label}: ")


def state_text(status: SourceStatus) -> str:
    """'LIVE · 30 fps', 'DOWN · retry in 2 s · connection refused': the countdown before the reason."""
    parts = [status.state.value.upper()]
    if status.state is SourceState.LIVE:
        parts.append(f"{status.fps:.0f} fps")
    elif status.next_attempt_in_s is not None:
        parts.append(f"retry in {max(0, math.ceil(status.next_attempt_in_s))} s")
    if status.state is not SourceState.LIVE and reason_of(status):
        parts.append(reason_of(status))
    return " · ".join(parts)


def program_text(role: str, on_program: str, lock: Lock, returning_in_s: float | None) -> tuple[str, str]:
    """(text, colour) of a source's program column."""
    if role == on_program:
        return "● ON PROGRAM", PALETTE.red
    if on_program == SLATE and role == PRIMARY:
        return "● SLATE ON PROGRAM", PALETTE.red
    if role == PRIMARY and returning_in_s is not None:
        return f"BACK ON IN {max(1, math.ceil(returning_in_s))} s", PALETTE.amber
    if role == PRIMARY and lock is Lock.SECONDARY:
        return "HELD OFF (HOLD 2ND)", PALETTE.amber
    if role == SECONDARY and lock is Lock.PRIMARY:
        return "LOCKED OUT (FORCE 1ST)", PALETTE.muted
    return "", PALETTE.muted


class SourceRow:
    def __init__(self, role: str) -> None:
        self.role = role
        self.name = QLabel(role.upper())
        self.name.setObjectName("sourceRole")
        self.state = ElidedLabel()
        self.state.setObjectName("sourceState")
        self.label = ElidedLabel()
        self.label.setObjectName("sourceLabel")
        self.program = ElidedLabel(min_chars=8)
        self.program.setObjectName("onProgram")
        self.program.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._colours: tuple[str, str] = ("", "")

    def show(self, status: SourceStatus, program: tuple[str, str]) -> None:
        self.state.set_full_text(state_text(status))
        self.state.set_detail(f"{state_text(status)}\n{status.label} · {describe(status)}")
        self.label.set_full_text(status.label)
        self.program.set_full_text(program[0])
        colours = (STATE_COLOURS[status.state], program[1])
        if colours != self._colours:
            self._colours = colours
            self.state.setStyleSheet(f"color: {colours[0]};")
            self.program.setStyleSheet(f"color: {colours[1]};")


class SourceStrip(QWidget):
    """Under the preview: one line per source and RECONNECT (F5)."""

    reconnect_requested = Signal()

    def __init__(self, roles: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sources")
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(0)
        self.rows: dict[str, SourceRow] = {}
        for index, role in enumerate(roles):
            row = self.rows[role] = SourceRow(role)
            grid.addWidget(row.name, index, 0)
            grid.addWidget(row.state, index, 1)
            grid.addWidget(row.label, index, 2)
            grid.addWidget(row.program, index, 3)
        grid.setColumnStretch(1, 6)
        grid.setColumnStretch(2, 2)
        grid.setColumnStretch(3, 3)
        self.reconnect_button = KeyButton("RECONNECT", "reconnect", name="reconnect")
        self.reconnect_button.setToolTip("Reconnect every source that is not live, now (F5)")
        self.reconnect_button.clicked.connect(lambda _c=False: self.reconnect_requested.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 0, 0)
        layout.setSpacing(10)
        layout.addLayout(grid, 1)
        layout.addWidget(self.reconnect_button, 0, Qt.AlignmentFlag.AlignVCenter)

    @property
    def slate_label(self) -> ElidedLabel:
        """The line that says when the slate is on program."""
        return self.rows[PRIMARY].program

    def update_sources(
        self, statuses: Sequence[SourceStatus], on_program: str, lock: Lock, returning_in_s: float | None = None
    ) -> None:
        for status in statuses:
            self.rows[status.role].show(status, program_text(status.role, on_program, lock, returning_in_s))


class LockBar(QWidget):
    """AUTO / HOLD 2ND / FORCE 1ST: the active one is visibly selected (light, or amber when the host
    overrides automation). L cycles through them."""

    lock_requested = Signal(object)  # Lock

    def __init__(self, has_secondary: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(5)
        self.buttons: dict[Lock, KeyButton] = {}
        for lock, text in LOCK_LABELS.items():
            button = KeyButton(text, "cycle_lock", name="lock")
            button.margin_px = 3  # three to a row in a 330-px column: the label needs every pixel
            button.setCheckable(True)
            button.setProperty("override", lock is not Lock.AUTO)
            button.setToolTip(f"Sources: {lock.value} (L cycles)")
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _c=False, lock=lock: self.lock_requested.emit(lock))
            layout.addWidget(button, 1)
            self.buttons[lock] = button
        if not has_secondary:
            self.buttons[Lock.SECONDARY].setEnabled(False)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.set_lock(Lock.AUTO)

    def set_lock(self, lock: Lock) -> None:
        for key, button in self.buttons.items():
            if button.isChecked() != (key is lock):
                button.setChecked(key is lock)

    @property
    def active(self) -> Lock:
        return next(lock for lock, button in self.buttons.items() if button.isChecked())


class SourceDetails(QWidget):
    """The tech lead's Sources tab: every figure and the whole reason, wrapped, nothing cut."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel("")
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.program_line = QLabel("")
        self.program_line.setObjectName("status")
        self.program_line.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.text)
        layout.addWidget(self.program_line)
        layout.addStretch(1)

    def update_sources(
        self,
        statuses: Sequence[SourceStatus],
        on_program: str,
        lock: Lock,
        returning_in_s: float | None,
        program_line: str,
    ) -> None:
        blocks = []
        for s in statuses:
            colour = STATE_COLOURS[s.state]
            program = program_text(s.role, on_program, lock, returning_in_s)[0]
            reason = html.escape(s.message) if s.message else "no problem"
            if s.delay_alert:  # a backlog building on the way from its sender
                reason += f"<br><span style='color:{PALETTE.amber}'>{html.escape(s.delay_alert)}</span>"
            blocks.append(
                f"<p><b>{s.role.upper()}</b> · {html.escape(s.label)} · "
                f"<span style='color:{colour}; font-weight:700'>{s.state.value.upper()}</span>"
                f"{' · ' + html.escape(program) if program else ''}<br>"
                f"{reason}<br><span style='color:{PALETTE.muted}'>{html.escape(describe(s))}</span></p>"
            )
        where = "the slate" if on_program == SLATE else f"the {on_program}"
        blocks.append(f"<p>On program: <b>{where}</b> · lock: <b>{LOCK_LABELS[lock]}</b> ({lock.value})</p>")
        self.text.setText("".join(blocks))
        self.program_line.setText(program_line)
