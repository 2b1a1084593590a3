"""The host's window: the program as it goes out, big buttons that show their keys, the state of
the offer, the output, the sources and the microphone at a glance, one alert line, one message line.

Layout rules (so it fits a 1280×720 laptop under a window manager, and a 1920×1080 one):
- nothing in the host's window can widen it: every text that can be long is one line, cut with
  "…", whole in its tooltip and in the tech lead's window (H), which is a window of its own;
- the preview keeps at least 60 % of the width (the button column is a quarter, 330–440 px);
- below `MIN_SIZE` the picture and buttons scroll instead of being cut, and the message line
  says so; the alert and message lines stay in view whatever the size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Protocol

from PySide6.QtCore import QPoint, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from booth.core.drop import DropView, Phase, Refusal, StockLevel
from booth.core.events import (
    DropEvent,
    OfferEnded,
    SaleRecorded,
    SaleUndone,
    SegmentStarted,
    StockAdjusted,
    TimerExtended,
    TimerStarted,
)
from booth.core.failover import Lock, Switch
from booth.core.frames import FrameStamp, ProgramFrame
from booth.core.health.alerts import Alert, Severity
from booth.core.health.meter import MicStatus
from booth.core.health.snapshot import HealthSnapshot
from booth.core.output import Moment, OutputState, OutputStatus
from booth.core.overlay import format_clock
from booth.core.source_state import SourceState, SourceStatus
from booth.drop.controller import DropController
from booth.program_out.clips import ClipResult
from booth.program_out.export import JobState
from booth.program_out.live_clips import ClipOrder
from booth.runtime.feed import Feed
from booth.ui.bridge import DropEvents
from booth.ui.clip_panel import ClipControl, ClipPanel, ExportUpdates, open_folder
from booth.ui.code_entry import CodeCatcher
from booth.ui.dialogs import AdjustStockDialog, CodeDialog, ConfirmDialog, KeyMapDialog, ViewerCountDialog
from booth.ui.elided import ElidedLabel
from booth.ui.health_panel import HealthPanel, HostAlertLine
from booth.ui.key_button import KeyButton
from booth.ui.keymap import BINDINGS
from booth.ui.mic_meter import MicMeter
from booth.ui.output_panel import OutputPanel
from booth.ui.program_view import ProgramView
from booth.ui.shop_panel import ShopPanel, ShopView, shop_look
from booth.ui.show_strip import ShowStrip
from booth.ui.source_panel import LockBar, SourceDetails, SourceStrip
from booth.ui.state_pills import Pill, offer_look, output_look, recording_look
from booth.ui.tech_lead import MessageLog, TechLeadWindow
from booth.ui.theme import PALETTE
from booth.ui.window_place import save_geometry, show_where_it_was
from booth.video.compositor import CompositorStats

EXTEND_SECONDS = 30
DISPLAY_MS = 15  # the preview pulls the newest program frame at about the screen's rate
STATUS_REFRESH_MS = 250
METER_MS = 50
MESSAGE_MS = 5000
GOOD_NEWS_MS = 15000
MIN_SIZE = QSize(1100, 600)  # the smallest host window everything fits in (1280×720 under a window manager)
SHOP_ROW = QSize(0, 20)  # [shop]: one more pill row (32 px) in the button column, less its 11 px of slack;
# still inside 1280×720 under a window manager (630 px)
SIDE_SHARE = 0.25  # the button column's share of the width, within SIDE_WIDTH
SIDE_WIDTH = (330, 440)
GEOMETRY_KEY = "host/geometry"
HINTS = {
    Phase.READY: "Ready. T starts the offer · F1 shows the keys.",
    Phase.LIVE: "Live. Space sells one · F1 shows the keys.",
    Phase.LAST_CALL: "Last call. Space sells one · E adds 30 s.",
    Phase.ENDED: "The offer has ended: sales are closed. E extends and reopens it.",
}

_LEVEL_COLOURS = {
    StockLevel.PLENTY: PALETTE.text,
    StockLevel.LOW: PALETTE.amber,
    StockLevel.CRITICAL: PALETTE.red,
    StockLevel.SOLD_OUT: PALETTE.red,
}
_SYNC_SEVERITY = {"critical": Severity.CRITICAL, "warn": Severity.WARN, "info": Severity.INFO}
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
    @property
    def returning_in_s(self) -> float | None: ...
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
        mic: Callable[[], MicStatus] | None = None,
        settings: QSettings | None = None,
        viewer_time: Callable[[], str] | None = None,
        show_strip: ShowStrip | None = None,
        shop: ShopView | None = None,
        clips: ClipControl | None = None,
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
        self._mic = mic
        self._settings = settings
        self._viewer_time = viewer_time  # viewers' delay and "on screen vs true" (booth.core.honest_scarcity)
        self._shop = shop
        self.min_size = MIN_SIZE + SHOP_ROW if shop is not None else MIN_SIZE  # everything fits, nothing scrolls
        self._viewers = 0
        self._dialog: QDialog | None = None
        self._quit_confirmed = False
        self._too_small = ""
        roles = [s.role for s in sources.statuses()]

        # -- the tech lead's window (its own window: it never takes room from the host's) --------
        self.health_panel = HealthPanel()
        self.output_panel = OutputPanel()
        self.output_panel.clip_requested.connect(self.clip)
        self.output_panel.export_requested.connect(self._on_output_panel_export_requested)
        self._clips = clips
        self.clip_panel: ClipPanel | None = None
        if clips is not None:  # short-form clips: booth.ui.clip_panel, under the output figures
            self.clip_panel = ClipPanel(clips.defaults, clips.has_clean)
            self.output_panel.layout().addWidget(self.clip_panel)
            self._export_updates = ExportUpdates(self)
            self._export_updates.updated.connect(self.clip_panel.show_export)
            clips.on_update(self._export_updates.publish)
            self.clip_panel.export_requested.connect(self._export_clip)
            self.clip_panel.cancel_requested.connect(clips.cancel)
            self.clip_panel.open_folder_requested.connect(open_folder)
        self.source_details = SourceDetails()
        self.message_log = MessageLog()
        self.tech = TechLeadWindow(self, settings, cover=self.preview_area)
        self.tech.add_tab(self.health_panel, "Rig health")
        self.tech.add_tab(self.output_panel, "Output")
        self.tech.add_tab(self.source_details, "Sources")
        self.tech.add_tab(self.message_log, "Messages")
        self.shop_panel = ShopPanel() if shop is not None else None
        if self.shop_panel is not None:  # [shop]: every product against the shop, the poll's budget
            self.tech.add_tab(self.shop_panel, "Shop")
        if connect is not None:  # phones, buttons and OBS: booth.ui.connect_panel
            self.tech.add_tab(connect, "Connect")
        self.tech.add_shortcut("H", self.toggle_health)
        self.tech.add_shortcut("Escape", self.tech.hide)
        self.tech.add_shortcut("Ctrl+Q", self.quit)

        # -- the host's view ----------------------------------------------------------------------
        self.view = ProgramView()
        self.source_panel = SourceStrip(roles)
        self.source_panel.reconnect_requested.connect(self.reconnect)
        self.lock_bar = LockBar(has_secondary=len(roles) > 1)
        self.lock_bar.lock_requested.connect(self._on_lock_bar_lock_requested)
        self.offer_pill = Pill()
        self.output_pill = Pill()
        self.rec_pill = Pill()
        self.shop_pill = Pill()  # [shop]: the age of the last sync, stall sales waiting, the worst sync alert
        self.mic_meter = MicMeter()
        self.alert_line = HostAlertLine()
        self.message = ElidedLabel()
        self.message.setObjectName("message")
        self.status = ElidedLabel()
        self.status.setObjectName("status")

        self.sell_button = KeyButton("SELL  +1", "sell", self.sell, "sell", key="Space / Enter")
        self.sell_button.key_colour = "#dff7e8"
        self.sell_button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.sell_button.setMaximumHeight(200)
        self.undo_button = KeyButton("UNDO", "undo", self.undo)
        self.undo_button.setToolTip("Undo the last sale (Backspace)")
        self.timer_button = KeyButton("START TIMER", "start_or_end", self.start_or_end)
        self.extend_button = KeyButton(f"+{EXTEND_SECONDS} s", "extend", self.extend)
        self.adjust_button = KeyButton("ADJUST", "adjust", self.adjust)
        self.adjust_button.setToolTip("Set the featured product's stock (A)")
        self.clip_button = KeyButton("CLIP", "clip", self.clip)
        self.clip_button.setToolTip("Save the last seconds of the program as an MP4 (C)")
        self.code_button = KeyButton("CODE", "enter_code", self.enter_code)
        self.code_button.setToolTip("Type a sticker code (R); a USB scanner needs no button: just scan")
        self.health_button = KeyButton("TECH LEAD", "toggle_health", self.toggle_health)
        self.health_button.setToolTip("Rig health, output, sources and every message, in a window of their own (H)")
        self.keys_button = KeyButton("KEYS", "show_keys", self.show_keys)
        self.sku_buttons: dict[str, KeyButton] = {}

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.setSpacing(4)
        pills = QGridLayout()
        pills.setHorizontalSpacing(4)
        pills.setVerticalSpacing(4)
        pills.addWidget(self.offer_pill, 0, 0, 1, 2)
        pills.addWidget(self.output_pill, 1, 0)
        pills.addWidget(self.rec_pill, 1, 1)
        pills.addWidget(self.mic_meter, 2, 0, 1, 2)
        if shop is not None:
            pills.addWidget(self.shop_pill, 3, 0, 1, 2)
        else:
            self.shop_pill.hide()
        pills.setColumnStretch(0, 3)
        pills.setColumnStretch(1, 2)
        side.addLayout(pills)
        chips = QGridLayout()
        chips.setSpacing(4)
        skus = controller.spec.skus
        columns = 1 if len(skus) <= 3 else 2 if len(skus) <= 6 else 3  # keep the column short on a 720-px laptop
        for index, sku in enumerate(skus):
            key = str(index + 1) if index < 9 else ""
            button = KeyButton(sku.name, None, lambda sku_id=sku.id: self._feature(sku_id), "sku", key=key,
                               key_side=True)  # fmt: skip
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            self.sku_buttons[sku.id] = button
            chips.addWidget(button, index // columns, index % columns)
        side.addLayout(chips)
        side.addWidget(self.sell_button, 4)
        timer_row = QGridLayout()
        timer_row.setSpacing(4)
        timer_row.addWidget(self.timer_button, 0, 0)
        timer_row.addWidget(self.extend_button, 0, 1)
        timer_row.setColumnStretch(0, 3)
        timer_row.setColumnStretch(1, 2)
        side.addLayout(timer_row, 1)
        edit_row = QHBoxLayout()
        edit_row.setSpacing(4)
        for button in (self.undo_button, self.adjust_button, self.clip_button):
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            edit_row.addWidget(button, 1)
        side.addLayout(edit_row, 1)
        side.addWidget(self.lock_bar, 1)
        side.addStretch(1)  # a tall screen's spare room goes here, not between the buttons
        help_row = QHBoxLayout()
        help_row.setSpacing(4)
        if shop is not None:  # with the buttons that open a window: a fourth in the row above cut "ADJUST"
            self.code_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            help_row.addWidget(self.code_button, 2)
        else:
            self.code_button.hide()
        help_row.addWidget(self.health_button, 3)
        help_row.addWidget(self.keys_button, 2)
        side.addLayout(help_row)
        for button in (self.timer_button, self.extend_button, self.undo_button, self.adjust_button,
                       self.clip_button, *self.lock_bar.buttons.values()):
            # On a tall screen the buttons grow into bigger targets, up to a point; the rest stays below.
            button.setSizePolicy(button.sizePolicy().horizontalPolicy(), QSizePolicy.Policy.Preferred)
            button.setMaximumHeight(68)
        self.lock_bar.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.lock_bar.setMaximumHeight(68)
        self.side = QWidget()
        self.side.setObjectName("side")
        self.side.setLayout(side)
        self.side.setFixedWidth(SIDE_WIDTH[0])

        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(4)
        left.addWidget(self.view, 1)
        left.addWidget(self.source_panel)
        self.show_strip = show_strip  # the run of show and the REHEARSAL mark (booth.ui.show_strip)
        if show_strip is not None:
            left.addWidget(show_strip)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(8)
        top.addLayout(left, 1)
        top.addWidget(self.side)
        self.host_view = QWidget()
        self.host_view.setLayout(top)
        # The preview's floor: at the minimum size it still has well over 60 % of the width.
        self.view.setMinimumWidth(MIN_SIZE.width() - 16 - 8 - SIDE_WIDTH[0])
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(self.host_view)

        outer = QVBoxLayout()
        outer.setSpacing(4)
        outer.setContentsMargins(8, 8, 8, 6)
        outer.addWidget(self.scroll, 1)
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
        self.drop_events.code_redeemed.connect(self._on_drop_events_code_redeemed)
        self.code_catcher: CodeCatcher | None = None
        if shop is not None:  # a USB scanner types the code in a burst: it must not reach the shortcuts
            shop.on_redeemed(self.drop_events.redeemed)
            self.code_catcher = CodeCatcher(self, self.redeem_code, self._replay_key, self.sell,
                                            self._on_code_catcher_dropped)  # fmt: skip
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self.code_catcher)
        self._display_timer = QTimer(self)
        self._display_timer.setInterval(DISPLAY_MS)
        self._display_timer.timeout.connect(self._show_newest_frame)
        self._display_timer.start()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self.refresh)
        self._status_timer.start()
        self._meter_timer = QTimer(self)
        self._meter_timer.setInterval(METER_MS)
        self._meter_timer.timeout.connect(self._refresh_meter)
        self._meter_timer.start()
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self._clear_message)
        self._clear_message()
        self.refresh()

    # -- building -------------------------------------------------------------------------------

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
        sku = self._controller.featured_sku
        if self._shop is not None and self._shop.confirms_first(sku):  # a shared pool: the shop takes it first
            if self._shop.sell_later(sku):
                self.show_message(f"Selling 1 × {self._controller.spec.sku(sku).name}: the shared pool first…", "info")
            else:
                self.show_message("Too many sales waiting for the shop: press again in a moment.", "warn")
            return
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

        def apply(dialog: AdjustStockDialog) -> None:
            if dialog.value == sku.left:
                self.show_message(f"Stock of {sku.name} stays at {sku.left}: that is what it is now.", "info")
            else:
                self._controller.adjust_stock(sku.id, dialog.value)

        def cancelled(dialog: AdjustStockDialog) -> None:
            if dialog.value != sku.left:
                self.show_message(f"Stock of {sku.name} not changed (cancelled; {dialog.value} was typed).", "warn")

        self._ask(AdjustStockDialog(sku.name, sku.left, self), apply, cancelled)

    def clip(self) -> None:
        if self._output is None:
            self.show_message("Clips need the program output, which is not running.", "warn")
            return
        self.show_message("Saving the last moments as a clip…", "info")
        self._output.clip().add_done_callback(
            lambda future: self.drop_events.clipped(future.result() if not future.exception() else None)
        )

    def vertical_clip(self) -> None:
        """Shift+C: a 9:16 clip of the last seconds, with the overlay, as [clips] says."""
        if self._clips is None:
            self.show_message("Clips need the program output, which is not running.", "warn")
            return
        d = self._clips.defaults
        if not d.enabled:
            self.show_message("9:16 clips are off ([clips] enabled = false); C still saves a 16:9 clip.", "warn")
            return
        self._export_clip(ClipOrder(d.seconds, d.preset, d.framing, d.focus, False, d.caption), panel=False)

    def _export_clip(self, order: ClipOrder, panel: bool = True) -> None:
        assert self._clips is not None
        moment = self.output_panel.moment_list.currentItem()
        if panel and self.clip_panel is not None and self.clip_panel.around_moment.isChecked():
            if moment is None:
                self.show_message("Select a moment in the list first (or untick 'around the selected moment').",
                                  "warn")  # fmt: skip
                return
            job = self._clips.export_moment(int(moment.data(Qt.ItemDataRole.UserRole)), order)
        else:
            job = self._clips.export(order)  # never blocks: the export worker cuts and encodes
        if self.clip_panel is not None:
            self.clip_panel.show_export(job.status)
        if job.status.state is JobState.FAILED:
            self.show_message(job.status.message, "error")
        else:
            self.show_message(f"Exporting a clip: {job.status.label}… (progress in the Output view, H)", "info")

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
            self.show_message(result.message, "ok" if result.ok else "error")

    def enter_viewers(self) -> None:
        if self._on_viewers is None:
            self.show_message("Viewer counts need the session log, which is not running.", "warn")
            return

        def record(dialog: ViewerCountDialog) -> None:
            self._viewers = dialog.value
            assert self._on_viewers is not None
            self._on_viewers(dialog.value)
            self.show_message(f"Viewers: {dialog.value} recorded.", "ok")

        def cancelled(dialog: ViewerCountDialog) -> None:
            self.show_message(f"Viewer count not recorded (cancelled; {dialog.value} was typed).", "warn")

        self._ask(ViewerCountDialog(self._viewers, self), record, cancelled)

    def enter_code(self) -> None:
        """R: type a sticker code (a scanner's burst needs no key: `CodeCatcher`)."""
        if self._shop is None:
            self.show_message("Sticker codes need a shop: this drop file has no [shop] section.", "warn")
            return
        self._ask(CodeDialog(self), lambda dialog: self.redeem_code(dialog.value))

    def redeem_code(self, text: str) -> None:
        """A scanned or typed code: the codes worker checks it with the shop; the answer comes back here."""
        if self._shop is None or not text.strip():
            return
        if self._shop.redeem_later(text):
            self.show_message(f"Checking code {text.strip()[:24]}…", "info")
        else:
            self.show_message("Too many codes waiting: scan it again in a moment.", "warn")

    def _on_drop_events_code_redeemed(self, outcome: object) -> None:
        refusal = getattr(outcome, "refusal", None)
        if refusal is not None:
            self.show_message(refusal.message, "error")
        elif getattr(outcome, "offline", False):
            self.show_message("Code accepted while the shop is unreachable: it is recorded there when it is back.",
                              "warn")  # fmt: skip

    def _replay_key(self, char: str) -> None:
        """A lone letter or digit the code catcher held back: its shortcut, now ("C" held with Shift is
        Shift+C, the 9:16 clip; "c" is C)."""
        wanted = [f"Shift+{char}", char.upper()] if char.isalpha() and char.isupper() else [char.upper()]
        for key in wanted:
            for binding in BINDINGS:
                if key in binding.keys:
                    self._handler(binding.action)()
                    return

    def _on_code_catcher_dropped(self, text: str) -> None:
        self.show_message(f"Ignored {text[:24]!r}: typed like a scanner, but no Enter ended it.", "warn")

    def next_product(self) -> None:
        self._controller.feature_next()
        self.refresh()

    def reconnect(self) -> None:
        self._sources.reconnect_now()
        self.show_message("Reconnecting every source that is not live…", "info")

    def cycle_lock(self) -> None:
        order = [Lock.AUTO, Lock.SECONDARY, Lock.PRIMARY]
        if not self.lock_bar.buttons[Lock.SECONDARY].isEnabled():
            order.remove(Lock.SECONDARY)
        current = self._sources.lock
        self._set_lock(order[(order.index(current) + 1) % len(order)] if current in order else Lock.AUTO)

    def _on_lock_bar_lock_requested(self, lock: Lock) -> None:
        self._set_lock(lock)

    def _set_lock(self, lock: Lock) -> None:
        self._sources.set_lock(lock)
        self.lock_bar.set_lock(lock)
        self.show_message(f"Sources: {lock.value}.", "warn" if lock is not Lock.AUTO else "info")
        self.refresh()

    def toggle_health(self) -> None:
        self.tech.toggle()
        if self.tech.isVisible():
            self.refresh()

    def show_keys(self) -> None:
        self._ask(KeyMapDialog(self), lambda _d: None)

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def quit(self) -> None:
        """Ctrl+Q: quit, but ask first while anything is on air (Stay is the default)."""
        risks = self.quit_risks()
        if not risks:
            self._quit_confirmed = True
            self.close()
            return
        said = risks[0] if len(risks) == 1 else ", ".join(risks[:-1]) + " and " + risks[-1]
        question = f"Quit Booth now? {said[0].upper()}{said[1:]}. Quitting stops {'it' if len(risks) == 1 else 'them'}."
        self._ask(ConfirmDialog(question, "Quit", self, cancel_text="Stay"), lambda _d: self._quit_now())

    def _quit_now(self) -> None:
        self._quit_confirmed = True
        self.close()

    def quit_risks(self) -> list[str]:
        """What quitting would stop, in words (nothing: quitting is harmless)."""
        risks = []
        view = self._controller.view()
        if view.phase in (Phase.LIVE, Phase.LAST_CALL):
            risks.append(f"the offer is live ({format_clock(view.remaining_s)} left)")
        status = self._output.status() if self._output is not None else None
        if status is not None and status.state is not OutputState.OFF:
            risks.append("the stream is on air" if status.state in (OutputState.LIVE, OutputState.BACKUP)
                         else "the stream is connecting")  # fmt: skip
        if status is not None and status.recording_path and not status.recording_error:
            risks.append("the recording is running")
        return risks

    def _feature_index(self, index: int) -> None:
        skus = self._controller.spec.skus
        if index < len(skus):
            self._feature(skus[index].id)

    def _feature(self, sku_id: str) -> None:
        self._controller.feature(sku_id)
        self.refresh()

    def _ask(
        self,
        dialog: QDialog,
        on_accept: Callable[[QDialog], None],
        on_reject: Callable[[QDialog], None] | None = None,
    ) -> None:
        if self._dialog is not None:
            self._dialog.reject()
        self._dialog = dialog

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                on_accept(dialog)
            elif on_reject is not None:
                on_reject(dialog)
            self._forget_dialog(dialog)

        dialog.finished.connect(finished)
        dialog.open()

    def _forget_dialog(self, dialog: QWidget) -> None:
        if self._dialog is dialog:
            self._dialog = None
        dialog.deleteLater()
        if self.isVisible():
            self.activateWindow()  # the keyboard back to the host's keys, whatever the desktop does

    # -- messages and refresh --------------------------------------------------------------------

    def show_message(self, text: str, severity: str = "info", duration_ms: int = MESSAGE_MS) -> None:
        """On the host's line for a while (cut if long), and whole in the tech lead's Messages tab."""
        self._set_message(text, severity)
        self._message_timer.start(duration_ms)

    def _set_message(self, text: str, severity: str) -> None:
        self.message_log.add(text, severity)
        if self.message.text() == text and self.message.property("severity") == severity:
            return
        self.message.set_full_text(text)
        self.message.setProperty("severity", severity)
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def _clear_message(self) -> None:
        self._message_timer.stop()
        self._show_standing()

    def standing_lines(self, statuses: Sequence[SourceStatus] | None = None) -> list[str]:
        """What is wrong right now, worst last (the line shows the last)."""
        problems = list(self._standing_problems())
        problems += [
            f"{s.role.capitalize()} source {s.state.value}: {s.message}"
            for s in (statuses if statuses is not None else self._sources.statuses())
            if s.message and s.state.value in ("down", "reconnecting", "stalled", "frozen")
        ]
        if self._too_small:
            problems.append(self._too_small)
        return problems

    def _show_standing(self, statuses: Sequence[SourceStatus] | None = None) -> None:
        """With no fresh message, the line shows what is wrong right now, or what to press next."""
        problems = self.standing_lines(statuses)
        if problems:
            self._set_message(problems[-1], "warn" if problems[-1] == self._too_small else "error")
        else:
            self._set_message(HINTS[self._controller.view().phase], "info")

    def _on_drop_action_refused(self, refusal: Refusal) -> None:
        self.show_message(refusal.message, "error")

    def _on_drop_event_applied(self, event: DropEvent) -> None:
        view = self._controller.view()
        match event:
            case SaleRecorded(sku_id=sku_id, qty=qty, origin=origin):
                sku = view.sku(sku_id)
                # the control API (a button, the phone) is "remote"; a scanned or typed sticker code says so
                via = {"host": "", "code": " (sticker code)"}.get(origin, " (remote)")
                left = "SOLD OUT" if sku.left == 0 else f"{sku.left} left"
                self.show_message(f"Sold {qty} × {sku.name}{via}: {left}.", "info")
            case SaleUndone(sku_id=sku_id, qty=qty):
                sku = view.sku(sku_id)
                self.show_message(f"Undid a sale of {qty} × {sku.name}: {sku.left} left.", "warn")
            case StockAdjusted(sku_id=sku_id, new_stock=new_stock):
                self.show_message(f"Stock of {view.sku(sku_id).name} set to {new_stock}.", "warn")
            case SegmentStarted(name=name, by=by):
                how = " by itself (hard start)" if by == "hard start" else ""
                self.show_message(f"{name} started{how}: {format_clock(view.remaining_s)} on the clock.", "info")
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
        # Back to the primary is good news; away from it a warning; the slate means no pictures at all.
        severity = {"primary": "ok", "slate": "error"}.get(switch.to_source, "warn")
        self.show_message(f"Cut to {where}: {switch.reason}.", severity)
        self.refresh()

    def _show_newest_frame(self) -> None:
        frame = self._program.latest()
        if frame is not None:
            self.view.show_frame(frame)

    def _refresh_meter(self) -> None:
        if self._mic is not None:
            self.mic_meter.set_status(self._mic())
        elif self._health is None:
            self.mic_meter.set_status(None)

    @property
    def preview_dropped_frames(self) -> int:
        """Program frames the preview never showed (it shows the newest at the screen's rate)."""
        return self._program.dropped

    def refresh(self) -> None:
        view = self._controller.view()
        self._refresh_products(view)
        if self.show_strip is not None:
            self.show_strip.refresh(view)
        self.offer_pill.show_look(offer_look(view))
        statuses = self._sources.statuses()
        on_program, lock, returning = self._sources.on_program, self._sources.lock, self._sources.returning_in_s
        self.source_panel.update_sources(statuses, on_program, lock, returning)
        self.lock_bar.set_lock(lock)
        output_status = self._output.status() if self._output is not None else None
        self.output_pill.show_look(output_look(output_status))
        self.rec_pill.show_look(recording_look(output_status))
        self.clip_button.setEnabled(output_status is not None and output_status.replay_s >= 1.0)
        status_line = self._status_line(view.phase, view.remaining_s, statuses)
        viewer_time = self._viewer_time() if self._viewer_time is not None else ""
        if viewer_time:
            status_line += f"  |  {viewer_time}"
        self.status.set_full_text(status_line)
        tech_open = self.tech.isVisible()
        if tech_open:
            self.source_details.update_sources(statuses, on_program, lock, returning, status_line)
        if self._output is not None and output_status is not None and tech_open:
            self.output_panel.set_status(output_status)
            self.output_panel.set_moments(self._output.moments())
            if self.clip_panel is not None and self._clips is not None:
                self.clip_panel.set_clean_line(self._clips.clean_line())
        shop_status = self._shop.status() if self._shop is not None else None
        shop_alerts = tuple(Alert(f"shop.{a.what}", _SYNC_SEVERITY.get(a.severity, Severity.WARN), a.message, 0.0)
                            for a in (shop_status.alerts if shop_status is not None else ()))  # fmt: skip
        if self._shop is not None:
            self.shop_pill.show_look(shop_look(shop_status, self._shop.problem))
            self.shop_pill.setToolTip(shop_status.line if shop_status is not None else self._shop.problem)
            if tech_open and self.shop_panel is not None:
                self.shop_panel.set_status(shop_status, self._shop.problem)
        if self._health is not None:
            snapshot = self._health()
            self.alert_line.set_snapshot(snapshot, shop_alerts)
            if tech_open:
                self.health_panel.set_snapshot(snapshot)
            else:
                self.health_panel.record(snapshot)  # the history runs from start-up, open or not
            if self._mic is None:
                self.mic_meter.set_status(snapshot.mic)
        elif shop_alerts:
            self.alert_line.set_snapshot(None, shop_alerts)
        if not self._message_timer.isActive():
            self._show_standing(statuses)

    def _refresh_products(self, view: DropView) -> None:
        featured = self._controller.featured_sku
        for sku in view.skus:
            button = self.sku_buttons[sku.id]
            left = "SOLD OUT" if sku.left == 0 else f"{sku.left} left"
            of_shop = f" of the shop's {sku.shop_available}" if sku.shop_available is not None else ""
            button.set_parts(sku.name, left, f"shop {sku.shop_available}" if of_shop else "")
            button.setToolTip(f"{sku.name}: {left}{of_shop} (key {button.key})")
            colour = _LEVEL_COLOURS[sku.level]
            if button.property("colour") != colour:
                button.setProperty("colour", colour)
                button.setStyleSheet(f"color: {colour};")
            if button.property("featured") != (sku.id == featured):
                button.setProperty("featured", sku.id == featured)
                button.style().unpolish(button)
                button.style().polish(button)
        featured_view = view.sku(featured)
        ended = view.phase is Phase.ENDED
        self.sell_button.setEnabled(not ended and featured_view.left > 0)
        self.sell_button.setText("SALES CLOSED" if ended else "SOLD OUT" if featured_view.left == 0 else "SELL  +1")
        self.sell_button.set_key("E reopens" if ended else "1–9 / Tab: another" if featured_view.left == 0
                                 else "Space / Enter")  # fmt: skip
        self.timer_button.setText(
            {Phase.READY: "START TIMER", Phase.LIVE: "END OFFER", Phase.LAST_CALL: "END OFFER",
             Phase.ENDED: "ENDED"}[view.phase]
        )  # fmt: skip
        self.extend_button.setEnabled(view.phase is not Phase.READY)

    def _status_line(self, phase: Phase, remaining: float, statuses: Sequence[SourceStatus]) -> str:
        stats = self._program_stats()
        parts = [
            f"PROGRAM {stats.fps:4.1f} fps · compose {stats.compose_ms_p95:.1f} ms p95",
            f"offer {phase.value.upper()} {format_clock(remaining)}",
        ]
        for s in statuses:
            detail = f"{s.fps:.0f} fps" if s.state is SourceState.LIVE else (s.message or s.state.value)
            parts.append(f"{s.role} {s.state.value.upper()} {s.label} · {detail}")
        return "  |  ".join(parts)

    # -- size and place ---------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = self.centralWidget().width() if self.centralWidget() else event.size().width()
        side = min(SIDE_WIDTH[1], max(SIDE_WIDTH[0], round(width * SIDE_SHARE)))
        if self.side.width() != side:
            self.side.setFixedWidth(side)
        size = event.size()
        # Only a window on screen can be too small (the first resize comes before it is shown).
        least = self.min_size
        small = self.isVisible() and (size.width() < least.width() or size.height() < least.height())
        self._too_small = (
            f"This window is {size.width()}×{size.height()}: Booth needs {least.width()}×{least.height()} "
            "to show everything. Maximise it, or press F11 for full screen."
        ) if small else ""  # fmt: skip
        if not self._message_timer.isActive():
            self._show_standing()

    def preview_area(self) -> QRect:
        """The preview and the source lines, on the screen: where the tech lead's window opens."""
        top_left = self.view.mapToGlobal(QPoint(0, 0))
        bottom_right = self.source_panel.mapToGlobal(QPoint(self.source_panel.width(), self.source_panel.height()))
        return QRect(top_left, bottom_right)

    def show_on_screen(self) -> None:
        """Where it was last time, or maximised on the screen it opens on."""
        show_where_it_was(self, self._settings, GEOMETRY_KEY)

    # -- lifetime -------------------------------------------------------------------------------

    def stop_refreshing(self) -> None:
        """Stop every timer (the app is quitting: the parts behind them are about to stop)."""
        self._display_timer.stop()
        self._status_timer.stop()
        self._meter_timer.stop()
        self._message_timer.stop()
        if self.code_catcher is not None:
            self.code_catcher.stop()
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self.code_catcher)

    def closeEvent(self, event: QCloseEvent) -> None:
        # The window's close button (or the desktop's) asks like Ctrl+Q; a close from code does not.
        if event.spontaneous() and not self._quit_confirmed and self.quit_risks():
            event.ignore()
            self.quit()
            return
        save_geometry(self, self._settings, GEOMETRY_KEY)
        self.tech.remember()
        if self._settings is not None:
            self._settings.sync()  # once, as Booth quits: nothing else writes it
        self.tech.hide()
        self.stop_refreshing()
        super().closeEvent(event)
