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
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from booth.api.shop_webhook import ShopWebhook
from booth.audio.mic_feed import MicFeed
from booth.core.clock import Clock, SystemClock
from booth.core.config import BoothConfig, ConfigError, demo_config, load_config, parse_size, with_overrides
from booth.core.drop import Phase
from booth.core.failover import Lock, reconnect_delay
from booth.core.health.alerts import AlertChange, Severity
from booth.core.health.snapshot import HealthSnapshot, health_samples
from booth.core.output import Moment, OutputStatus
from booth.core.overlay import OverlayModel, overlay_for
from booth.core.source_spec import SourceSpec, SpecError, parse_source_spec
from booth.core.source_state import SourceStatus
from booth.devices.imaging import load_picture
from booth.devices.sources import FrameSource, open_source
from booth.drop.controller import DropController, Journal
from booth.drop.session import DropSession, start_drop_session
from booth.health.monitors import HealthMonitor
from booth.ops.metrics import MetricsServer, MetricsSources, start_metrics_server
from booth.program_out.output import ClipResult, OutputService
from booth.runtime.worker import Periodic
from booth.store import kinds
from booth.store.db import StoreError
from booth.store.paths import resolve_data_dir
from booth.store.recovery import OpenSessionInfo, peek_open_session
from booth.store.session_log import SessionLog
from booth.video.capture import CaptureService
from booth.video.compositor import Compositor
from booth.video.program_gaps import ProgramCut, ProgramGapMeter
from booth.video.switcher import Switcher

if TYPE_CHECKING:
    from booth.ui.main_window import OutputControl

log = logging.getLogger(__name__)


@dataclass
class Booth:
    """The running object graph (no widgets): sources → switcher → compositor → program frames."""

    config: BoothConfig
    controller: DropController
    captures: list[CaptureService]
    switcher: Switcher
    compositor: Compositor
    drop_clock: Periodic  # closes the offer at its deadline, screen or not
    problems: list[str] = field(default_factory=list)  # standing problems to show the host

    def overlay_model(self) -> OverlayModel:
        return overlay_for(self.controller.view(), self.controller.featured_sku, self.config.corner)

    def source_statuses(self) -> list[SourceStatus]:
        return self.switcher.statuses()

    def start(self) -> None:
        for capture in self.captures:
            capture.start()
        self.switcher.start()
        self.compositor.start()
        self.drop_clock.start()

    def stop(self) -> None:
        """Stop and join every thread, newest consumer first."""
        self.drop_clock.stop()
        self.compositor.stop()
        self.switcher.stop()
        for capture in self.captures:
            capture.stop()


def build_booth(
    config: BoothConfig,
    clock: Clock | None = None,
    journal: Journal | None = None,
    source: FrameSource | None = None,
    secondary_source: FrameSource | None = None,
    controller: DropController | None = None,
) -> Booth:
    """`source`/`secondary_source` replace the configured ones at the device seam (tests, benchmarks);
    `controller` is a drop already replayed from the session log."""
    clock = clock or SystemClock()
    controller = controller or DropController(config.drop, clock, journal)
    problems: list[str] = []

    def retry_delay(failures: int) -> float:
        return reconnect_delay(failures, drop_live=controller.view().phase in (Phase.LIVE, Phase.LAST_CALL))

    def capture(role: str, spec: SourceSpec, injected: FrameSource | None) -> CaptureService:
        def make() -> FrameSource:
            return open_source(spec, config.program.size, config.program.fps)

        return CaptureService(
            role, injected or make(), retry_delay=retry_delay, make_source=None if injected else make
        )

    primary = capture("primary", config.primary, source)
    secondary = None
    if config.secondary is not None or secondary_source is not None:
        secondary = capture("secondary", config.secondary or config.primary, secondary_source)
    switcher = Switcher(primary, secondary, config.failover)

    slate_picture = None
    if config.slate_image is not None:
        try:
            slate_picture = load_picture(str(config.slate_image))
        except ValueError as exc:
            problems.append(f"Slate image: {exc}; showing the slate text instead.")
    booth: Booth
    compositor = Compositor(
        config.program, switcher, lambda: booth.overlay_model(),
        slate_text=config.slate_text, slate_picture=slate_picture,
    )  # fmt: skip
    captures = [primary] + ([secondary] if secondary else [])
    drop_clock = Periodic("booth-drop-clock", 0.1, controller.tick)
    booth = Booth(config, controller, captures, switcher, compositor, drop_clock, problems)
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


