"""A real headless browser for Booth's web pages: Debian's chromium driven by its chromedriver.

Both are Debian packages that `packaging/bootstrap.py test` installs (chromium, chromium-driver), so
Selenium never downloads a browser. Chromium runs as root in CI, hence --no-sandbox; a fresh profile
per browser; no background traffic: it only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
         "--disable-extensions", "--disable-sync", "--metrics-recording-only", "--mute-audio",
         "--no-default-browser-check", "--hide-scrollbars", "--force-color-profile=srgb"]  # fmt: skip


class Browser:
    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="booth-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.set_page_load_timeout(20)

    def emulate(self, width: int, height: int, mobile: bool = False) -> None:
        """A screen of exactly this size (a phone in portrait, an OBS browser source)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
        })  # fmt: skip
        if mobile:
            self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 1})

    def transparent(self) -> None:
        """Screenshots keep the page's alpha, as OBS composites it."""
        self.driver.execute_cdp_cmd("Emulation.setDefaultBackgroundColorOverride",
                                    {"color": {"r": 0, "g": 0, "b": 0, "a": 0}})  # fmt: skip

    def tap(self, selector: str) -> None:
        """A finger's tap on the element's centre (touch events, as on a phone)."""
        box = self.driver.execute_script(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
            "return [r.left + r.width / 2, r.top + r.height / 2];", selector)  # fmt: skip
        point = [{"x": box[0], "y": box[1]}]
        self.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
        self.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    def text(self, selector: str) -> str:
        return str(self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", selector))  # fmt: skip

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser() -> Iterator[Browser]:
    opened = Browser()
    yield opened
    opened.close()
