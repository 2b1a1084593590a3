"""Short-form clips in the Output view: the range, preset, framing (crop focus or blurred fit),
clean or with the overlay, a caption; then the export's progress, cancel and "open folder".

Pure view: it emits `export_requested(ClipOrder)`, `cancel_requested(job id)` and
`open_folder_requested(Path)`; `show_export(ExportStatus)` takes updates the export worker made,
already marshalled onto the GUI thread (`ExportUpdates`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from booth.core.clip_presets import PRESETS, Framing, nudge_focus
from booth.core.clips_config import VERTICAL_FRAMINGS, ClipsConfig
from booth.program_out.export import ExportJob, ExportStatus, JobState
from booth.program_out.live_clips import ClipOrder

FRAMING_LABELS = {Framing.CROP: "crop (focus below)", Framing.BLUR: "whole frame, blurred fit",
                  Framing.SOLID: "whole frame, solid background"}  # fmt: skip


class ClipControl(Protocol):
    """What the window needs from live clips (booth.app.clip_desk)."""

    @property
    def defaults(self) -> ClipsConfig: ...
    @property
    def has_clean(self) -> bool: ...
    def export(self, order: ClipOrder) -> ExportJob: ...
    def export_moment(self, index: int, order: ClipOrder) -> ExportJob: ...
    def clean_line(self) -> str: ...
    def cancel(self, job_id: int) -> bool: ...
    def on_update(self, listener: object) -> None: ...


class ExportUpdates(QObject):
    """Export statuses from the booth-export worker, onto the GUI thread."""

    updated = Signal(object)  # ExportStatus

    def publish(self, status: ExportStatus) -> None:
        self.updated.emit(status)


class ClipPanel(QWidget):
    export_requested = Signal(object)  # ClipOrder
    cancel_requested = Signal(int)
    open_folder_requested = Signal(object)  # Path

    def __init__(self, defaults: ClipsConfig, has_clean: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clipPanel")
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(3.0, 90.0)
        self.seconds.setDecimals(0)
        self.seconds.setSuffix(" s")
        self.seconds.setValue(defaults.seconds)
        self.seconds.setToolTip("How much of the last moments the clip takes")
        self.preset = QComboBox()
        for key, preset in PRESETS.items():
            self.preset.addItem(preset.label, key)
        self.preset.setCurrentIndex(max(0, self.preset.findData(defaults.preset)))
        self.framing = QComboBox()
        for framing in VERTICAL_FRAMINGS:
            self.framing.addItem(FRAMING_LABELS[framing], framing.value)
        self.framing.setCurrentIndex(max(0, self.framing.findData(defaults.framing.value)))
        self.focus_x = defaults.focus
        self.focus_left = QPushButton("◀")
        self.focus_right = QPushButton("▶")
        self.focus_label = QLabel("")
        self.focus_left.clicked.connect(lambda: self._nudge(-1))
        self.focus_right.clicked.connect(lambda: self._nudge(1))
        self.clean = QCheckBox("clean (without the overlay)")
        self.clean.setChecked(defaults.clean and has_clean)
        self.clean.setEnabled(has_clean)
        if not has_clean:
            self.clean.setToolTip("The clean feed is off: set clean = true in [clips]")
        self.around_moment = QCheckBox("around the selected moment (list above) instead of the last seconds")
        self.caption = QLineEdit(defaults.caption)
        self.caption.setPlaceholderText("caption / hook burned into the clip (optional)")
        self.caption.setMaxLength(200)
        self.export_button = QPushButton("EXPORT CLIP  (Shift+C)")
        self.export_button.setObjectName("exportClip")
        self.export_button.clicked.connect(self._on_export_clicked)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.status_label = QLabel("")
        self.status_label.setObjectName("status")
        self.status_label.setWordWrap(True)
        self.cancel_button = QPushButton("CANCEL")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.folder_button = QPushButton("OPEN FOLDER")
        self.folder_button.setEnabled(False)
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.shown: ExportStatus | None = None  # the export the progress bar follows
        self.clean_label = QLabel("")
        self.clean_label.setObjectName("status")

        # Buttons and choices never take the keyboard (as everywhere in Booth); only the two fields that
        # are typed into do, and they live in the tech lead's window, away from the host's sell keys.
        for widget in (self.preset, self.framing, self.clean, self.around_moment, self.focus_left, self.focus_right,
                       self.export_button, self.cancel_button, self.folder_button):  # fmt: skip
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        form = QGridLayout()
        form.addWidget(QLabel("last"), 0, 0)
        form.addWidget(self.seconds, 0, 1)
        form.addWidget(self.preset, 0, 2)
        form.addWidget(self.framing, 1, 0, 1, 2)
        focus = QHBoxLayout()
        focus.addWidget(self.focus_left)
        focus.addWidget(self.focus_label)
        focus.addWidget(self.focus_right)
        form.addLayout(focus, 1, 2)
        form.addWidget(self.clean, 2, 0, 1, 3)
        form.addWidget(self.around_moment, 3, 0, 1, 3)
        form.addWidget(self.caption, 4, 0, 1, 3)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        buttons.addWidget(self.folder_button, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(QLabel("SHORT-FORM CLIP"))
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.clean_label)
        self.preset.currentIndexChanged.connect(lambda _i: self._show_focus())
        self.framing.currentIndexChanged.connect(lambda _i: self._show_focus())
        self._show_focus()

    # -- what the host set -------------------------------------------------------------------

    def order(self) -> ClipOrder:
        return ClipOrder(
            seconds=self.seconds.value(), preset=str(self.preset.currentData()),
            framing=Framing(str(self.framing.currentData())), focus_x=self.focus_x,
            clean=self.clean.isChecked(), caption=self.caption.text().strip(),
        )  # fmt: skip

    def _nudge(self, steps: int) -> None:
        self.focus_x = nudge_focus(self.focus_x, steps)
        self._show_focus()

    def _show_focus(self) -> None:
        vertical = PRESETS[str(self.preset.currentData())].aspect.value == "9:16"
        crop = vertical and self.framing.currentData() == Framing.CROP.value
        self.framing.setEnabled(vertical)
        for widget in (self.focus_left, self.focus_right, self.focus_label):
            widget.setEnabled(crop)
        self.focus_label.setText(f"focus {self.focus_x:.0%}")

    def _on_export_clicked(self) -> None:
        self.export_requested.emit(self.order())

    def _on_cancel_clicked(self) -> None:
        if self.shown is not None and not self.shown.finished:
            self.cancel_requested.emit(self.shown.job_id)

    def _on_folder_clicked(self) -> None:
        if self.shown is not None and self.shown.folder is not None:
            self.open_folder_requested.emit(self.shown.folder)

    # -- what the export worker says ---------------------------------------------------------

    def show_export(self, status: ExportStatus) -> None:
        """The newest export's progress (an older job's late update does not take the bar back)."""
        if self.shown is not None and status.job_id < self.shown.job_id:
            return
        self.shown = status
        self.progress.setValue(round(status.fraction * 100))
        running = status.state in (JobState.QUEUED, JobState.RUNNING)
        self.cancel_button.setEnabled(running)
        self.folder_button.setEnabled(status.folder is not None and (status.state is JobState.DONE or running))
        text = status.message or f"{status.label}: {status.state.value}"
        if running and status.fraction > 0:
            text = f"{status.label}: {status.fraction:.0%}"
        self.status_label.setText(text)
        self.status_label.setProperty("severity", "error" if status.state is JobState.FAILED else "info")
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)

    def set_clean_line(self, text: str) -> None:
        self.clean_label.setText(text)
        self.clean_label.setVisible(bool(text))

    @property
    def folder(self) -> Path | None:
        return self.shown.folder if self.shown is not None else None


def open_folder(folder: Path) -> None:
    """The result's folder in the desktop's file manager (it starts its own process; never waits)."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
