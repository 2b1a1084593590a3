"""The tech lead's window: rig health, output, sources and every message, in full.

Its own window, never a part of the host's: opening it cannot shrink the preview or widen the
host's window. It opens over the preview, leaving the buttons and the message lines in view, and
can be dragged to a second screen: where it was is where it opens next time. H toggles it from
either window; it opens without taking the keyboard from the host, so Space still sells. More tabs
can be added (`add_tab`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QRect, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence, QScreen, QShortcut
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from booth.ui.theme import PALETTE
from booth.ui.window_place import restore_geometry, save_geometry

MESSAGES_KEPT = 500
GEOMETRY_KEY = "techLead/geometry"
_SEVERITY_COLOURS = {"error": PALETTE.red, "warn": PALETTE.amber, "ok": PALETTE.green, "info": PALETTE.text}


class MessageLog(QListWidget):
    """Every message the host's line showed, whole, newest first (the line itself cuts long ones)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setObjectName("messageLog")
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    def add(self, text: str, severity: str, wall: float | None = None) -> None:
        if self.count() and self.item(0).data(Qt.ItemDataRole.UserRole) == (text, severity):
            return  # the same standing line again: once is enough
        stamp = time.strftime("%H:%M:%S", time.localtime(wall if wall is not None else time.time()))
        item = QListWidgetItem(f"{stamp}  {text}")
        item.setData(Qt.ItemDataRole.UserRole, (text, severity))
        item.setForeground(QColor(_SEVERITY_COLOURS.get(severity, PALETTE.text)))
        item.setToolTip(text)
        self.insertItem(0, item)
        while self.count() > MESSAGES_KEPT:
            self.takeItem(self.count() - 1)

    def texts(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole)[0] for i in range(self.count())]


class TechLeadWindow(QWidget):
    def __init__(
        self, host: QWidget, settings: QSettings | None = None, cover: Callable[[], QRect] | None = None
    ) -> None:
        super().__init__(host, Qt.WindowType.Window)
        self.setObjectName("techLead")
        self.setWindowTitle("Booth — tech lead")
        # Opening it must not take the keyboard from the host: Space still sells, H still closes it.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self._host = host
        self._settings = settings
        self._cover = cover  # where it opens on the host's screen: over the preview, not the buttons
        self._placed = False
        self.tabs = QTabWidget()
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.tabs.setDocumentMode(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.tabs)
        self.setMinimumSize(480, 400)

    def add_tab(self, widget: QWidget, title: str) -> int:
        """Another page (the control API's connection panel, …); returns its index. A page taller
        than the window scrolls rather than being cut."""
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(widget)
        return self.tabs.addTab(scroll, title)

    def page(self, index: int) -> QWidget:
        """The widget of tab `index` (inside its scroll area)."""
        scroll = self.tabs.widget(index)
        assert isinstance(scroll, QScrollArea)
        return scroll.widget()

    def add_shortcut(self, key: str, handler) -> None:  # type: ignore[no-untyped-def]
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(handler)

    def toggle(self) -> None:
        if self.isVisible():
            self.hide()
        else:
            self.open()

    def open(self) -> None:
        if self._placed or restore_geometry(self, self._settings, GEOMETRY_KEY):
            self._placed = True
            self.show()
            self.raise_()
            return
        self._placed = True
        host_screen = self._host.screen() or QGuiApplication.primaryScreen()
        area = _right_part(host_screen)
        if self._cover is not None:
            covered = self._cover().intersected(host_screen.availableGeometry())
            if covered.width() >= self.minimumWidth() and covered.height() >= self.minimumHeight():
                area = covered
        self.resize(area.size())
        self.move(area.topLeft())
        self.show()
        self.raise_()
        # The window manager adds its frame after showing (how soon varies): shrink so the frame, not
        # only the inside, fits the area. Idempotent, so doing it twice costs nothing.
        for delay_ms in (0, 150, 600):
            QTimer.singleShot(delay_ms, self, lambda: self.setGeometry(_inside_frame(self, area)))

    def remember(self) -> None:
        """Keep its place for next time (the host window calls this as Booth quits)."""
        save_geometry(self, self._settings, GEOMETRY_KEY)


def _inside_frame(window: QWidget, area: QRect) -> QRect:
    """The client geometry that puts `window`'s frame exactly on `area`."""
    frame, client = window.frameGeometry(), window.geometry()
    left, top = client.x() - frame.x(), client.y() - frame.y()
    right, bottom = frame.right() - client.right(), frame.bottom() - client.bottom()
    return QRect(area.x() + left, area.y() + top, area.width() - left - right, area.height() - top - bottom)


def _right_part(screen: QScreen) -> QRect:
    area = screen.availableGeometry()
    width = max(520, min(900, area.width() * 11 // 20))
    return QRect(area.right() - width + 1, area.top(), width, area.height())
