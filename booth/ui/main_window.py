"""The host's window: the program as it goes out, big buttons, one message line, one status line."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from booth.core.drop import Phase, Refusal, StockLevel
from booth.core.events import (
    DropEvent,
    OfferEnded,
    SaleRecorded,
    SaleUndone,
    StockAdjusted,
    TimerExtended,
    TimerStarted,
)
from booth.core.frames import ProgramFrame
from booth.core.overlay import format_clock
from booth.core.source_state import SourceState, SourceStatus
from booth.services.compositor import CompositorStats
from booth.services.drop_controller import DropController
from booth.services.frame_slot import FrameSlot
from booth.ui.bridge import DropEvents, FrameNotifier
from booth.ui.dialogs import AdjustStockDialog, ConfirmDialog, KeyMapDialog
from booth.ui.keymap import BINDINGS
from booth.ui.program_view import ProgramView
from booth.ui.theme import PALETTE

EXTEND_SECONDS = 30
STATUS_REFRESH_MS = 250
MESSAGE_MS = 5000
READY_HINT = "Ready. Space sells one · F1 shows the keys."

_LEVEL_COLOURS = {
    StockLevel.PLENTY: PALETTE.text,
    StockLevel.LOW: PALETTE.amber,
    StockLevel.CRITICAL: PALETTE.red,
    StockLevel.SOLD_OUT: PALETTE.red,
}
_STATE_COLOURS = {
    SourceState.LIVE: PALETTE.green,
    SourceState.STARTING: PALETTE.muted,
    SourceState.RECONNECTING: PALETTE.amber,
    SourceState.STALLED: PALETTE.amber,
    SourceState.FROZEN: PALETTE.amber,
    SourceState.DOWN: PALETTE.red,
}


class MainWindow(QMainWindow):
    def __init__(
        self,
        controller: DropController,
        program: FrameSlot[ProgramFrame],
        notifier: FrameNotifier,
        program_stats: Callable[[], CompositorStats],
        source_statuses: Callable[[], Sequence[SourceStatus]],
        standing_problems: Callable[[], Sequence[str]] = list,
        title: str = "Booth",
    ) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self._controller = controller
        self._program = program
        self._notifier = notifier
        self._program_stats = program_stats
        self._source_statuses = source_statuses
        self._standing_problems = standing_problems
        self._dialog: AdjustStockDialog | ConfirmDialog | KeyMapDialog | None = None

        self.view = ProgramView()
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("status")
        self.status.setTextFormat(Qt.TextFormat.RichText)

        self.sell_button = self._button("SELL  +1", self.sell, "sell")
        self.undo_button = self._button("UNDO LAST SALE", self.undo)
        self.timer_button = self._button("START TIMER", self.start_or_end)
        self.extend_button = self._button(f"+{EXTEND_SECONDS} s", self.extend)
        self.adjust_button = self._button("ADJUST STOCK", self.adjust)
        self.keys_button = self._button("KEYS  (F1)", self.show_keys)
        self.sku_buttons: dict[str, QPushButton] = {}

        side = QVBoxLayout()
        side.setSpacing(10)
        for sku in controller.spec.skus:
            button = self._button(sku.name, lambda sku_id=sku.id: self._feature(sku_id), "sku")
            self.sku_buttons[sku.id] = button
            side.addWidget(button)
        side.addSpacing(6)
        side.addWidget(self.sell_button)
        side.addWidget(self.undo_button)
        timer_row = QGridLayout()
        timer_row.addWidget(self.timer_button, 0, 0)
        timer_row.addWidget(self.extend_button, 0, 1)
        side.addLayout(timer_row)
        side.addWidget(self.adjust_button)
        side.addStretch(1)
        side.addWidget(self.keys_button)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(360)

        top = QHBoxLayout()
        top.addWidget(self.view, 1)
        top.addWidget(side_widget)
        outer = QVBoxLayout()
        outer.addLayout(top, 1)
        outer.addWidget(self.message)
        outer.addWidget(self.status)
        central = QWidget()
        central.setLayout(outer)
        self.setCentralWidget(central)

        self._install_shortcuts()
        self.drop_events = DropEvents()
        self.drop_events.event_applied.connect(self._on_drop_event_applied)
        self.drop_events.action_refused.connect(self._on_drop_action_refused)
        notifier.frame_ready.connect(self._on_notifier_frame_ready)

        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh)
        self._status_timer.start()
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self._clear_message)
        self._clear_message()
        self.refresh()

    # -- building -------------------------------------------------------------------------------

    def _button(self, text: str, slot: Callable[[], object], name: str = "") -> QPushButton:
        button = QPushButton(text)
        if name:
            button.setObjectName(name)
        # Buttons never take focus, so Space and Enter always mean "sell", whatever was clicked.
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _install_shortcuts(self) -> None:
        for binding in BINDINGS:
            handler = self._handler(binding.action)
            for key in binding.keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(handler)

    def _handler(self, action: str) -> Callable[[], None]:
        if action.startswith("feature_"):
            index = int(action.removeprefix("feature_")) - 1
            return lambda: self._feature_index(index)
        handler: Callable[[], None] = getattr(self, action)
        return handler

    # -- host actions (each bound to a key and/or a button) -----------------------------------

    def sell(self) -> None:
        self._controller.sell()

    def undo(self) -> None:
        self._controller.undo_last_sale()

    def start_or_end(self) -> None:
        phase = self._controller.view().phase
        if phase is Phase.READY:
            self._controller.start_timer()
        elif phase is Phase.ENDED:
            self.show_message("The offer has ended. Press E to extend and reopen it.", "warn")
        else:
            self._ask(
                ConfirmDialog("End the offer now? Sales close immediately.", "End offer", self),
                lambda _d: self._controller.end_offer(),
            )

    def extend(self) -> None:
        self._controller.extend_timer(EXTEND_SECONDS)

    def adjust(self) -> None:
        sku = self._controller.view().sku(self._controller.featured_sku)
        self._ask(
            AdjustStockDialog(sku.name, sku.left, self),
            lambda d: self._controller.adjust_stock(sku.id, d.value),
        )

    def next_product(self) -> None:
        self._controller.feature_next()
        self.refresh()

    def show_keys(self) -> None:
        self._ask(KeyMapDialog(self), lambda _d: None)

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def quit(self) -> None:
        self.close()

    def _feature_index(self, index: int) -> None:
        skus = self._controller.spec.skus
        if index < len(skus):
            self._feature(skus[index].id)

    def _feature(self, sku_id: str) -> None:
        self._controller.feature(sku_id)
        self.refresh()

    def _ask(self, dialog: AdjustStockDialog | ConfirmDialog | KeyMapDialog, on_accept: Callable) -> None:
        if self._dialog is not None:
            self._dialog.reject()
        self._dialog = dialog

        def accepted() -> None:
            on_accept(dialog)

        dialog.accepted.connect(accepted)
        dialog.finished.connect(lambda _result: self._forget_dialog(dialog))
        dialog.open()

    def _forget_dialog(self, dialog: QWidget) -> None:
        if self._dialog is dialog:
            self._dialog = None
        dialog.deleteLater()

    # -- messages and refresh --------------------------------------------------------------------

    def show_message(self, text: str, severity: str = "info") -> None:
        self.message.setText(text)
        self.message.setProperty("severity", severity)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self._message_timer.start(MESSAGE_MS)

    def _clear_message(self) -> None:
        self._message_timer.stop()
        self._show_standing()

    def _show_standing(self) -> None:
        """With no fresh message, the line shows what is wrong right now, or how to sell."""
        problems = list(self._standing_problems())
        problems += [
            f"{s.role.capitalize()} source {s.state.value}: {s.message}"
            for s in self._source_statuses()
            if s.message and s.state.value in ("down", "reconnecting", "stalled", "frozen")
        ]
        text, severity = (problems[-1], "error") if problems else (READY_HINT, "info")
        if self.message.text() != text:
            self.message.setText(text)
            self.message.setProperty("severity", severity)
            self.message.style().unpolish(self.message)
            self.message.style().polish(self.message)

    def _on_drop_action_refused(self, refusal: Refusal) -> None:
        self.show_message(refusal.message, "error")

    def _on_drop_event_applied(self, event: DropEvent) -> None:
        view = self._controller.view()
        match event:
            case SaleRecorded(sku_id=sku_id, qty=qty, origin=origin):
                sku = view.sku(sku_id)
                via = " (shop)" if origin == "shop" else ""
                self.show_message(f"Sold {qty} × {sku.name}{via}: {sku.left} left.", "info")
            case SaleUndone(sku_id=sku_id, qty=qty):
                sku = view.sku(sku_id)
                self.show_message(f"Undid a sale of {qty} × {sku.name}: {sku.left} left.", "warn")
            case StockAdjusted(sku_id=sku_id, new_stock=new_stock):
                self.show_message(f"Stock of {view.sku(sku_id).name} set to {new_stock}.", "warn")
            case TimerStarted():
                self.show_message(f"Offer live: {format_clock(view.remaining_s)} on the clock.", "info")
            case TimerExtended(seconds=seconds):
                self.show_message(f"Offer extended by {seconds:g} s.", "info")
            case OfferEnded(reason=reason):
                why = "time is up" if reason == "deadline" else "ended by the host"
                self.show_message(f"Offer ended ({why}). Sales are closed.", "warn")
        self.refresh()

    def _on_notifier_frame_ready(self) -> None:
        self._notifier.taken()
        _seq, frame = self._program.latest()
        if frame is not None:
            self.view.show_frame(frame)

    def refresh(self) -> None:
        view = self._controller.view()
        featured = self._controller.featured_sku
        for sku in view.skus:
            button = self.sku_buttons[sku.id]
            left = "SOLD OUT" if sku.left == 0 else f"{sku.left} left"
            button.setText(f"{sku.name}   {left}")
            colour = _LEVEL_COLOURS[sku.level]
            button.setStyleSheet(f"color: {colour};")
            if button.property("featured") != (sku.id == featured):
                button.setProperty("featured", sku.id == featured)
                button.style().unpolish(button)
                button.style().polish(button)
        featured_view = view.sku(featured)
        self.sell_button.setEnabled(view.phase is not Phase.ENDED and featured_view.left > 0)
        self.sell_button.setText("SOLD OUT" if featured_view.left == 0 else "SELL  +1")
        self.timer_button.setText(
            {
                Phase.READY: "START TIMER",
                Phase.LIVE: "END OFFER",
                Phase.LAST_CALL: "END OFFER",
                Phase.ENDED: "ENDED",
            }[view.phase]
        )
        self.extend_button.setEnabled(view.phase is not Phase.READY)
        self.status.setText(self._status_html(view.phase, view.remaining_s))
        if not self._message_timer.isActive():
            self._show_standing()

    def _status_html(self, phase: Phase, remaining: float) -> str:
        stats = self._program_stats()
        parts = [
            f"PROGRAM {stats.fps:4.1f} fps · compose {stats.compose_ms_p95:.1f} ms p95",
            f"offer {phase.value.upper()} {format_clock(remaining)}",
        ]
        for s in self._source_statuses():
            colour = _STATE_COLOURS[s.state]
            detail = f"{s.fps:.0f} fps" if s.state is SourceState.LIVE else (s.message or s.state.value)
            parts.append(
                f"{s.role} <span style='color:{colour}'>{s.state.value.upper()}</span> {s.label} · {detail}"
            )
        return " &nbsp;|&nbsp; ".join(_escape(p) if "<span" not in p else p for p in parts)

    # -- lifetime -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self._status_timer.stop()
        self._message_timer.stop()
        super().closeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
