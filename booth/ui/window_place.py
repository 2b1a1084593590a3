"""Where windows open: maximised on the screen they open on, or where they were last time.

Geometry is remembered with QSettings (a few bytes, read at start-up and written when Booth
quits). A remembered place that no longer fits any screen (the big monitor is gone) is ignored.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSettings, Qt
from PySide6.QtGui import QCursor, QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget


def opening_screen() -> QScreen:
    """The screen a new window opens on: the one with the mouse pointer, as window managers do."""
    return QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()


def restore_geometry(window: QWidget, settings: QSettings | None, key: str) -> bool:
    """Put `window` where it was; False (nothing changed) when there is no usable memory of it."""
    if settings is None:
        return False
    saved = settings.value(key)
    if not isinstance(saved, QByteArray | bytes) or not saved:
        return False
    before = window.geometry()
    if not window.restoreGeometry(QByteArray(saved)):
        return False
    if not any(s.availableGeometry().intersects(window.geometry()) for s in QGuiApplication.screens()):
        window.setGeometry(before)
        return False
    return True


def save_geometry(window: QWidget, settings: QSettings | None, key: str) -> None:
    if settings is not None and window.isVisible():
        settings.setValue(key, window.saveGeometry())


def fit_into(rect: QRect, area: QRect) -> QRect:
    """`rect` moved (and shrunk if need be) to lie inside `area`."""
    width, height = min(rect.width(), area.width()), min(rect.height(), area.height())
    x = min(max(rect.x(), area.x()), area.right() - width + 1)
    y = min(max(rect.y(), area.y()), area.bottom() - height + 1)
    return QRect(x, y, width, height)


def show_maximised_on(window: QWidget, screen: QScreen) -> None:
    """Maximised on `screen` (not wherever the platform puts a new window)."""
    area = screen.availableGeometry()
    window.setScreen(screen)
    window.move(area.topLeft())
    window.resize(min(window.width(), area.width()), min(window.height(), area.height()))
    window.showMaximized()


def show_where_it_was(window: QWidget, settings: QSettings | None, key: str) -> None:
    """Where it was last time, or maximised on the screen it opens on."""
    if restore_geometry(window, settings, key):
        if window.windowState() & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
            window.show()
            return
        screen = window.screen() or opening_screen()
        window.setGeometry(fit_into(window.geometry(), screen.availableGeometry()))
        window.show()
        return
    show_maximised_on(window, opening_screen())
