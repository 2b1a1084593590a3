"""Program out at a glance: a state pill (LIVE / BACKUP / RECONNECTING / OFF), the figures that say
whether viewers get a good stream, the recording and disk, and the clip button.

Pure view: `set_status(OutputStatus)` from a GUI timer (2 Hz is plenty); the button only emits
`clip_requested`, the window decides what to do with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from booth.core.output import Moment, OutputState, OutputStatus
from booth.ui.theme import PALETTE

_PILL = {
    OutputState.LIVE: ("LIVE", PALETTE.red, "#fff"),
    OutputState.BACKUP: ("LIVE · BACKUP", PALETTE.amber, "#111"),
    OutputState.CONNECTING: ("CONNECTING", PALETTE.neutral, PALETTE.text),
    OutputState.RECONNECTING: ("RECONNECTING", PALETTE.amber, "#111"),
    OutputState.OFF: ("NOT STREAMING", PALETTE.neutral, PALETTE.muted),
}


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def _size(n: int) -> str:
    return f"{n / 1024**3:.1f} GB" if n >= 1024**3 else f"{n / 1024**2:.0f} MB"


class OutputPanel(QWidget):
    clip_requested = Signal()
    export_requested = Signal(int)  # the index of a marked moment to save as a clip

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputPanel")
        self._state = QLabel("NOT STREAMING")
        self._state.setObjectName("outputState")
        self._time = QLabel("")
        self._time.setStyleSheet("font-size: 30px; font-weight: 800;")
        self._figures = QLabel("")
        self._figures.setObjectName("status")
        self._figures.setWordWrap(True)
        self._recording = QLabel("")
        self._recording.setObjectName("status")
        self._recording.setWordWrap(True)
        self._message = QLabel("")
        self._message.setObjectName("message")
        self._message.setWordWrap(True)
        self._message.hide()
        self._clip = QPushButton("CLIP  (C)")
        self._clip.setObjectName("clip")
        self._clip.setToolTip("Save the last seconds of the program as an MP4")
        self._clip.clicked.connect(self.clip_requested)
        self._clip_line = QLabel("")
        self._clip_line.setObjectName("status")
        # Moments marked during the drop (first sale, low stock, sold out, cuts): export any as a clip.
        self.moment_list = QListWidget()
        self.moment_list.setMinimumHeight(120)
        self.moment_list.setStyleSheet("font-size: 17px;")
        self.export_button = QPushButton("EXPORT MOMENT")
        self.export_button.setToolTip("Save a clip around the selected moment (from memory or the recording)")
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self._moment_count = 0

        top = QHBoxLayout()
        top.addWidget(self._state)
        top.addStretch(1)
        top.addWidget(self._time)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self._figures)
        layout.addWidget(self._message)
        layout.addWidget(self._recording)
        layout.addWidget(self._clip)
        layout.addWidget(self._clip_line)
        layout.addWidget(self.moment_list)
        layout.addWidget(self.export_button)
        self.status = OutputStatus()
        self.set_status(self.status)

    def set_moments(self, moments: Sequence[Moment]) -> None:
        """The marked moments, newest last; only new ones are added (the selection stays put)."""
        for moment in moments[self._moment_count :]:
            minutes, seconds = divmod(int(moment.stream_s), 60)
            item = QListWidgetItem(f"{minutes:02d}:{seconds:02d}  {moment.reason}")
            item.setData(Qt.ItemDataRole.UserRole, moment.index)
            self.moment_list.addItem(item)
        self._moment_count = max(self._moment_count, len(moments))
        self.export_button.setEnabled(self.moment_list.currentItem() is not None or bool(self._moment_count))

    def _on_export_button_clicked(self) -> None:
        item = self.moment_list.currentItem() or self.moment_list.item(self.moment_list.count() - 1)
        if item is not None:
            self.export_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    @property
    def state_text(self) -> str:
        return self._state.text()

    def set_status(self, status: OutputStatus) -> None:
        self.status = status
        text, background, color = _PILL[status.state]
        self._state.setText(text)
        self._state.setStyleSheet(
            f"background: {background}; color: {color}; font-size: 28px; font-weight: 900;"
            " padding: 6px 16px; border-radius: 10px;"
        )
        live = status.state in (OutputState.LIVE, OutputState.BACKUP)
        self._time.setText(_duration(status.time_live_s) if live or status.time_live_s else "")
        dropped = f"{status.dropped_frames} dropped" if status.dropped_frames else "0 dropped"
        ingest = f"\n→ {status.ingest}" if status.ingest else ""
        self._figures.setText(
            f"{status.bitrate_kbps / 1000:.1f} Mbit/s · {status.encode_fps:.0f} fps · {dropped}{ingest}"
            if status.encoding else f"encoder not running{ingest}"
        )
        problems = status.problems
        self._message.setText("\n".join(problems))
        self._message.setProperty("severity", "error" if status.state is OutputState.RECONNECTING
                                  or status.recording_error else "warn")  # fmt: skip
        self._message.setVisible(bool(problems))
        self._message.style().unpolish(self._message)
        self._message.style().polish(self._message)
        if status.recording_path and not status.recording_error:
            free = f" · {_size(status.free_disk_bytes)} free" if status.free_disk_bytes is not None else ""
            left = f" (≈{status.disk_minutes_left / 60:.1f} h)" if status.disk_minutes_left is not None else ""
            rec = f"● REC {Path(status.recording_path).name} · {_size(status.recording_bytes)}{free}{left}"
        elif status.recording_error:
            rec = "○ not recording"
        else:
            rec = "○ recording off"
        self._recording.setText(rec)
        self._clip.setEnabled(status.replay_s >= 1.0)
        clip = status.clip_message or (f"last clip: {Path(status.last_clip).name}" if status.last_clip else "")
        buffered = f"{status.replay_s:.0f} s buffered"
        marks = f" · {status.moments} moments marked" if status.moments else ""
        self._clip_line.setText(f"{buffered}{marks}" + (f"\n{clip}" if clip else ""))
