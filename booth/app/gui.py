"""The GUI: the host's window over the composition root's object graph.

Start-up order: honour signals first (Ctrl+C, SIGTERM at logout — also while a prompt is open),
take the data folder's lock, read the drop file, open the session (asking to resume only when
someone can answer), build the parts, show the window, start the parts. Quitting stops them in
reverse; the session log closes last.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from booth.app.clip_desk import ClipDesk
from booth.app.options import Options
from booth.app.root import Booth, add_rig, build_booth
from booth.app.startup import open_session, resolve_config, sales_so_far
from booth.core.config import BoothConfig
from booth.core.output import Moment, OutputStatus
from booth.program_out.clips import ClipResult, resolved_future
from booth.store.db import StoreError
from booth.store.instance_lock import InstanceLock
from booth.store.paths import resolve_data_dir
from booth.store.recovery import peek_open_session

log = logging.getLogger(__name__)

# Platforms on which nobody can see, let alone answer, a dialog.
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc-nodisplay")

NO_ANSWER = """\
booth: the {kind} "{title}" ({sales} so far) was not closed, and nobody can answer the resume
prompt on this screen ({platform}). Start Booth again with one of:
  --resume        go on with the same stock and deadline
  --new-session   close it and begin a new session
"""


@dataclass
class OutputDesk:
    """What the window's output controls do: program out, with every clip in the session log."""

    booth: Booth

    def status(self) -> OutputStatus:
        assert self.booth.output is not None
        return self.booth.output.status()

    def clip(self, seconds: float | None = None) -> Future[ClipResult]:
        output, records = self.booth.output, self.booth.records
        if output is None:
            return resolved_future(ClipResult(None, 0.0, "Clips need the program output, which is not running."))
        future = output.clip(seconds)
        return records.clip(future) if records is not None else future

    def moments(self) -> tuple[Moment, ...]:
        return self.booth.output.moments() if self.booth.output is not None else ()

    def export_moment(self, index: int) -> Future[ClipResult]:
        output, records = self.booth.output, self.booth.records
        if output is None:
            return resolved_future(ClipResult(None, 0.0, "Clips need the program output, which is not running."))
        future = output.export_moment(index)
        return records.clip(future) if records is not None else future


def _route_qt_messages() -> None:
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(msg_type: QtMsgType, _context: object, message: str) -> None:
        qt_log.log(levels.get(msg_type, logging.INFO), "%s", message)

    qInstallMessageHandler(handler)


