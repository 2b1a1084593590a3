"""A small audio meter for the host: is the microphone alive, too quiet, clipping? One glance.

Fed from `MicMonitor.status()` (a lock and a dataclass: cheap) on the window's meter timer.
Green up to −12 dBFS, amber to −3, red above; the thin tick is the peak hold. Without a
microphone it says so in words instead of showing an empty bar.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from booth.core.health.meter import MicState, MicStatus
from booth.ui.theme import PALETTE

FLOOR_DB = -60.0
AMBER_DB = -12.0
RED_DB = -3.0


def _share(dbfs: float) -> float:
    return min(1.0, max(0.0, (dbfs - FLOOR_DB) / -FLOOR_DB))


class MicMeter(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("micMeter")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(18)
        self._status: MicStatus | None = None
        self.text = "MIC —"

    def sizeHint(self) -> QSize:
        return QSize(200, 18)

    def set_status(self, status: MicStatus | None) -> None:
        self._status = status
        if status is None or status.state in (MicState.DISABLED, MicState.NO_AUDIO, MicState.NO_DEVICE):
            self.text = "NO MIC"
        elif status.state is MicState.LOST:
            self.text = "MIC LOST"
        elif status.state is not MicState.LIVE or status.meter is None:
            self.text = "MIC …"
        else:
            peak = round(status.meter.peak_dbfs) or 0  # never "-0 dB"
            self.text = f"MIC {peak} dB" + (" CLIP" if status.meter.clipping else "")
        self.setToolTip(self.text if status is None else f"{self.text}: {status.detail or status.device or ''}")
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = painter.font()
        font.setPixelSize(13)
        font.setBold(True)
        painter.setFont(font)
        label_w = painter.fontMetrics().horizontalAdvance("MIC −60 dB CLIP") + 8
        rect = self.rect()
        painter.setPen(QColor(PALETTE.muted))
        painter.drawText(rect.adjusted(0, 0, -(rect.width() - label_w), 0),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.text)
        bar = QRectF(rect.left() + label_w, rect.top() + 3, rect.width() - label_w, rect.height() - 6)
        meter = self._status.meter if self._status is not None and self._status.state is MicState.LIVE else None
        if meter is None:  # no bar at all rather than an empty one that looks like silence
            painter.end()
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(PALETTE.neutral))
        painter.drawRoundedRect(bar, 3, 3)
        if meter is not None:
            colour = PALETTE.red if meter.peak_dbfs > RED_DB else PALETTE.amber if meter.peak_dbfs > AMBER_DB \
                else PALETTE.green
            painter.setBrush(QColor(colour))
            painter.drawRoundedRect(QRectF(bar.left(), bar.top(), bar.width() * _share(meter.peak_dbfs),
                                           bar.height()), 3, 3)
            hold_x = bar.left() + bar.width() * _share(meter.hold_dbfs)
            painter.setBrush(QColor(PALETTE.text))
            painter.drawRect(QRectF(hold_x - 1, bar.top(), 2, bar.height()))
        painter.end()
