"""The run of show on the host's screen, under the preview: REHEARSAL when it is one, now and next
("next: HEADLINE BURST in 2 h 14 m"), and planned against actual per segment and for the whole show.

Two one-line labels (cut with "…", whole in the tooltip), so it never widens the host's window. The
host window refreshes it with every drop view; it reads nothing by itself.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from booth.core.drop import DropView
from booth.ui.elided import ElidedLabel
from booth.ui.theme import PALETTE

REHEARSAL_TEXT = "REHEARSAL"


class ShowStrip(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("showStrip")
        self.badge = ElidedLabel(REHEARSAL_TEXT, min_chars=9)
        self.badge.setObjectName("rehearsalBadge")
        self.badge.setStyleSheet(
            f"QLabel#rehearsalBadge {{ background: {PALETTE.red}; color: #ffffff; font-size: 18px; "
            "font-weight: 800; padding: 2px 10px; border-radius: 6px; }"
        )
        self.badge.setToolTip("A rehearsal: shadow stock, never the shop's; not live.")
        self.badge.setMinimumWidth(130)
        self.now_line = ElidedLabel()
        self.now_line.setObjectName("showNow")
        self.now_line.setStyleSheet(f"QLabel#showNow {{ color: {PALETTE.text}; font-size: 18px; font-weight: 700; }}")
        self.clock_line = ElidedLabel()
        self.clock_line.setObjectName("showClock")
        self.clock_line.setStyleSheet(f"QLabel#showClock {{ color: {PALETTE.muted}; font-size: 15px; }}")
        lines = QVBoxLayout()
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(0)
        lines.addWidget(self.now_line)
        lines.addWidget(self.clock_line)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(self.badge)
        row.addLayout(lines, 1)
        self.badge.hide()

    def refresh(self, view: DropView) -> None:
        self.badge.setVisible(view.rehearsal)
        show = view.show
        if show is None:
            self.now_line.set_full_text("Rehearsal: sales go to a shadow of the stock, never the shop.")
            self.clock_line.set_full_text("One offer, no run of show in the drop file.")
            return
        self.now_line.set_full_text(show.host_line())
        self.clock_line.set_full_text(show.clock_line())
