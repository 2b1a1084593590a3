"""The host's window: the program as it goes out, big buttons, one message line, one status line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Protocol

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QTabWidget,
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
from booth.core.failover import Lock, Switch
from booth.core.frames import FrameStamp, ProgramFrame
from booth.core.health.snapshot import HealthSnapshot
from booth.core.output import Moment, OutputStatus
from booth.core.overlay import format_clock
from booth.core.source_state import SourceState, SourceStatus
from booth.drop.controller import DropController
from booth.program_out.clips import ClipResult
from booth.runtime.feed import Feed
from booth.ui.bridge import DropEvents
from booth.ui.dialogs import AdjustStockDialog, ConfirmDialog, KeyMapDialog, ViewerCountDialog
from booth.ui.health_panel import HealthPanel, HostAlertLine
from booth.ui.keymap import BINDINGS
from booth.ui.output_panel import OutputPanel
from booth.ui.program_view import ProgramView
from booth.ui.source_panel import SourcePanel
from booth.ui.theme import PALETTE
from booth.video.compositor import CompositorStats

EXTEND_SECONDS = 30
DISPLAY_MS = 15  # the preview pulls the newest program frame at about the screen's rate
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


class SourceControl(Protocol):
    """What the window needs from the switcher."""

    @property
    def on_program(self) -> str: ...
    @property
    def lock(self) -> Lock: ...
    def set_lock(self, lock: Lock) -> None: ...
    def reconnect_now(self) -> None: ...
    def statuses(self) -> list[SourceStatus]: ...


class OutputControl(Protocol):
    """What the window needs from the program output."""

    def status(self) -> OutputStatus: ...
    def clip(self, seconds: float | None = None) -> Future[ClipResult]: ...
    def moments(self) -> tuple[Moment, ...]: ...
    def export_moment(self, index: int) -> Future[ClipResult]: ...


class MainWindow(QMainWindow):
    def __init__(
        self,
        controller: DropController,
        program: Feed[ProgramFrame, FrameStamp],
        program_stats: Callable[[], CompositorStats],
        sources: SourceControl,
        standing_problems: Callable[[], Sequence[str]] = list,
        health: Callable[[], HealthSnapshot] | None = None,
        on_viewers: Callable[[int], None] | None = None,
        output: OutputControl | None = None,
        title: str = "Booth",
        connect: QWidget | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(title)
        self._controller = controller
        self._program = program.reader()
        self._program_stats = program_stats
        self._sources = sources
        self._standing_problems = standing_problems
        self._health = health
        self._on_viewers = on_viewers
        self._output = output
        self._viewers = 0
        self._dialog: QDialog | None = None

        self.view = ProgramView()
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.status = QLabel("")
        self.status.setObjectName("status")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.source_panel = SourcePanel([s.role for s in sources.statuses()])
        self.source_panel.lock_requested.connect(self._on_source_panel_lock_requested)
        self.source_panel.reconnect_requested.connect(self.reconnect)
        self.alert_line = HostAlertLine()
        self.health_panel = HealthPanel()
        self.output_panel = OutputPanel()
        self.output_panel.clip_requested.connect(self.clip)
        self.output_panel.export_requested.connect(self._on_output_panel_export_requested)
        self.tech_tabs = QTabWidget()
        self.tech_tabs.addTab(self.health_panel, "Rig health")
        self.tech_tabs.addTab(self.output_panel, "Output")
        if connect is not None:  # phones, buttons and OBS: booth.ui.connect_panel
            self.tech_tabs.addTab(connect, "Connect")
        self.health_dock = QDockWidget("Tech lead", self)
        self.health_dock.setObjectName("health")
        self.health_dock.setWidget(self.tech_tabs)
        self.health_dock.setMinimumWidth(500)
        self.health_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.health_dock)
        self.health_dock.hide()

        self.sell_button = self._button("SELL  +1", self.sell, "sell")
        self.undo_button = self._button("UNDO LAST SALE", self.undo)
        self.timer_button = self._button("START TIMER", self.start_or_end)
        self.extend_button = self._button(f"+{EXTEND_SECONDS} s", self.extend)
        self.adjust_button = self._button("ADJUST", self.adjust)
        self.clip_button = self._button("CLIP (C)", self.clip)
        self.keys_button = self._button("KEYS (F1)", self.show_keys)
        self.health_button = self._button("HEALTH (H)", self.toggle_health)
        self.sku_buttons: dict[str, QPushButton] = {}

        side = QVBoxLayout()
        side.setSpacing(8)
        chips = QGridLayout()
        columns = 1 if len(controller.spec.skus) <= 3 else 2  # keep the column short on a 768-px laptop
        for index, sku in enumerate(controller.spec.skus):
            button = self._button(sku.name, lambda sku_id=sku.id: self._feature(sku_id), "sku")
            self.sku_buttons[sku.id] = button
            chips.addWidget(button, index // columns, index % columns)
        side.addLayout(chips)
        side.addSpacing(4)
        side.addWidget(self.sell_button)
        side.addWidget(self.undo_button)
        timer_row = QGridLayout()
        timer_row.addWidget(self.timer_button, 0, 0)
        timer_row.addWidget(self.extend_button, 0, 1)
        side.addLayout(timer_row)
        edit_row = QGridLayout()
        edit_row.addWidget(self.adjust_button, 0, 0)
        edit_row.addWidget(self.clip_button, 0, 1)
        side.addLayout(edit_row)
        side.addStretch(1)
        help_row = QGridLayout()
        help_row.addWidget(self.health_button, 0, 0)
        help_row.addWidget(self.keys_button, 0, 1)
        side.addLayout(help_row)
        side_widget = QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(360)

        top = QHBoxLayout()
        top.addWidget(self.view, 1)
        top.addWidget(side_widget)
        outer = QVBoxLayout()
        outer.setSpacing(4)
        outer.setContentsMargins(8, 8, 8, 6)
        outer.addLayout(top, 1)
        outer.addWidget(self.source_panel)
        outer.addWidget(self.alert_line)
        outer.addWidget(self.message)
        outer.addWidget(self.status)
        central = QWidget()
        central.setLayout(outer)
        self.setCentralWidget(central)

        self._install_shortcuts()
        self.drop_events = DropEvents()
        self.drop_events.event_applied.connect(self._on_drop_event_applied)
        self.drop_events.action_refused.connect(self._on_drop_action_refused)
        self.drop_events.program_switched.connect(self._on_drop_events_program_switched)
        self.drop_events.warned.connect(lambda text: self.show_message(text, "warn"))
        self.drop_events.clip_saved.connect(self._on_drop_events_clip_saved)
        self._display_timer = QTimer(self)
        self._display_timer.setInterval(DISPLAY_MS)
        self._display_timer.timeout.connect(self._show_newest_frame)
        self._display_timer.start()

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

    def clip(self) -> None:
        if self._output is None:
            self.show_message("Clips need the program output, which is not running.", "warn")
            return
        self.show_message("Saving the last moments as a clip…", "info")
        self._output.clip().add_done_callback(
            lambda future: self.drop_events.clipped(future.result() if not future.exception() else None)
        )

    def _on_output_panel_export_requested(self, index: int) -> None:
        if self._output is None:
            return
        self.show_message("Saving the marked moment as a clip…", "info")
        self._output.export_moment(index).add_done_callback(
            lambda future: self.drop_events.clipped(future.result() if not future.exception() else None)
        )

    def _on_drop_events_clip_saved(self, result: ClipResult | None) -> None:
        if result is None:
            self.show_message("The clip could not be saved (see the log).", "error")
        else:
            self.show_message(result.message, "info" if result.ok else "error")

    def enter_viewers(self) -> None:
        if self._on_viewers is None:
            self.show_message("Viewer counts need the session log, which is not running.", "warn")
            return

        def record(dialog: ViewerCountDialog) -> None:
            self._viewers = dialog.value
            assert self._on_viewers is not None
            self._on_viewers(dialog.value)
            self.show_message(f"Viewers: {dialog.value} recorded.", "info")

        self._ask(ViewerCountDialog(self._viewers, self), record)

    def next_product(self) -> None:
        self._controller.feature_next()
        self.refresh()

    def reconnect(self) -> None:
        self._sources.reconnect_now()
        self.show_message("Reconnecting every source that is not live…", "info")

    def cycle_lock(self) -> None:
        order = [Lock.AUTO, Lock.SECONDARY, Lock.PRIMARY]
        self._set_lock(order[(order.index(self._sources.lock) + 1) % len(order)])

    def _on_source_panel_lock_requested(self, lock: Lock) -> None:
        self._set_lock(lock)

    def _set_lock(self, lock: Lock) -> None:
        self._sources.set_lock(lock)
        self.show_message(f"Sources: {lock.value}.", "warn" if lock is not Lock.AUTO else "info")
        self.refresh()

    def toggle_health(self) -> None:
        self.health_dock.setVisible(not self.health_dock.isVisible())

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

    def _ask(self, dialog: QDialog, on_accept: Callable) -> None:
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

    def _show_standing(self, statuses: Sequence[SourceStatus] | None = None) -> None:
        """With no fresh message, the line shows what is wrong right now, or how to sell."""
        problems = list(self._standing_problems())
        problems += [
            f"{s.role.capitalize()} source {s.state.value}: {s.message}"
            for s in (statuses if statuses is not None else self._sources.statuses())
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
                via = "" if origin == "host" else " (remote)"  # the control API: a shop, a button, the phone
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

    def _on_drop_events_program_switched(self, switch: Switch) -> None:
        where = "the slate" if switch.to_source == "slate" else f"the {switch.to_source}"
        self.show_message(f"Cut to {where}: {switch.reason}.", "warn")
        self.refresh()

    def _show_newest_frame(self) -> None:
        frame = self._program.latest()
        if frame is not None:
            self.view.show_frame(frame)

    @property
    def preview_dropped_frames(self) -> int:
        """Program frames the preview never showed (it shows the newest at the screen's rate)."""
        return self._program.dropped

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
        statuses = self._sources.statuses()
        self.source_panel.update_sources(statuses, self._sources.on_program, self._sources.lock)
        output_status = self._output.status() if self._output is not None else None
        self.source_panel.update_output(output_status)
        self.clip_button.setEnabled(output_status is not None and output_status.replay_s >= 1.0)
        if self._output is not None and output_status is not None and self.health_dock.isVisible():
            self.output_panel.set_status(output_status)
            self.output_panel.set_moments(self._output.moments())
        self.status.setText(self._status_html(view.phase, view.remaining_s, statuses))
        if self._health is not None:
            snapshot = self._health()
            self.alert_line.set_snapshot(snapshot)
            if self.health_dock.isVisible():
                self.health_panel.set_snapshot(snapshot)
        if not self._message_timer.isActive():
            self._show_standing(statuses)

    def _status_html(self, phase: Phase, remaining: float, statuses: Sequence[SourceStatus]) -> str:
        stats = self._program_stats()
        parts = [
            f"PROGRAM {stats.fps:4.1f} fps · compose {stats.compose_ms_p95:.1f} ms p95",
            f"offer {phase.value.upper()} {format_clock(remaining)}",
        ]
        for s in statuses:
            colour = _STATE_COLOURS[s.state]
            reason = s.message.removeprefix(f"{s.label}: ")
            detail = f"{s.fps:.0f} fps" if s.state is SourceState.LIVE else (reason or s.state.value)
            parts.append(
                f"{s.role} <span style='color:{colour}'>{s.state.value.upper()}</span> {s.label} · {detail}"
            )
        return " &nbsp;|&nbsp; ".join(_escape(p) if "<span" not in p else p for p in parts)

    # -- lifetime -------------------------------------------------------------------------------

    def show_on_screen(self) -> None:
        self.showMaximized()

    def stop_refreshing(self) -> None:
        """Stop every timer (the app is quitting: the parts behind them are about to stop)."""
        self._display_timer.stop()
        self._status_timer.stop()
        self._message_timer.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop_refreshing()
        super().closeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
