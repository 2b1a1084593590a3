"""Where windows open: maximised on the screen they open on, or where they were last time.

Geometry is remembered with QSettings (a few bytes, read at start-up and written when Booth
quits). A remembered place that no longer fits any screen (the big monitor is gone) is ignored.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSettings
from PySide6.QtGui import QCursor, QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget


def opening_screen() -> QScreen:
    """The screen a new window opens on: the one with the mouse pointer, as window managers do."""
    return QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()


def remembered(settings: QSettings | None, key: str) -> tuple[QRect, bool, QScreen] | None:
    """(where, maximised, on which screen) as saved under `key`, if that place is still on a screen."""
    if settings is None:
        return None
    text = settings.value(f"{key}/rect")
    if not isinstance(text, str):
        return None
    try:
        x, y, w, h = (int(part) for part in text.split(","))
    except ValueError:
        return None
    rect = QRect(x, y, w, h)
    screen = QGuiApplication.screenAt(rect.center())
    if screen is None or w < 200 or h < 150:  # the monitor it was on is gone, or the value is nonsense
        return None
    maximised = str(settings.value(f"{key}/maximised", "false")).lower() == "true"
    return fit_into(rect, screen.availableGeometry()), maximised, screen


def restore_geometry(window: QWidget, settings: QSettings | None, key: str) -> bool:
    """Put `window` where it was (not shown yet); False (nothing changed) without a usable memory."""
    found = remembered(settings, key)
    if found is None:
        return False
    rect, _maximised, _screen = found
    window.setGeometry(rect)
    return True


def save_geometry(window: QWidget, settings: QSettings | None, key: str) -> None:
    """Its normal (not maximised) place and whether it is maximised, in plain numbers."""
    if settings is None or not window.isVisible():
        return
    rect = window.normalGeometry() if window.isMaximized() or window.isFullScreen() else window.geometry()
    settings.setValue(f"{key}/rect", f"{rect.x()},{rect.y()},{rect.width()},{rect.height()}")
    settings.setValue(f"{key}/maximised", "true" if window.isMaximized() or window.isFullScreen() else "false")


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
    found = remembered(settings, key)
    if found is None:
        show_maximised_on(window, opening_screen())
        return
    rect, maximised, screen = found
    if maximised:
        show_maximised_on(window, screen)
        return
    window.setScreen(screen)
    window.setGeometry(rect)
    window.show()
