"""Big, one-decision dialogs. Opened with open() so the preview keeps running behind them."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from booth.store.recovery import OpenSessionInfo
from booth.ui.keymap import keymap_rows


class ConfirmDialog(QDialog):
    def __init__(self, question: str, confirm_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Booth")
        self.setModal(True)
        layout = QVBoxLayout(self)
        label = QLabel(question)
        label.setWordWrap(True)
        label.setStyleSheet("font-size: 26px;")
        layout.addWidget(label)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel")
        self.confirm_button = QPushButton(confirm_text)
        self.confirm_button.setObjectName("confirm")
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button.clicked.connect(self.accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        layout.addLayout(buttons)
        self.cancel_button.setDefault(True)  # Enter must not end an offer by accident


class AdjustStockDialog(QDialog):
    """Pick the new count; the confirm button says exactly what will happen."""

    def __init__(self, product: str, current: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Adjust stock")
        self.setModal(True)
        self.current = current
        layout = QVBoxLayout(self)
        title = QLabel(f"{product}: {current} left now.\nSet the stock to:")
        title.setStyleSheet("font-size: 24px;")
        layout.addWidget(title)
        self.spin = QSpinBox()
        self.spin.setRange(0, 100_000)
        self.spin.setValue(current)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.spin)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel")
        self.confirm_button = QPushButton()
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button.clicked.connect(self.accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        layout.addLayout(buttons)
        self.spin.valueChanged.connect(self._on_spin_value_changed)
        self._on_spin_value_changed(current)

    @property
    def value(self) -> int:
        return self.spin.value()

    def _on_spin_value_changed(self, value: int) -> None:
        self.confirm_button.setText(f"Set stock to {value}")
        self.confirm_button.setEnabled(value != self.current)


class ViewerCountDialog(QDialog):
    """How many people are watching now (from the platform's dashboard): feeds the decision rate."""

    def __init__(self, last: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Viewers")
        self.setModal(True)
        layout = QVBoxLayout(self)
        title = QLabel("Viewers watching now:")
        title.setStyleSheet("font-size: 24px;")
        layout.addWidget(title)
        self.spin = QSpinBox()
        self.spin.setRange(0, 10_000_000)
        self.spin.setValue(last)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.spin)
        buttons = QHBoxLayout()
        self.cancel_button = QPushButton("Cancel")
        self.confirm_button = QPushButton("Record")
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button.clicked.connect(self.accept)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        layout.addLayout(buttons)
        self.spin.selectAll()

    @property
    def value(self) -> int:
        return self.spin.value()


class KeyMapDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keys")
        layout = QVBoxLayout(self)
        rows = keymap_rows()
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Key", "Does"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for r, (keys, label) in enumerate(rows):
            table.setItem(r, 0, QTableWidgetItem(keys))
            table.setItem(r, 1, QTableWidgetItem(label))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(table)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        layout.addWidget(close)
        self.table = table
        self.resize(760, 640)


def ask_resume(info: OpenSessionInfo, quit_requested: Callable[[], bool] = lambda: False) -> bool:
    """Before the main window: resume the drop a crash left open, or start a new one?

    `quit_requested()` is checked once the prompt's loop runs: a signal that arrived just before the
    prompt opened closes it at once (one arriving while it is open closes it from the handler)."""
    started = time.strftime("%a %H:%M", time.localtime(info.started_wall))
    box = QMessageBox()
    box.setWindowTitle("Booth")
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(f"The {info.kind} \u201c{info.title}\u201d (started {started}, {info.events} events) was not closed.")
    box.setInformativeText("Resume it with the same stock and deadline, or start a new session?")
    resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Start new", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(resume)
    QTimer.singleShot(0, lambda: box.reject() if quit_requested() else None)
    box.exec()
    return box.clickedButton() is resume
