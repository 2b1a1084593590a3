"""The screen for a drop file with problems: every problem at once, no drop on air.

Booth starts no drop until the file is valid. A worker (`booth-drop-file`) re-reads the file
whenever it changes on disk (and on F5 / the RELOAD button) — off the GUI thread — and hands back
either the new problems or a valid config, which starts the drop.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from booth.core.config import BoothConfig, ConfigError, load_config
from booth.runtime.worker import Worker
from booth.ui.key_button import KeyButton
from booth.ui.theme import PALETTE
from booth.ui.window_place import opening_screen, show_maximised_on

log = logging.getLogger(__name__)

POLL_S = 0.5


class _FileWatch(QObject):
    """Re-reads the drop file on its own worker when its size or time changes (or when asked)."""

    loaded = Signal(object)  # BoothConfig
    failed = Signal(object)  # list[str]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._seen: tuple[float, int] | None = self._stamp()
        self._forced = False
        self.worker = Worker("booth-drop-file", self._step, "Drop file watch")

    def _stamp(self) -> tuple[float, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime, st.st_size

    def reload(self) -> None:
        self._forced = True
        self.worker.wake()

    def _step(self) -> float:
        stamp = self._stamp()
        if stamp == self._seen and not self._forced:
            return POLL_S
        self._seen, self._forced = stamp, False
        try:
            config = load_config(self.path)
        except ConfigError as exc:
            self.failed.emit(list(exc.problems))
        else:
            self.loaded.emit(config)
        return POLL_S


class ProblemsWindow(QMainWindow):
    config_ready = Signal(object)  # BoothConfig, once the file is valid

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__()
        self.path = path
        self.setWindowTitle(f"Booth — {path.name} needs fixing")
        self.heading = QLabel()
        self.heading.setObjectName("problemsHeading")
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet(
            f"background: {PALETTE.red}; color: #fff; font-size: 28px; font-weight: 800; padding: 10px 16px;"
            " border-radius: 10px;"
        )
        self.where = QLabel(str(path))
        self.where.setObjectName("status")
        self.where.setWordWrap(True)
        self.list = QLabel()
        self.list.setObjectName("problemsList")
        self.list.setWordWrap(True)
        self.list.setTextFormat(Qt.TextFormat.PlainText)
        self.list.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.list.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list.setStyleSheet(f"background: {PALETTE.panel}; font-size: 21px; padding: 14px 18px;")
        scroll = QScrollArea()  # a file with fifty problems still shows them all
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.list)
        self.hint = QLabel("Fix the file and save it: Booth reloads it by itself. F5 reloads now, Ctrl+Q quits.")
        self.hint.setObjectName("problemsHint")
        self.hint.setWordWrap(True)
        self.reload_button = KeyButton("RELOAD", key="F5")
        self.quit_button = KeyButton("QUIT", key="Ctrl+Q")
        buttons = QHBoxLayout()
        buttons.addWidget(self.reload_button)
        buttons.addWidget(self.quit_button)
        buttons.addStretch(1)
        layout = QVBoxLayout()
        layout.setContentsMargins(40, 32, 40, 32)
        layout.setSpacing(14)
        layout.addWidget(self.heading)
        layout.addWidget(self.where)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.hint)
        layout.addLayout(buttons)
        central = QWidget()
        central.setLayout(layout)
        self.setCentralWidget(central)
        self.show_problems(problems)

        self._watch = _FileWatch(path)
        self._watch.loaded.connect(self._on_watch_loaded)
        self._watch.failed.connect(self.show_problems)
        self.reload_button.clicked.connect(lambda _checked=False: self.reload())
        self.quit_button.clicked.connect(lambda _checked=False: self.close())
        QShortcut(QKeySequence("F5"), self).activated.connect(self.reload)
        QShortcut(QKeySequence("Ctrl+Q"), self).activated.connect(self.close)
        # Start watching once the event loop runs (a signal emitted before would have no receiver).
        QTimer.singleShot(0, self._watch.worker.start)

    @staticmethod
    def _count(problems: list[str]) -> str:
        return "1 problem" if len(problems) == 1 else f"{len(problems)} problems"

    def reload(self) -> None:
        self.hint.setText("Reloading…")
        self._watch.reload()

    def show_problems(self, problems: list[str]) -> None:
        self.heading.setText(f"{self.path.name} has {self._count(problems)}: no drop is on air until it is fixed.")
        prefix = f"{self.path}: "  # every problem names the file; it is said once, above
        self.list.setText("\n\n".join(f"•  {p.removeprefix(prefix)}" for p in problems))
        self.hint.setText("Fix the file and save it: Booth reloads it by itself. F5 reloads now, Ctrl+Q quits.")

    def _on_watch_loaded(self, config: BoothConfig) -> None:
        log.info("drop file %s is valid now: starting the drop", config.path)
        self.stop()
        self.config_ready.emit(config)

    def show_on_screen(self) -> None:
        """Maximised on the screen it opens on, like the host's window that follows it."""
        show_maximised_on(self, opening_screen())

    def stop(self) -> None:
        self._watch.worker.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)
