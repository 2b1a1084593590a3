"""Draws the overlay model into an image once per change; pasting it costs ~0.07 ms a frame.

QPainter on a QImage is safe off the GUI thread (QPixmap is not), so the compositor
thread renders and burns the overlay itself.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QImage, QPainter

from booth.core.frames import Pixels
from booth.core.overlay import BIG_TEXT, NAME_TEXT, PLATE_ALPHA, RED, WHITE, OverlayModel, anchor_point
from booth.resources import resource

log = logging.getLogger(__name__)

_fonts_lock = threading.Lock()
_families: tuple[str, str] | None = None


def overlay_fonts() -> tuple[str, str]:
    """Load the bundled fonts once: deterministic metrics on every laptop and in CI."""
    global _families
    with _fonts_lock:
        if _families is None:
            names = []
            for file, fallback in (("DejaVuSans-Bold.ttf", "Sans Serif"), ("DejaVuSansMono-Bold.ttf", "Monospace")):
                font_id = QFontDatabase.addApplicationFont(str(resource("fonts", file)))
                families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
                if not families:
                    log.warning("bundled font %s could not be loaded; using %s", file, fallback)
                names.append(families[0] if families else fallback)
            _families = (names[0], names[1])
        return _families


def _qcolor(rgb: tuple[int, int, int], alpha: float = 1.0) -> QColor:
    return QColor(rgb[0], rgb[1], rgb[2], round(alpha * 255))


class OverlayRenderer:
    """Caches the rendered overlay by model: a 90 s countdown re-renders 90 times, not 2,700."""

    def __init__(self, frame_size: tuple[int, int]) -> None:
        self._w, self._h = frame_size
        self._model: OverlayModel | None = None
        self._image: QImage | None = None
        self._pos = QPoint(0, 0)
        sans, mono = overlay_fonts()
        self._name_font = self._font(sans, NAME_TEXT)
        self._big_font = self._font(sans, BIG_TEXT)
        self._clock_font = self._font(mono, BIG_TEXT)
        self.renders = 0

    def _font(self, family: str, fraction: float) -> QFont:
        font = QFont(family)
        font.setPixelSize(max(8, round(self._h * fraction)))
        font.setBold(True)
        return font

    def image_for(self, model: OverlayModel) -> tuple[QImage, QPoint]:
        if model != self._model or self._image is None:
            self._image, self._pos = self._render(model)
            self._model = model
            self.renders += 1
        return self._image, self._pos

    def burn(self, pixels: Pixels, model: OverlayModel) -> None:
        """Paint the overlay into a BGRA program frame in place."""
        image, pos = self.image_for(model)
        target = QImage(pixels.data, self._w, self._h, pixels.strides[0], QImage.Format.Format_RGB32)
        painter = QPainter(target)
        painter.drawImage(pos, image)
        painter.end()

    def _render(self, m: OverlayModel) -> tuple[QImage, QPoint]:
        name_fm, big_fm, clock_fm = QFontMetrics(self._name_font), QFontMetrics(self._big_font), QFontMetrics(
            self._clock_font
        )
        pad = round(self._h * 0.02)
        gap = round(self._h * 0.04)
        left_w = max(name_fm.horizontalAdvance(m.product), big_fm.horizontalAdvance(m.stock_text) + pad)
        right_w = max(name_fm.horizontalAdvance(m.timer_label), clock_fm.horizontalAdvance(m.timer_text))
        max_w = round(self._w * 0.9) - 2 * pad
        left_w = min(left_w, max_w - right_w - gap)
        box_w = 2 * pad + left_w + gap + right_w
        box_h = 2 * pad + name_fm.height() + big_fm.height()

        image = QImage(box_w, box_h, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        p = QPainter(image)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, round(PLATE_ALPHA * 255)))
        p.drawRoundedRect(QRectF(0, 0, box_w, box_h), pad, pad)

        row1 = pad
        row2 = pad + name_fm.height()
        right_x = pad + left_w + gap
        self._text(p, self._name_font, WHITE, pad, row1, left_w, name_fm.height(), m.product)
        if m.stock_text == "SOLD OUT":
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(_qcolor(RED))
            p.drawRoundedRect(
                QRectF(pad - pad / 2, row2, big_fm.horizontalAdvance(m.stock_text) + pad, big_fm.height()), 6, 6
            )
            self._text(p, self._big_font, WHITE, pad, row2, left_w, big_fm.height(), m.stock_text, shadow=False)
        else:
            self._text(p, self._big_font, m.stock_colour, pad, row2, left_w, big_fm.height(), m.stock_text)
        self._text(p, self._name_font, m.timer_colour, right_x, row1, right_w, name_fm.height(), m.timer_label)
        self._text(p, self._clock_font, m.timer_colour, right_x, row2, right_w, big_fm.height(), m.timer_text)
        p.end()
        x, y = anchor_point(m.corner, self._w, self._h, box_w, box_h)
        return image, QPoint(x, y)

    @staticmethod
    def _text(
        p: QPainter, font: QFont, rgb: tuple[int, int, int], x: int, y: int, w: int, h: int, text: str,
        shadow: bool = True,
    ) -> None:  # fmt: skip
        if not text:
            return
        p.setFont(font)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        # Qt elides text whose advance equals the width exactly; allow a few pixels of slack.
        elided = QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, w + 4)
        w += 4
        if shadow:  # a hard shadow keeps the text readable where the plate is not enough
            offset = max(2, font.pixelSize() // 24)
            p.setPen(QColor(0, 0, 0, 220))
            p.drawText(QRectF(x + offset, y + offset, w, h), flags, elided)
        p.setPen(_qcolor(rgb))
        p.drawText(QRectF(x, y, w, h), flags, elided)
