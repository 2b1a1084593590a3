"""A one-line label that never widens its window: a long text is cut with "…", whole in the tooltip.

The host's screen has fixed room for each line (a 1366×768 laptop has no spare pixel), so a
long reason must never push a column or the window wider, nor wrap into a second line that
pushes the buttons off the bottom. The full text stays available: in the tooltip here, and in
the tech lead's view, which has room for it.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None, min_chars: int = 4) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._min_chars = min_chars
        self._full = ""
        self._detail = ""  # a tooltip of its own (else the full text, when cut)
        self.set_full_text(text)

    def text(self) -> str:
        """The whole text (what is drawn may be cut: `shown_text`)."""
        return self._full

    def setText(self, text: str) -> None:
        self.set_full_text(text)

    def set_detail(self, text: str) -> None:
        """The tooltip, whether or not the text is cut (e.g. the figures behind a state)."""
        self._detail = text
        self.setToolTip(text or (self._full if self.elided else ""))

    def shown_text(self) -> str:
        return super().text()

    @property
    def elided(self) -> bool:
        return self.shown_text() != self._full

    def set_full_text(self, text: str) -> None:
        if text == self._full and self.shown_text():
            return
        self._full = text
        self._fit()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().horizontalAdvance("M" * self._min_chars), hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(min(hint.width(), 400), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().changeEvent(event)
        if event.type() in (event.Type.FontChange, event.Type.StyleChange):
            self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin() - 2
        shown = self._full
        if room > 0 and self.fontMetrics().horizontalAdvance(shown) > room:
            shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, room)
        if shown != super().text():
            super().setText(shown)
        self.setToolTip(self._detail or (self._full if shown != self._full else ""))
