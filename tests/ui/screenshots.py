"""Screenshots of the host's screen in each state, for looking at and for the README.

Not a test (pytest does not collect it): run it on a real X display with a window manager, e.g.

    Xvfb :91 -screen 0 1366x768x24 & DISPLAY=:91 openbox & DISPLAY=:91 tint2 &
    DISPLAY=:91 .venv/bin/python -m tests.ui.screenshots /tmp/shots/1366

It drives the real window over the real object graph (program out and rig health included) with
a demo camera as the primary and a synthetic laptop camera as the secondary, and saves what the
whole screen shows — window frame and panel included — in each state.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

STATES = ("ready", "live_amber", "failover_cut", "tech_lead", "sold_out", "ended", "bad_file")
EXTRA = ("tech_sources", "tech_messages")  # --states all: these too

DROP = """
[drop]
title = "Friday tee drop"
timer_seconds = 300
last_call_seconds = 20
low_stock_at = 10
critical_stock_at = 3

[[sku]]
id = "tee-blk"
name = "TEE / BLACK"
stock = 24

[[sku]]
id = "tee-wht"
name = "TEE / WHITE"
stock = 12

[[sku]]
id = "cap"
name = "CAP / RED"
stock = 6

[failover]
return_after_seconds = 3
"""

BAD_DROP = """
[drop]
title = "Friday tee drop"
timr_seconds = 300

[[sku]]
id = "tee-blk"
name = "TEE / BLACK"
stock = -24

[program]
fps = 120
"""


class Camera:
    """A demo camera that can be unplugged (the failover shot)."""

    live = False

    def __init__(self, inner, label: str) -> None:
        self._inner = inner
        self.label = label
        self.nominal_fps = inner.nominal_fps
        self.unplugged = threading.Event()

    def open(self) -> None:
        from booth.devices.sources import SourceError

        if self.unplugged.is_set():
            raise SourceError(f"{self.label}: the phone stopped sending (connection reset by peer)")
        self._inner.open()

    def read(self):
        from booth.devices.sources import SourceError

        if self.unplugged.is_set():
            raise SourceError(f"{self.label}: the phone stopped sending (connection reset by peer)")
        return self._inner.read()

    def close(self) -> None:
        self._inner.close()


class LaptopCamera:
    """The laptop's own camera, as a second demo picture tinted warm: visibly not the phone's on
    program (and, like any live camera, changing every frame)."""

    live = False

    def __init__(self, size: tuple[int, int], fps: float) -> None:
        from booth.devices.demo import DemoSource

        self.label = "camera:laptop"
        self.nominal_fps = fps
        self._demo = DemoSource(size, fps, label=self.label)
        self._tint = np.array([0.55, 0.75, 1.0], np.float32)  # BGR: warmer, dimmer

    def open(self) -> None:
        self._demo.open()

    def read(self):
        return (self._demo.read() * self._tint).astype(np.uint8)

    def close(self) -> None:
        self._demo.close()


def wait(predicate, timeout: float, app) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the screen never got to the state wanted")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def grab(app, path: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    app.processEvents()
    pixmap = QGuiApplication.primaryScreen().grabWindow(0)
    pixmap.save(str(path))
    print(f"saved {path} ({path.stat().st_size // 1024} kB)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--states", default=",".join(STATES))
    args = parser.parse_args()
    wanted = set(STATES + EXTRA) if args.states == "all" else set(args.states.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6.QtWidgets import QApplication

    from booth.app.gui import build_window
    from booth.app.options import Options
    from booth.app.root import add_rig, build_booth
    from booth.core.config import load_config
    from booth.devices.demo import DemoSource
    from booth.ui.theme import stylesheet

    app = QApplication(sys.argv[:1])
    app.setStyleSheet(stylesheet())
    work = Path(tempfile.mkdtemp(prefix="booth-shots-"))
    (work / "drop.toml").write_text(DROP)
    config = load_config(work / "drop.toml")
    size, fps = config.program.size, config.program.fps
    primary = Camera(DemoSource(size, fps, label="srt://phone.local:9000"), "srt://phone.local:9000")
    booth = build_booth(config, source=primary, secondary_source=LaptopCamera(size, fps))
    add_rig(booth, Options(data_dir=work / "data"))
    window = build_window(booth)
    booth.start()
    try:
        window.show_on_screen()
        wait(lambda: window.view.frames_shown > 10, 20, app)
        settle(app, 20)  # rig health's first figures, and some history to plot
        c = booth.controller
        if "ready" in wanted:
            grab(app, args.out / "ready.png")
        c.start_timer()
        while c.view().sku("tee-blk").left > 8:  # amber at 10 left
            c.sell("tee-blk")
        settle(app, 1.2)
        if "live_amber" in wanted:
            grab(app, args.out / "live_amber.png")
        primary.unplugged.set()
        wait(lambda: (f := booth.program.newest()) is not None and f.source == "secondary", 10, app)
        settle(app, 0.8)
        if "failover_cut" in wanted:
            grab(app, args.out / "failover_cut.png")
        primary.unplugged.clear()
        booth.switcher.reconnect_now()
        if "tech_lead" in wanted:
            window.toggle_health()
            window.health_panel.range_box.setCurrentIndex(2)  # since start-up: the whole history
            settle(app, 2.5)
            grab(app, args.out / "tech_lead.png")
            for index, page in ((2, "tech_sources"), (3, "tech_messages")):
                if page in wanted:
                    window.tech.tabs.setCurrentIndex(index)
                    settle(app, 0.6)
                    grab(app, args.out / f"{page}.png")
            window.tech.tabs.setCurrentIndex(0)
            window.toggle_health()
        wait(lambda: booth.program.newest().source == "primary", 20, app)
        c.feature("cap")
        while c.view().sku("cap").left:
            c.sell("cap")
        settle(app, 1.2)
        if "sold_out" in wanted:
            grab(app, args.out / "sold_out.png")
        c.end_offer()
        settle(app, 1.2)
        if "ended" in wanted:
            grab(app, args.out / "ended.png")
    finally:
        window.close()
        booth.stop()
    if "bad_file" in wanted:
        from booth.app.startup import resolve_config
        from booth.ui.problems_window import ProblemsWindow

        (work / "drop.toml").write_text(BAD_DROP)
        _none, problems = resolve_config(Options(drop=work / "drop.toml"))
        problems_window = ProblemsWindow(work / "drop.toml", problems)
        problems_window.show_on_screen()
        settle(app, 1.5)
        grab(app, args.out / "bad_file.png")
        problems_window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