@dataclass
class Rig:
    """What runs beside the picture in the GUI: session log, health monitors, metrics, shop webhook."""

    session: DropSession | None
    health: HealthMonitor
    output: OutputService
    metrics: MetricsServer | None = None
    webhook: ShopWebhook | None = None
    mic_feed: MicFeed | None = None

    def clip(self, seconds: float | None = None) -> Future[ClipResult]:
        """Save the last moments; the session log gets a record of every clip written."""
        return self._logged_clip(self.output.clip(seconds))

    def _logged_clip(self, future: Future[ClipResult]) -> Future[ClipResult]:
        if self.session is not None:
            session_log = self.session.log

            def logged(done: Future[ClipResult]) -> None:
                result = done.result() if done.exception() is None else None
                if result is not None and result.ok:
                    session_log.record(kinds.CLIP, {"path": str(result.path), "seconds": result.duration_s})

            future.add_done_callback(logged)
        return future

    def status(self) -> OutputStatus:
        return self.output.status()

    def moments(self) -> tuple[Moment, ...]:
        return self.output.moments()

    def export_moment(self, index: int) -> Future[ClipResult]:
        return self._logged_clip(self.output.export_moment(index))

    def stop(self) -> None:
        """After booth.stop(): the picture has stopped, so the output can finish its files."""
        if self.mic_feed is not None:
            self.mic_feed.stop()
        self.output.stop()
        if self.webhook is not None:
            self.webhook.close()
        if self.metrics is not None:
            self.metrics.stop()
        self.health.stop()
        if self.session is not None:
            self.session.close()


def open_session(args: argparse.Namespace, config: BoothConfig, ask_resume: Callable[[OpenSessionInfo], bool],
                 problems: list[str]) -> DropSession | None:  # fmt: skip
    """The session log for this drop, resumed after a crash if the host says so. Never raises:
    a data folder that cannot be used leaves Booth running, with a standing warning."""
    kind = "rehearsal" if getattr(args, "rehearsal", False) else "drop"
    resume = not getattr(args, "new_session", False)
    try:
        info = peek_open_session(args.data_dir) if resume else None
        if info is not None and not getattr(args, "resume", False):
            resume = ask_resume(info)
        session = start_drop_session(args.data_dir, config, kind=kind, resume=resume)
    except StoreError as exc:
        problems.append(f"Session log unavailable, sales are NOT being saved: {exc}")
        log.error("session log: %s", exc)
        return None
    problems.extend(session.messages)
    return session


def start_rig(args: argparse.Namespace, booth: Booth, session: DropSession | None) -> Rig:
    """Health monitors, metrics and the shop webhook, wired to the booth and its session log."""
    controller = booth.controller

    def drop_need_s() -> float | None:
        view = controller.view()
        return view.remaining_s if view.phase in (Phase.LIVE, Phase.LAST_CALL) else None

    output = OutputService(
        booth.config.output, booth.config.program, booth.compositor, base_dir=output_base_dir(args, booth.config)
    )
    output.watch_drop(controller)  # first sale, low-stock levels and sold out become moments to clip
    booth.switcher.on_switch(lambda switch: output.mark(f"camera switch: {switch.reason}"))

    def output_bitrate_bps() -> float:
        return output.status().bitrate_kbps * 1000.0 or booth.config.health.output_bitrate_kbps * 1000.0

    health = HealthMonitor.from_config(
        booth.config.health, drop_need_s=drop_need_s, output_bitrate_bps=output_bitrate_bps
    )
    rig = Rig(session, health, output)
    if health.mic is not None:  # the chosen microphone is the program's sound; silence without one
        rig.mic_feed = MicFeed(output.push_audio).start()
        health.mic.add_block_listener(rig.mic_feed.on_block)
    if session is not None:
        record_rig_events(booth, health, session)
        record_output_events(output, session.log)
    if getattr(args, "metrics_port", None) is not None:
        try:
            rig.metrics = start_metrics_server(
                MetricsSources(
                    health=health.latest,
                    drop=controller.view,
                    source_states=lambda: {s.role: s.state.value for s in booth.switcher.statuses()},
                    active_source=lambda: booth.switcher.on_program,
                    failover_switches=lambda: len(booth.switcher.switches),
                ),
                args.metrics_port,
            )
        except OSError as exc:
            booth.problems.append(f"Metrics not served on port {args.metrics_port}: {exc}")
    if getattr(args, "shop_port", None) is not None:
        if session is None:
            booth.problems.append("Shop webhook not started: it needs the session log.")
        else:
            try:
                rig.webhook = ShopWebhook(controller, session.watch, port=args.shop_port).start()
            except OSError as exc:
                booth.problems.append(f"Shop webhook not started on port {args.shop_port}: {exc}")
    health.start()
    output.start()
    return rig


def output_base_dir(args: argparse.Namespace, config: BoothConfig) -> Path:
    """Recordings sit next to the drop file; without one, in the data folder (never in the repo)."""
    if config.path is not None:
        return config.path.parent
    return resolve_data_dir(getattr(args, "data_dir", None))


def record_rig_events(booth: Booth, health: HealthMonitor, session: DropSession) -> None:
    """Program cuts, alerts and downsampled health go into the session log, for the report."""
    record_program_cuts(booth, session.log)
    record_health(booth, health, session.log)


