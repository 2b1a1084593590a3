"""Sticker codes at the stall: a USB scanner is a keyboard ("keyboard wedge") that types the code in a
burst and presses Enter; the host types one in a small box (R).

The host's keys are shortcuts (T starts the timer, 2 features product 2, K shows the keys…), and a code
is made of exactly those letters and digits, so a scan must never reach the shortcuts. A scanner types
far faster than a person: `WedgeDecoder` holds a letter or digit back for `BURST_GAP_S`; another one
within that gap makes it a burst (a code), which ends with Enter; a lone key is handed on to its
shortcut once the gap has passed (the host's letter and digit keys answer ≈ 60 ms later, Space and Enter
still sell at once). A burst that ends without Enter was not a code and is dropped, with a sentence.
Scanners set to type slower than one character per 50 ms are not recognised: use R and type or paste.

`CodeCatcher` is the Qt side: an application event filter that takes such keys before the shortcuts
see them, while the host's window has the keyboard.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

BURST_GAP_S = 0.05  # USB scanners type a character every 2–20 ms; a person needs well over 50 ms
MIN_CODE_CHARS = 10  # a burst this long ending in Enter is a code (16 characters, 19 with dashes)
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


@dataclass(frozen=True)
class WedgeAction:
    kind: str  # "replay" (a lone key for its shortcut), "code" (a scanned code), "dropped" (a burst, no Enter), "enter"
    text: str = ""


class WedgeDecoder:
    """Pure: key characters with their times in, actions out (time injected)."""

    def __init__(self, gap_s: float = BURST_GAP_S, min_chars: int = MIN_CODE_CHARS) -> None:
        self.gap_s = gap_s
        self.min_chars = min_chars
        self._buffer = ""
        self._last_at = 0.0

    @property
    def active(self) -> bool:
        return bool(self._buffer)

    @staticmethod
    def takes(char: str) -> bool:
        return len(char) == 1 and char.upper() in _CODE_CHARS

    def key(self, char: str, now: float) -> list[WedgeAction]:
        actions = self.expire(now)
        self._buffer += char
        self._last_at = now
        return actions

    def enter(self, now: float) -> list[WedgeAction]:
        """Enter while characters are held: a code if the burst was long enough, else the keys, then Enter."""
        if len(self._buffer) >= self.min_chars and now - self._last_at <= 2 * self.gap_s:
            code, self._buffer = self._buffer, ""
            return [WedgeAction("code", code)]
        return [*self._flush(), WedgeAction("enter")]

    def expire(self, now: float) -> list[WedgeAction]:
        """What the held characters mean once no other one followed within the gap."""
        if self._buffer and now - self._last_at > self.gap_s:
            return self._flush()
        return []

    def _flush(self) -> list[WedgeAction]:
        held, self._buffer = self._buffer, ""
        if not held:
            return []
        if len(held) == 1:
            return [WedgeAction("replay", held)]
        return [WedgeAction("dropped", held)]


class CodeCatcher(QObject):
    """Takes letter and digit keys meant for the host's window before its shortcuts do (see the module)."""

    def __init__(self, window: QWidget, on_code: Callable[[str], None], replay: Callable[[str], None],
                 enter: Callable[[], None], dropped: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        super().__init__(window)
        self._window = window
        self._on_code, self._replay, self._enter, self._dropped = on_code, replay, enter, dropped
        self._clock = clock
        self.decoder = WedgeDecoder()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expired)

    def stop(self) -> None:
        self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) or not isinstance(event, QKeyEvent):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False  # another window (the tech lead's, a dialog): its own keys
        if not self._wants(event):
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()  # no shortcut for this key: it comes back as a key press, below
            return True
        now = self._clock()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._run(self.decoder.enter(now))
        elif not event.isAutoRepeat():
            # The case says whether Shift was held (not Caps Lock): a lone Shift+C is the 9:16 clip, not C.
            shifted = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._run(self.decoder.key(event.text().upper() if shifted else event.text().lower(), now))
            self._timer.start(round(self.decoder.gap_s * 1000) + 10)
        return True

    def _wants(self, event: QKeyEvent) -> bool:
        modifiers = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        if modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return self.decoder.active  # Enter ends a burst; otherwise it sells, as always
        return self.decoder.takes(event.text())

    def _expired(self) -> None:
        self._run(self.decoder.expire(self._clock()))

    def _run(self, actions: list[WedgeAction]) -> None:
        for action in actions:
            if action.kind == "code":
                self._timer.stop()
                self._on_code(action.text.upper())
            elif action.kind == "replay":
                self._replay(action.text)  # "c", or "C" when Shift was held (the host's Shift+C)
            elif action.kind == "dropped":
                self._dropped(action.text.upper())
            elif action.kind == "enter":
                self._enter()
