"""The composition root: builds Booth's object graph from a config and runs it.

Nothing else constructs services or windows; tests and benchmarks call `build_booth`
the same way the GUI does.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from dataclasses import dataclass, field

from booth.core.clock import Clock, SystemClock
from booth.core.config import BoothConfig, ConfigError, demo_config, load_config, parse_size, with_overrides
from booth.core.overlay import OverlayModel, overlay_for
from booth.core.source_spec import SourceSpec, SpecError, parse_source_spec
from booth.core.source_state import SourceStatus
from booth.devices.sources import FrameSource, open_source
from booth.services.capture import CaptureService
from booth.services.compositor import Compositor, FixedSource
from booth.services.drop_clock import DropClock
from booth.services.drop_controller import DropController, Journal

log = logging.getLogger(__name__)


@dataclass
class Booth:
    """The running object graph (no widgets): sources → compositor → program frames."""

    config: BoothConfig
    controller: DropController
    captures: list[CaptureService]
    compositor: Compositor
    drop_clock: DropClock
    problems: list[str] = field(default_factory=list)  # standing problems to show the host

    def overlay_model(self) -> OverlayModel:
        return overlay_for(self.controller.view(), self.controller.featured_sku, self.config.corner)

    def source_statuses(self) -> list[SourceStatus]:
        return [c.status() for c in self.captures]

    def start(self) -> None:
        for capture in self.captures:
            capture.start()
        self.compositor.start()
        self.drop_clock.start()

    def stop(self) -> None:
        """Stop and join every thread, newest consumer first."""
        self.drop_clock.stop()
        self.compositor.stop()
        for capture in self.captures:
            capture.stop()


def build_booth(
    config: BoothConfig,
    clock: Clock | None = None,
    journal: Journal | None = None,
    source: FrameSource | None = None,
) -> Booth:
    """`source` replaces the primary source at the device seam (tests, benchmarks)."""
    clock = clock or SystemClock()
    controller = DropController(config.drop, clock, journal)
    primary = source or open_source(config.primary, config.program.size, config.program.fps)
    capture = CaptureService("primary", primary)
    booth: Booth
    compositor = Compositor(
        config.program,
        FixedSource("primary", capture.slot),
        lambda: booth.overlay_model(),
        slate_text=f"Waiting for {primary.label} …",
    )
    booth = Booth(config, controller, [capture], compositor, DropClock(controller))
    return booth


def resolve_config(args: argparse.Namespace) -> tuple[BoothConfig, list[str]]:
    """The config to run with, and the problems the host must see. Never raises: bad input
    falls back to the demo drop or the demo source, with a message naming the problem."""
    problems: list[str] = []
    config = demo_config()
    if args.drop is not None:
        try:
            config = load_config(args.drop)
        except ConfigError as exc:
            problems.append(f"Config not loaded, running the demo drop instead. {exc}")
            log.error("%s", exc)
    source: SourceSpec | None = None
    if args.source:
        try:
            source = parse_source_spec(args.source)
        except SpecError as exc:
            problems.append(f"--source: {exc}. Showing the demo source instead.")
            log.error("--source: %s", exc)
            source = parse_source_spec("demo:")
    size = None
    if args.size:
        try:
            size = parse_size(args.size)
        except ValueError as exc:
            problems.append(f"--size {exc}; using {config.program.width}x{config.program.height}.")
    fps = args.fps
    if fps is not None and not 1 <= fps <= 60:
        problems.append(f"--fps must be between 1 and 60, got {fps:g}; using {config.program.fps:g}.")
        fps = None
    return with_overrides(config, source, size, fps), problems


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


def run_gui(args: argparse.Namespace) -> int:
    # opencv-python (non-headless) would point Qt at its own Qt 5 plugins; never inherit that.
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from booth.resources import resource
    from booth.ui.theme import stylesheet

    _route_qt_messages()
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Booth")
    app.setDesktopFileName("booth")
    app.setWindowIcon(QIcon(str(resource("booth.svg"))))
    app.setStyleSheet(stylesheet())

    config, problems = resolve_config(args)
    booth = build_booth(config)
    booth.problems.extend(problems)
    window = build_window(booth)
    app.aboutToQuit.connect(booth.stop)
    signal.signal(signal.SIGINT, lambda *_: app.quit())  # Ctrl+C in the terminal quits cleanly

    booth.start()
    window.resize(1440, 860)
    window.show()
    log.info(
        "Booth running: %s, %dx%d @ %g fps, source %s",
        config.drop.title, *config.program.size, config.program.fps, config.primary.label,
    )  # fmt: skip
    return int(app.exec())


def build_window(booth: Booth):  # type: ignore[no-untyped-def]  # -> MainWindow (imported lazily)
    from booth.ui.bridge import FrameNotifier
    from booth.ui.main_window import MainWindow

    notifier = FrameNotifier()
    window = MainWindow(
        booth.controller,
        booth.compositor.output,
        notifier,
        booth.compositor.stats,
        booth.source_statuses,
        standing_problems=lambda: booth.problems,
        title=f"Booth — {booth.config.drop.title}",
    )
    booth.compositor.subscribe(notifier.notify)
    booth.controller.on_applied(window.drop_events.applied)
    booth.controller.on_refused(window.drop_events.refused)
    return window