class SignalWatch:
    """Ctrl+C and SIGTERM quit cleanly at any moment, a modal prompt included.

    Python runs signal handlers only when the interpreter gets control, which a Qt event loop
    waiting for input never gives it. The wake-up fd makes the loop (any loop, a dialog's too) wake
    on a signal, so the handler runs at once: it closes the open prompt and quits the app."""

    def __init__(self, app: object) -> None:
        from PySide6.QtCore import QSocketNotifier

        self.app = app
        self.requested: list[int] = []
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        os.set_blocking(self._read_fd, False)
        signal.set_wakeup_fd(self._write_fd)
        self._notifier = QSocketNotifier(self._read_fd, QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.read(self._read_fd, 512)

    def _on_signal(self, signum: int, _frame: object) -> None:
        from PySide6.QtWidgets import QApplication

        log.info("%s: quitting", signal.Signals(signum).name)
        self.requested.append(signum)
        modal = QApplication.activeModalWidget()
        if modal is not None:
            modal.close()  # a prompt's own loop returns; start-up then sees `requested`
        QApplication.quit()

    def close(self) -> None:
        signal.set_wakeup_fd(-1)
        self._notifier.setEnabled(False)
        os.close(self._read_fd)
        os.close(self._write_fd)


def run_gui(options: Options) -> int:
    # opencv-python (non-headless) would point Qt at its own Qt 5 plugins; never inherit that.
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from booth.resources import resource
    from booth.ui.theme import stylesheet

    options = options.with_default_api_port()  # the phone remote, the overlay and buttons need it
    _route_qt_messages()
    app = QApplication(sys.argv[:1])
    signals = SignalWatch(app)  # before anything that can wait
    app.setApplicationName("Booth")
    app.setOrganizationName("Booth")
    app.setDesktopFileName("booth")
    app.setWindowIcon(QIcon(str(resource("booth.svg"))))
    app.setStyleSheet(stylesheet())
    try:
        return _run(app, options, signals)
    finally:
        signals.close()


def _run(app: object, options: Options, signals: SignalWatch) -> int:
    data_dir = resolve_data_dir(options.data_dir)
    try:
        lock = InstanceLock(data_dir).acquire()
    except StoreError as exc:
        sys.stderr.write(f"booth: {exc}\n")
        return 2
    try:
        config, problems = resolve_config(options)
        if config is None:
            return _run_without_drop(app, options, problems, signals)
        return _run_drop(app, options, config, problems, signals)
    finally:
        lock.release()


def _run_without_drop(app: object, options: Options, problems: list[str], signals: SignalWatch) -> int:
    """A drop file with problems: show them all, start no drop; reload when it is fixed."""
    from booth.ui.problems_window import ProblemsWindow

    assert options.drop is not None
    window = ProblemsWindow(options.drop, problems)
    chosen: list[BoothConfig] = []

    def loaded(config: BoothConfig) -> None:
        chosen.append(config)
        window.close()
        app.quit()  # type: ignore[attr-defined]

    window.config_ready.connect(loaded)
    window.show_on_screen()
    if signals.requested:
        return 0
    app.exec()  # type: ignore[attr-defined]
    window.stop()
    if signals.requested or not chosen:
        return 0
    return _run_drop(app, options, chosen[0], [], signals)


def _run_drop(app: object, options: Options, config: BoothConfig, problems: list[str], signals: SignalWatch) -> int:
    from booth.ui.dialogs import ask_resume

    resume = not options.new_session
    info = peek_open_session(options.data_dir) if resume else None
    if info is not None and not options.resume:
        platform = app.platformName()  # type: ignore[attr-defined]
        if platform in HEADLESS_PLATFORMS:
            sys.stderr.write(NO_ANSWER.format(kind=info.kind, title=info.title, sales=sales_so_far(info.sales),
                                              platform=platform))  # fmt: skip
            return 2
        log.info("asking the host whether to resume the unfinished %s '%s'", info.kind, info.title)
        resume = ask_resume(info, lambda: bool(signals.requested))
        if signals.requested:
            return 0
    session = None
    try:
        session = open_session(options, config, resume)
    except StoreError as exc:
        problems.append(f"Session log unavailable, sales are NOT being saved: {exc}")
        log.error("session log: %s", exc)
    booth = build_booth(config, session=session)
    booth.problems.extend(problems)
    if session is not None:  # a resumed drop is good news, not a standing problem
        booth.problems.extend(m for m in session.messages if m not in session.good_news)
    add_rig(booth, options)
    from PySide6.QtCore import QSettings

    window = build_window(booth, settings=QSettings())  # window places, in the user's config folder

    def shut_down() -> None:
        window.stop_refreshing()
        booth.stop()

    app.aboutToQuit.connect(shut_down)  # type: ignore[attr-defined]
    try:
        booth.start()
    except StoreError as exc:
        sys.stderr.write(f"booth: {exc}\n")
        return 2
    window.show_on_screen()
    log.info(
        "Booth running: %s, %dx%d @ %g fps, source %s",
        config.drop.title, *config.program.size, config.program.fps, config.primary.label,
    )  # fmt: skip
    if signals.requested:
        shut_down()
        return 0
    return int(app.exec())  # type: ignore[attr-defined]


def build_window(  # type: ignore[no-untyped-def]
    booth: Booth, on_viewers: Callable[[int], None] | None = None, settings: object | None = None
):
    """The host's window over `booth` (-> MainWindow, imported lazily: Qt widgets load only here).
    `settings`: a QSettings where window places are remembered (None: nowhere, as in tests)."""
    from booth.ui.main_window import GOOD_NEWS_MS, MainWindow

    records = booth.records
    if on_viewers is None and records is not None:
        on_viewers = records.viewers
    connect = None
    if booth.api is not None:
        from booth.ui.connect_panel import ConnectPanel

        connect = ConnectPanel(lambda: connect_info(booth))
    show_strip = None
    if booth.controller.spec.plan is not None or booth.controller.spec.rehearsal:
        from booth.ui.show_strip import ShowStrip

        show_strip = ShowStrip()
    rehearsal = "REHEARSAL — " if booth.controller.spec.rehearsal else ""
    window = MainWindow(
        booth.controller,
        booth.program,
        booth.compositor.stats,
        booth.switcher,
        standing_problems=booth.standing_problems,
        health=booth.health.latest if booth.health is not None else None,
        on_viewers=on_viewers,
        output=OutputDesk(booth) if booth.output is not None else None,
        clips=ClipDesk(booth.output, booth.config.clips) if booth.output is not None else None,
        title=f"Booth — {rehearsal}{booth.config.drop.title}",
        connect=connect,
        mic=booth.mic.status if booth.mic is not None else None,
        settings=settings,
        viewer_time=booth.viewer_time,
        show_strip=show_strip,
        shop=booth.shop,
    )
    add_drills_tab(booth, window)
    booth.controller.on_applied(window.drop_events.applied)
    booth.controller.on_refused(window.drop_events.refused)
    booth.switcher.on_switch(window.drop_events.switched)
    if booth.session is not None:
        booth.session.log.add_warning_listener(window.drop_events.warn)  # writer-thread warnings onto the GUI
        for news in booth.session.good_news:  # "Resumed the drop …": good news, in green, for a while
            window.show_message(news, "ok", GOOD_NEWS_MS)
    return window


def add_drills_tab(booth: Booth, window) -> None:  # type: ignore[no-untyped-def]
    """The drills panel in the tech lead's window: drills run on their own worker, only in a rehearsal."""
    from booth.core.drills import DRILLS
    from booth.ui.drills_panel import DrillsPanel

    run = None
    if booth.faults is not None:
        from booth.app.drills import DrillDesk
        from booth.app.rehearse import drill_shop

        desk = DrillDesk(booth, drill_shop(booth))
        booth.lifecycle.add("drills", desk.start, desk.stop)
        run = desk.run
    window.drills_panel = DrillsPanel(DRILLS, run)
    window.tech.add_tab(window.drills_panel, "Drills")


def connect_info(booth: Booth):  # type: ignore[no-untyped-def]  # -> booth.ui.connect_panel.ConnectInfo | None
    """What the Connect tab shows, once the control API listens."""
    from booth.ui.connect_panel import ConnectInfo

    api = booth.api
    if api is None or api.server is None or api.url is None:
        return None
    phone = api.phone_host
    return ConnectInfo(api.url, api.page_url("remote", phone), api.page_url("overlay"), api.token,
                       phone is not None, api.phone_note())  # fmt: skip
