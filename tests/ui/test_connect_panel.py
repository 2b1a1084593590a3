"""The tech-lead's Connect tab: a QR code a phone can scan, links for OBS, the token masked with COPY."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QGuiApplication, QImage

from booth.app.control_api import add_control_api
from booth.app.gui import build_window
from booth.app.options import Options
from booth.app.root import build_booth
from booth.core.config import ProgramConfig, demo_config
from booth.ops.metrics import MetricsSources
from booth.ui.connect_panel import qr_image
from tests.conftest import SolidSource


@pytest.fixture
def window(qtbot, tmp_path):
    config = type(demo_config())(drop=demo_config().drop, program=ProgramConfig(640, 360, 30))
    booth = build_booth(config, source=SolidSource((640, 360)))
    booth.api = add_control_api(booth.lifecycle, booth.problems, Options(api_port=0, data_dir=tmp_path / "data"),
                                booth.controller, None, MetricsSources(drop=booth.controller.view),
                                sources=booth.switcher)  # fmt: skip
    built = build_window(booth)
    qtbot.addWidget(built)
    booth.start()
    yield booth, built
    built.close()
    booth.stop()


def decode_qr(image: QImage) -> str:
    """What a scanner reads. OpenCV's ArUco-based detector: the classic one misses about 2 random tokens in 100."""
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    text, _points, _code = cv2.QRCodeDetectorAruco().detectAndDecode(np.ascontiguousarray(pixels[:, : image.width()]))
    return text


def test_the_connect_tab_pairs_a_phone_by_qr_and_never_shows_the_token(window, qtbot) -> None:
    booth, main = window
    tabs = main.tech.tabs  # the tech lead's own window
    names = [tabs.tabText(i) for i in range(tabs.count())]
    assert "Connect" in names
    panel = main.tech.page(names.index("Connect"))
    main.show()
    main.toggle_health()
    tabs.setCurrentIndex(names.index("Connect"))
    qtbot.waitUntil(lambda: panel.qr.pixmap() is not None and not panel.qr.pixmap().isNull(), timeout=5000)

    token = booth.api.token
    assert decode_qr(panel.qr.pixmap().toImage()) == f"http://127.0.0.1:{booth.api.port}/remote#token={token}"
    assert token not in panel.token_label.text() and token not in panel.overlay_label.text()
    assert panel.token_label.text() == f"{token[:3]}…{token[-2:]}"
    assert "--api-host" in panel.note.text()  # loopback only: it says how to let a phone in
    panel.copy_token.click()
    assert QGuiApplication.clipboard().text() == token  # the full token, to the clipboard only
    panel.copy_overlay.click()
    assert QGuiApplication.clipboard().text() == f"http://127.0.0.1:{booth.api.port}/overlay#token={token}"


def test_a_qr_code_decodes_to_what_it_was_made_from(qapp) -> None:
    url = "http://127.0.0.1:8765/remote#token=" + "x" * 43
    assert decode_qr(qr_image(url)) == url
