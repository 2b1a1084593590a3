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
    QLineEdit,
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


def add_answer_row(
    dialog: QDialog, layout: QVBoxLayout, confirm_text: str, enter_confirms: bool, cancel_text: str = "Cancel"
) -> tuple[QPushButton, QPushButton]:
    """Cancel and confirm, side by side under `layout`; (cancel, confirm). `enter_confirms`: Enter applies
    what was typed; otherwise Enter cancels, so a stray press never does a destructive thing."""
    buttons = QHBoxLayout()
    cancel, confirm = QPushButton(cancel_text), QPushButton(confirm_text)
    (cancel if enter_confirms else confirm).setAutoDefault(False)
    cancel.clicked.connect(dialog.reject)
    confirm.clicked.connect(dialog.accept)
    buttons.addWidget(cancel)
    buttons.addWidget(confirm)
    layout.addLayout(buttons)
    (confirm if enter_confirms else cancel).setDefault(True)
    return cancel, confirm


class ConfirmDialog(QDialog):
    """A destructive action (end the offer, quit while live): Cancel — or Stay — is the default, so a
    stray Enter never does it."""

    def __init__(
        self, question: str, confirm_text: str, parent: QWidget | None = None, cancel_text: str = "Cancel"
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Booth")
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.question = QLabel(question)
        self.question.setWordWrap(True)
        self.question.setStyleSheet("font-size: 26px;")
        layout.addWidget(self.question)
        # Enter must not end an offer by accident
        self.cancel_button, self.confirm_button = add_answer_row(self, layout, confirm_text, False, cancel_text)
        self.confirm_button.setObjectName("confirm")
        self.setMinimumWidth(560)


class NumberDialog(QDialog):
    """Type a number, press Enter: the number is applied (the confirm button is the default and says
    what will happen). Escape or Cancel drops it — and the window says so."""

    def __init__(self, title: str, prompt: str, value: int, maximum: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.prompt = QLabel(prompt)
        self.prompt.setStyleSheet("font-size: 24px;")
        layout.addWidget(self.prompt)
        self.spin = QSpinBox()
        self.spin.setRange(0, maximum)
        self.spin.setValue(value)
        self.spin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.spin)
        self.cancel_button, self.confirm_button = add_answer_row(self, layout, "", True)  # Enter applies it
        self.setMinimumWidth(480)
        self.spin.valueChanged.connect(self._on_spin_value_changed)
        self._on_spin_value_changed(value)

    @property
    def value(self) -> int:
        self.spin.interpretText()  # what is in the box, even if the spin box has not taken it yet
        return self.spin.value()

    def confirm_text(self, value: int) -> str:
        return "OK"

    def _on_spin_value_changed(self, value: int) -> None:
        self.confirm_button.setText(self.confirm_text(value))

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self.spin.setFocus()
        self.spin.selectAll()  # typing replaces the number instead of adding digits to it


class AdjustStockDialog(NumberDialog):
    """Pick the new count; the confirm button says exactly what will happen."""

    def __init__(self, product: str, current: int, parent: QWidget | None = None) -> None:
        self.current = current
        super().__init__("Adjust stock", f"{product}: {current} left now.\nSet the stock to:", current, 100_000,
                         parent)  # fmt: skip

    def confirm_text(self, value: int) -> str:
        return f"Set stock to {value}"


class ViewerCountDialog(NumberDialog):
    """How many people are watching now (from the platform's dashboard): feeds the decision rate."""

    def __init__(self, last: int, parent: QWidget | None = None) -> None:
        super().__init__("Viewers", "Viewers watching now:", last, 10_000_000, parent)

    def confirm_text(self, value: int) -> str:
        return f"Record {value}"


class CodeDialog(QDialog):
    """Type (or paste) a sticker code, press Enter: it is redeemed. A scanner needs no dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sticker code")
        self.setModal(True)
        layout = QVBoxLayout(self)
        prompt = QLabel("Sticker code (16 characters, dashes optional):")
        prompt.setStyleSheet("font-size: 24px;")
        layout.addWidget(prompt)
        self.field = QLineEdit()
        self.field.setMaxLength(40)
        self.field.setPlaceholderText("K7QM-2XD9-P4TR-HB6C")
        self.field.setStyleSheet("font-size: 28px; font-family: monospace;")
        layout.addWidget(self.field)
        self.cancel_button, self.confirm_button = add_answer_row(self, layout, "Redeem", True)  # Enter redeems
        self.setMinimumWidth(520)

    @property
    def value(self) -> str:
        return self.field.text().strip()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self.field.setFocus()


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
    sales = "1 sale" if info.sales == 1 else f"{info.sales} sales"
    box.setText(f"The {info.kind} \u201c{info.title}\u201d (started {started}, {sales} so far) was not closed.")
    box.setInformativeText("Resume it with the same stock and deadline, or start a new session?")
    resume = box.addButton("Resume", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Start new", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(resume)
    QTimer.singleShot(0, lambda: box.reject() if quit_requested() else None)
    box.exec()
    return box.clickedButton() is resume