def record_output_events(output: OutputService, session_log: SessionLog) -> None:
    """Ingest switches and marked moments, so the report and a later export can find them."""
    output.on_ingest_switch(
        lambda before, after, reason: session_log.record(
            kinds.OUTPUT_SWITCH, {"output": "ingest", "from": before, "to": after, "reason": reason}
        )
    )
    output.on_moment(
        lambda moment: session_log.record(
            kinds.MOMENT, {"index": moment.index, "reason": moment.reason, "stream_s": moment.stream_s}
        )
    )


def record_program_cuts(booth: Booth, session_log: SessionLog) -> None:
    def cut(program_cut: ProgramCut) -> None:
        # The switcher decided why; the program frames say how long viewers waited.
        reason = next(
            (s.reason for s in reversed(booth.switcher.switches) if s.to_source == program_cut.to_source), ""
        )
        session_log.record(kinds.SOURCE_SWITCH, {
            "from": program_cut.from_source, "to": program_cut.to_source, "reason": reason,
            "automatic": booth.switcher.lock is Lock.AUTO, "gap_ms": program_cut.gap_ms,
        })  # fmt: skip

    booth.compositor.subscribe(ProgramGapMeter(cut))


def record_health(booth: Booth, health: HealthMonitor, session_log: SessionLog) -> None:
    def alerted(change: AlertChange) -> None:
        if change.alert.severity is not Severity.OK:
            session_log.record(kinds.ALERT, {
                "level": change.alert.severity.value, "code": change.alert.key, "message": change.alert.message,
            })  # fmt: skip

    last_sample = [0.0]

    def sampled(snapshot: HealthSnapshot) -> None:
        if snapshot.taken_at - last_sample[0] < 1.0:
            return
        last_sample[0] = snapshot.taken_at
        for metric, value in health_samples(snapshot, booth.compositor.stats().fps).items():
            session_log.sample(metric, value)

    health.add_alert_listener(alerted)
    health.add_snapshot_listener(sampled)


def run_gui(args: argparse.Namespace) -> int:
    # opencv-python (non-headless) would point Qt at its own Qt 5 plugins; never inherit that.
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from booth.resources import resource
    from booth.ui.dialogs import ask_resume
    from booth.ui.theme import stylesheet

    _route_qt_messages()
    app = QApplication(sys.argv[:1])
    # Ctrl+C in a terminal and SIGTERM at logout quit cleanly: threads joined, files finished.
    # Installed before anything starts; Python runs the handler the next time the GUI thread runs
    # Python (the status timer, ≤ 250 ms). A signal during start-up is honoured once it is done.
    quit_requested: list[int] = []

    def request_quit(signum: int, _frame: object) -> None:
        quit_requested.append(signum)
        app.quit()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_quit)
    app.setApplicationName("Booth")
    app.setDesktopFileName("booth")
    app.setWindowIcon(QIcon(str(resource("booth.svg"))))
    app.setStyleSheet(stylesheet())

    config, problems = resolve_config(args)
    session = open_session(args, config, ask_resume, problems)
    booth = build_booth(config, controller=session.controller if session else None)
    booth.problems.extend(problems)
    rig = start_rig(args, booth, session)
    on_viewers = None
    if session is not None:
        session_log = session.log

        def on_viewers(count: int) -> None:
            session_log.record(kinds.VIEWERS, {"count": count, "origin": "host"})

    window = build_window(booth, rig.health.latest, on_viewers, rig)
    if session is not None:
        session.log.add_warning_listener(window.drop_events.warn)  # writer-thread warnings onto the GUI

    def shut_down() -> None:
        booth.stop()  # the picture stops first …
        rig.stop()  # … so the recording ends on the last frame, then the log closes

    app.aboutToQuit.connect(shut_down)

    booth.start()
    window.resize(1440, 900)
    window.show()
    log.info(
        "Booth running: %s, %dx%d @ %g fps, source %s",
        config.drop.title, *config.program.size, config.program.fps, config.primary.label,
    )  # fmt: skip
    if quit_requested:
        shut_down()
        return 0
    return int(app.exec())


def build_window(  # type: ignore[no-untyped-def]  # -> MainWindow, imported lazily
    booth: Booth,
    health: Callable[[], HealthSnapshot] | None = None,
    on_viewers: Callable[[int], None] | None = None,
    output: OutputControl | None = None,
):
    from booth.ui.bridge import FrameNotifier
    from booth.ui.main_window import MainWindow

    notifier = FrameNotifier()
    window = MainWindow(
        booth.controller,
        booth.compositor.output,
        notifier,
        booth.compositor.stats,
        booth.switcher,
        standing_problems=lambda: booth.problems,
        health=health,
        on_viewers=on_viewers,
        output=output,
        title=f"Booth — {booth.config.drop.title}",
    )
    booth.compositor.subscribe(notifier.notify)
    booth.controller.on_applied(window.drop_events.applied)
    booth.controller.on_refused(window.drop_events.refused)
    booth.switcher.on_switch(window.drop_events.switched)
    return window
