"""The tech-lead's Connect tab: how phones, buttons and OBS reach this Booth.

- the phone remote as a QR code (its link carries the token in the #fragment), for a phone on
  the same network; when Booth listens only on this machine it says how to let a phone in;
- the OBS overlay's link and the API's address, each with a COPY button;
- the token itself, masked (two ends shown, enough to tell two apart), with COPY: the full token
  goes to the clipboard, never onto the screen.

Pure view over a `ConnectInfo` read when the tab is shown (it is fixed once the API has started).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from booth.core.redact import mask


@dataclass(frozen=True)
class ConnectInfo:
    api_url: str  # http://127.0.0.1:8765
    remote_url: str  # the phone remote, token in the fragment
    overlay_url: str  # the OBS browser source, token in the fragment
    token: str
    phone_can_reach: bool  # False while the API listens on this machine only
    note: str = ""  # a sentence about how a phone gets in, when it cannot


def qr_image(text: str, scale: int = 6) -> QImage:
    """A QR code as a black-on-white image (segno; medium error correction survives a glare)."""
    code = segno.make(text, error="m")
    matrix = list(code.matrix_iter(scale=1, border=2))
    size = len(matrix)
    image = QImage(size, size, QImage.Format.Format_Grayscale8)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            image.setPixel(x, y, 0xFF000000 if dark else 0xFFFFFFFF)
    return image.scaled(size * scale, size * scale, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.FastTransformation)  # fmt: skip


class ConnectPanel(QWidget):
    def __init__(self, info: Callable[[], ConnectInfo | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectPanel")
        self._info = info
        self._shown: ConnectInfo | None = None
        self.heading = QLabel("PHONE REMOTE")
        self.heading.setObjectName("status")
        self.qr = QLabel("")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumHeight(200)
        self.note = QLabel("")
        self.note.setObjectName("status")
        self.note.setWordWrap(True)
        grid = QGridLayout()
        self.api_label = QLabel("")
        self.overlay_label = QLabel("")
        self.token_label = QLabel("")
        for label in (self.api_label, self.overlay_label, self.token_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.copy_overlay = self._copy_button(lambda i: i.overlay_url, "copyOverlay")
        self.copy_api = self._copy_button(lambda i: i.api_url, "copyApi")
        self.copy_token = self._copy_button(lambda i: i.token, "copyToken")
        for row, (name, label, button) in enumerate((
            ("API", self.api_label, self.copy_api),
            ("OBS overlay", self.overlay_label, self.copy_overlay),
            ("Token", self.token_label, self.copy_token),
        )):  # fmt: skip
            grid.addWidget(QLabel(name), row, 0)
            grid.addWidget(label, row, 1)
            grid.addWidget(button, row, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.qr)
        layout.addWidget(self.note)
        layout.addLayout(grid)
        layout.addStretch(1)

    def _copy_button(self, part: Callable[[ConnectInfo], str], name: str) -> QPushButton:
        button = QPushButton("COPY")
        button.setObjectName(name)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space always means "sell"

        def copy() -> None:
            if self._shown is not None:
                QGuiApplication.clipboard().setText(part(self._shown))

        button.clicked.connect(copy)
        return button

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # Qt override
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        info = self._info()
        if info == self._shown and info is not None:
            return
        self._shown = info
        enabled = info is not None
        for button in (self.copy_api, self.copy_overlay, self.copy_token):
            button.setEnabled(enabled)
        if info is None:
            self.qr.clear()
            self.qr.setText("The control API is not running (see the message line).")
            for label in (self.api_label, self.overlay_label, self.token_label):
                label.setText("–")
            self.note.setText("")
            return
        self.qr.setPixmap(QPixmap.fromImage(qr_image(info.remote_url)))
        self.note.setText(info.note or "Scan with the phone's camera; it opens the remote, already paired.")
        self.api_label.setText(info.api_url)
        self.overlay_label.setText(info.overlay_url.split("#", 1)[0] + "#token=" + mask(info.token))
        self.token_label.setText(mask(info.token))
