"""The drills panel (a tab of the tech lead's window): run one drill or all of them during a
rehearsal and read the scorecard as it fills in — each drill's figure against its target, PASS or
FAIL, and what happened in words.

The drills run on their own worker (booth.app.drills.DrillDesk); results arrive as signals, so the
GUI thread never waits. Buttons never take the keyboard: Space still sells in the host's window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from booth.core.drills import DrillResult, DrillSpec, Scorecard, format_figure
from booth.ui.theme import PALETTE

RunDrills = Callable[[list[str], Callable[[DrillResult], None], Callable[[Scorecard], None]], None]
_VERDICT_COLOURS = {"PASS": PALETTE.green, "FAIL": PALETTE.red, "n/a": PALETTE.muted}
COLUMNS = ("drill", "figure", "target", "", "what happened")


class DrillsPanel(QWidget):
    result_arrived = Signal(object)  # DrillResult, from the drills' worker
    card_arrived = Signal(object)  # Scorecard

    def __init__(self, drills: Sequence[DrillSpec], run: RunDrills | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drillsPanel")
        self._drills = list(drills)
        self._run = run
        self.running = False
        self.results: dict[str, DrillResult] = {}
        layout = QVBoxLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {PALETTE.text}; font-size: 16px;")
        layout.addWidget(self.note)
        buttons = QGridLayout()
        self.run_all = QPushButton("RUN ALL DRILLS")
        self.run_all.clicked.connect(lambda: self.start([d.name for d in self._drills]))
        buttons.addWidget(self.run_all, 0, 0, 1, 4)
        self.buttons: dict[str, QPushButton] = {}
        for index, drill in enumerate(self._drills):
            button = QPushButton(drill.name)
            button.setToolTip(f"{drill.title}: {drill.figure} ≤ {drill.target:g} {drill.unit}")
            button.clicked.connect(lambda _checked=False, name=drill.name: self.start([name]))
            self.buttons[drill.name] = button
            buttons.addWidget(button, 1 + index // 4, index % 4)
        for button in (self.run_all, *self.buttons.values()):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setEnabled(run is not None)
        layout.addLayout(buttons)
        self.table = QTableWidget(len(self._drills), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        for row, drill in enumerate(self._drills):
            self._set_row(row, drill.name, "—", f"≤ {drill.target:g} {drill.unit}", "", drill.title)
        layout.addWidget(self.table, 1)
        self.summary = QLabel("")
        self.summary.setStyleSheet(f"color: {PALETTE.text}; font-size: 18px; font-weight: 700;")
        layout.addWidget(self.summary)
        self.note.setText(
            "Each drill puts one fault on the real pipeline — the sources, the ingest, the battery reading, the "
            "disk reading, the shop's link, the control API — and scores what Booth did. The scorecard is kept "
            "in the session log and the report." if run is not None else
            "Drills run only in a rehearsal, never during a live drop: start Booth with --rehearsal "
            "(or run `booth rehearse --all`)."
        )  # fmt: skip
        self.result_arrived.connect(self._on_result_arrived)
        self.card_arrived.connect(self._on_card_arrived)

    def start(self, names: list[str]) -> None:
        if self._run is None or self.running:
            return
        self.running = True
        for button in (self.run_all, *self.buttons.values()):
            button.setEnabled(False)
        self.summary.setText(f"Running {len(names)} drill(s)…")
        self._run(names, self.result_arrived.emit, self.card_arrived.emit)

    def _on_result_arrived(self, result: DrillResult) -> None:
        self.results[result.name] = result
        row = next(i for i, d in enumerate(self._drills) if d.name == result.name)
        figure = "—" if result.figure is None else format_figure(result.figure, result.unit)
        self._set_row(row, result.name, figure, f"≤ {result.target:g} {result.unit}", result.verdict, result.detail)

    def _on_card_arrived(self, card: Scorecard) -> None:
        self.running = False
        for button in (self.run_all, *self.buttons.values()):
            button.setEnabled(True)
        ran = [d for d in card.drills if d.passed is not None]
        passed = sum(1 for d in ran if d.passed)
        verdict = "every drill passed" if card.passed else f"{len(ran) - passed} of {len(ran)} drills FAILED"
        self.summary.setText(f"Scorecard: {verdict} ({card.duration_s:.0f} s; in the session log)")
        self.summary.setStyleSheet(f"color: {PALETTE.green if card.passed else PALETTE.red}; font-size: 18px; "
                                   "font-weight: 700;")  # fmt: skip

    def _set_row(self, row: int, *cells: str) -> None:
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            if column == 3 and text in _VERDICT_COLOURS:
                item.setForeground(QColor(_VERDICT_COLOURS[text]))
            self.table.setItem(row, column, item)
        self.table.resizeRowToContents(row)
