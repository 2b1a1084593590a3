"""A mark burned into every program frame, whatever the overlay says: "REHEARSAL" on a red plate,
top centre, so a recording or a clip of a rehearsal can never be taken for a live drop.

Rendered once (QPainter on a QImage, safe off the GUI thread), pasted per frame (≈ 0.05 ms).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from booth.core.frames import Pixels
from booth.core.overlay import RED, SAFE_MARGIN
from booth.video.overlay_render import overlay_fonts

MARK_TEXT = 0.06  # font pixel size / frame height


class MarkRenderer:
    def __init__(self, frame_size: tuple[int, int], text: str) -> None:
        self._w, self._h = frame_size
        self.text = text
        font = QFont(overlay_fonts()[0])
        font.setPixelSize(max(10, round(self._h * MARK_TEXT)))
        font.setBold(True)
        font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 115)
        metrics = QFontMetrics(font)
        pad = max(4, round(self._h * 0.015))
        box_w, box_h = metrics.horizontalAdvance(text) + 4 * pad, metrics.height() + 2 * pad
        self._image = QImage(box_w, box_h, QImage.Format.Format_ARGB32_Premultiplied)
        self._image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(self._image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(RED[0], RED[1], RED[2], 230))
        painter.drawRoundedRect(QRectF(0, 0, box_w, box_h), pad, pad)
        painter.setPen(QColor(255, 255, 255))
        painter.setFont(font)
        painter.drawText(QRectF(0, 0, box_w, box_h), Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
        self._pos = QPoint(max(0, (self._w - box_w) // 2), round(self._h * SAFE_MARGIN))

    @property
    def box(self) -> tuple[int, int, int, int]:
        """Where the mark is burned: x, y, width, height in program pixels."""
        return self._pos.x(), self._pos.y(), self._image.width(), self._image.height()

    def burn(self, pixels: Pixels) -> None:
        target = QImage(pixels.data, self._w, self._h, pixels.strides[0], QImage.Format.Format_RGB32)
        painter = QPainter(target)
        painter.drawImage(self._pos, self._image)
        painter.end()
