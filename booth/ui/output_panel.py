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

from booth.core.health.system import format_bytes
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


class OutputPanel(QWidget):
    clip_requested = Signal()
    export_requested = Signal(int)  # the index of a marked moment to save as a clip

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputPanel")
        self.state_label = QLabel("NOT STREAMING")
        self.state_label.setObjectName("outputState")
        self.time_label = QLabel("")
        self.time_label.setStyleSheet("font-size: 30px; font-weight: 800;")
        self.figures_label = QLabel("")
        self.figures_label.setObjectName("status")
        self.figures_label.setWordWrap(True)
        self.recording_label = QLabel("")
        self.recording_label.setObjectName("status")
        self.recording_label.setWordWrap(True)
        self.message_label = QLabel("")
        self.message_label.setObjectName("message")
        self.message_label.setWordWrap(True)
        self.message_label.hide()
        self.clip_button = QPushButton("CLIP  (C)")
        self.clip_button.setObjectName("clip")
        self.clip_button.setToolTip("Save the last seconds of the program as an MP4")
        self.clip_button.clicked.connect(self.clip_requested)
        self.clip_line_label = QLabel("")
        self.clip_line_label.setObjectName("status")
        # Moments marked during the drop (first sale, low stock, sold out, cuts): export any as a clip.
        self.moment_list = QListWidget()
        self.moment_list.setMinimumHeight(120)
        self.moment_list.setStyleSheet("font-size: 17px;")
        self.export_button = QPushButton("EXPORT MOMENT")
        self.export_button.setToolTip("Save a clip around the selected moment (from memory or the recording)")
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.moment_count_label = 0

        top = QHBoxLayout()
        top.addWidget(self.state_label)
        top.addStretch(1)
        top.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.figures_label)
        layout.addWidget(self.message_label)
        layout.addWidget(self.recording_label)
        layout.addWidget(self.clip_button)
        layout.addWidget(self.clip_line_label)
        layout.addWidget(self.moment_list)
        layout.addWidget(self.export_button)
        self.status = OutputStatus()
        self.set_status(self.status)

    def set_moments(self, moments: Sequence[Moment]) -> None:
        """The marked moments, newest last; only new ones are added (the selection stays put)."""
        for moment in moments[self.moment_count_label :]:
            minutes, seconds = divmod(int(moment.stream_s), 60)
            item = QListWidgetItem(f"{minutes:02d}:{seconds:02d}  {moment.reason}")
            item.setData(Qt.ItemDataRole.UserRole, moment.index)
            self.moment_list.addItem(item)
        self.moment_count_label = max(self.moment_count_label, len(moments))
        self.export_button.setEnabled(self.moment_list.currentItem() is not None or bool(self.moment_count_label))

    def _on_export_button_clicked(self) -> None:
        item = self.moment_list.currentItem() or self.moment_list.item(self.moment_list.count() - 1)
        if item is not None:
            self.export_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    @property
    def state_text(self) -> str:
        return self.state_label.text()

    def set_status(self, status: OutputStatus) -> None:
        self.status = status
        text, background, color = _PILL[status.state]
        self.state_label.setText(text)
        self.state_label.setStyleSheet(
            f"background: {background}; color: {color}; font-size: 28px; font-weight: 900;"
            " padding: 6px 16px; border-radius: 10px;"
        )
        live = status.state in (OutputState.LIVE, OutputState.BACKUP)
        self.time_label.setText(_duration(status.time_live_s) if live or status.time_live_s else "")
        dropped = f"{status.dropped_frames} dropped" if status.dropped_frames else "0 dropped"
        ingest = f"\n→ {status.ingest}" if status.ingest else ""
        self.figures_label.setText(
            f"{status.bitrate_kbps / 1000:.1f} Mbit/s · {status.encode_fps:.0f} fps · {dropped}{ingest}"
            if status.encoding else f"encoder not running{ingest}"
        )
        problems = status.problems
        self.message_label.setText("\n".join(problems))
        self.message_label.setProperty("severity", "error" if status.state is OutputState.RECONNECTING
                                  or status.recording_error else "warn")  # fmt: skip
        self.message_label.setVisible(bool(problems))
        self.message_label.style().unpolish(self.message_label)
        self.message_label.style().polish(self.message_label)
        if status.recording_path and not status.recording_error:
            free = f" · {format_bytes(status.free_disk_bytes)} free" if status.free_disk_bytes is not None else ""
            left = f" (≈{status.disk_minutes_left / 60:.1f} h)" if status.disk_minutes_left is not None else ""
            rec = f"● REC {Path(status.recording_path).name} · {format_bytes(status.recording_bytes)}{free}{left}"
        elif status.recording_error:
            rec = "○ not recording"
        else:
            rec = "○ recording off"
        self.recording_label.setText(rec)
        self.clip_button.setEnabled(status.replay_s >= 1.0)
        clip = status.clip_message or (f"last clip: {Path(status.last_clip).name}" if status.last_clip else "")
        buffered = f"{status.replay_s:.0f} s buffered"
        marks = f" · {status.moments} moments marked" if status.moments else ""
        self.clip_line_label.setText(f"{buffered}{marks}" + (f"\n{clip}" if clip else ""))
