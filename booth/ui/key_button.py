"""A big button that shows its key: the label, and under it (or at its right) the key that does the same.

The host learns the keys by seeing them where they click. The button never takes focus, so
Space and Enter always mean "sell", whatever was clicked last.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPaintEvent, QPalette
from PySide6.QtWidgets import QPushButton, QSizePolicy, QStyle, QStyleOptionButton, QStylePainter, QWidget

from booth.ui.keymap import key_hint
from booth.ui.theme import PALETTE

KEY_POINT_RATIO = 0.62  # the key's font, relative to the label's
PAINT_MARGIN = 8  # px between the button's edge and its label


class KeyButton(QPushButton):
    """`key`: what the keymap says for `action` ("Space", "T", "1"), drawn muted under the label;
    `key_side=True` draws it at the right instead (for one-line product chips)."""

    def __init__(
        self,
        text: str,
        action: str | None = None,
        slot: Callable[[], object] | None = None,
        name: str = "",
        key: str | None = None,
        key_side: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        if name:
            self.setObjectName(name)
        self.key = key if key is not None else (key_hint(action) if action else "")
        self.key_side = key_side
        self.key_colour = PALETTE.key
        self.margin_px = PAINT_MARGIN  # between the edge and the label
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        if self.key:
            self.setToolTip(f"Key: {self.key}")
        if slot is not None:
            self.clicked.connect(lambda _checked=False: slot())
        self._parts: tuple[str, str, str] | None = None  # a chip's (name, count, extra): see set_parts

    def set_parts(self, name: str, count: str, extra: str = "") -> None:
        """A product chip's label, "NAME · COUNT · EXTRA". When it does not fit, the extra goes first,
        then the name is cut: the count is what the host glances at, so it is never cut."""
        self._parts = (name, count, extra)
        text = " · ".join(part for part in (name, count, extra) if part)
        if text != self.text():
            self.setText(text)  # repaints and re-lays out

    def shown_label(self, room: int | None = None) -> str:
        """The label as drawn in `room` px (the button's own room by default)."""
        room = self._label_room() if room is None else room
        metrics = self.fontMetrics()
        if metrics.horizontalAdvance(self.text()) <= room or self._parts is None:
            return metrics.elidedText(self.text(), Qt.TextElideMode.ElideRight, room)
        name, count, _extra = self._parts
        short = f"{name} · {count}" if name else count
        if metrics.horizontalAdvance(short) <= room:
            return short
        tail = f" · {count}"
        name_room = room - metrics.horizontalAdvance(tail)
        if name_room < metrics.horizontalAdvance("MM…"):
            return metrics.elidedText(count, Qt.TextElideMode.ElideRight, room)
        return metrics.elidedText(name, Qt.TextElideMode.ElideRight, name_room) + tail

    def set_key(self, key: str) -> None:
        """Another key line (SELL says why it is off: "E reopens")."""
        if key != self.key:
            self.key = key
            self.updateGeometry()
            self.update()

    def _key_font(self) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(max(10, round(self._label_px() * KEY_POINT_RATIO)))
        font.setWeight(QFont.Weight.DemiBold)
        return font

    def _label_px(self) -> int:
        return self.font().pixelSize() if self.font().pixelSize() > 0 else 18

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        label = self.fontMetrics().horizontalAdvance(self.text()) + 2 * self.margin_px + 4
        key = QFontMetrics(self._key_font()).horizontalAdvance(self.key) if self.key else 0
        if self.key_side:
            return QSize(max(hint.width(), label + key + 20), hint.height())
        return QSize(max(hint.width(), label, key + 2 * self.margin_px + 4), hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        if self.key_side:  # a chip's label may be cut ("…"), its key never
            key_width = QFontMetrics(self._key_font()).horizontalAdvance(self.key) + 12 if self.key else 0
            return QSize(key_width + QFontMetrics(self.font()).horizontalAdvance("MMMM…"), hint.height())
        return hint

    def _label_room(self) -> int:
        area_width = self.width() - 2 * self.margin_px
        if self.key and self.key_side:
            return area_width - (QFontMetrics(self._key_font()).horizontalAdvance(self.key) + 12) - 8
        return area_width

    @property
    def label_cut(self) -> bool:
        """The label is not drawn whole (cut with "…", or a chip's extra left out), or the key does not fit."""
        room = self._label_room()
        key_width = QFontMetrics(self._key_font()).horizontalAdvance(self.key) if self.key else 0
        return self.shown_label(room) != self.text() or (not self.key_side and key_width > room)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        label = option.text
        option.text = ""
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)  # the themed background only
        area = self.rect().adjusted(self.margin_px, 3, -self.margin_px, -3)
        enabled = self.isEnabled()
        text_colour = self.palette().color(QPalette.ColorGroup.Active if enabled else QPalette.ColorGroup.Disabled,
                                           QPalette.ColorRole.ButtonText)
        key_font = self._key_font()
        key_metrics = QFontMetrics(key_font)
        if self.key and self.key_side:
            key_width = key_metrics.horizontalAdvance(self.key) + 12
            key_rect = QRect(area.right() - key_width + 1, area.top(), key_width, area.height())
            label_rect = area.adjusted(4, 0, -key_width - 4, 0)
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        elif self.key:
            key_height = key_metrics.height()
            label_rect = area.adjusted(0, 0, 0, -key_height + 3)
            key_rect = QRect(area.left(), area.bottom() - key_height + 1, area.width(), key_height)
            align = Qt.AlignmentFlag.AlignCenter
        else:
            label_rect, key_rect, align = area, QRect(), Qt.AlignmentFlag.AlignCenter
        checked = self.isCheckable() and self.isChecked()
        if checked:  # a selected state is drawn light (or amber): dark text on it
            text_colour = QColor("#111111")
        painter.setPen(text_colour)
        shown = self.shown_label(label_rect.width()) if label == self.text() else label
        painter.drawText(label_rect, align, shown)
        if self.key:
            painter.setFont(key_font)
            painter.setPen(QColor("#3a3f44" if checked else self.key_colour if enabled else PALETTE.disabled))
            painter.drawText(key_rect, Qt.AlignmentFlag.AlignCenter, self.key)
        painter.end()
