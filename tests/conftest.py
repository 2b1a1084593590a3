"""Shared test setup: offscreen Qt, no leaked threads, helpers for real senders on 127.0.0.1."""

from __future__ import annotations

import os

# Before any Qt import: no display in CI, and never inherit opencv's Qt 5 plugin path. The offscreen
# screens are the laptops and the monitor the host's window must fit (tests/screens.json), side by side.
os.environ["QT_QPA_PLATFORM"] = "offscreen:configfile=" + os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "screens.json"
)
os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from booth.devices.sources import SourceError
from tests.leaks import TimerWatch


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Every booth-* thread a test starts must be stopped and joined by the end of it."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [
            t.name for t in threading.enumerate()
            if t.name.startswith("booth-") and t.ident not in before and t.is_alive()
        ]  # fmt: skip
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.02)  # bounded: waiting for threads that are already stopping to finish
    assert not leaked, f"test leaked threads: {leaked}"


@pytest.fixture(autouse=True)
def no_leaked_qtimers(monkeypatch) -> Iterator[None]:
    """Every QTimer a test starts must be stopped (or deleted) by the end of it: a timer left
    running would keep calling into parts that were stopped (napari's leak checks do the same)."""
    watch = TimerWatch(monkeypatch)
    yield
    leaked = watch.stop_leaked()
    assert not leaked, f"test leaked running timers: {leaked}"


class SolidSource:
    """A camera at the device seam: solid colour frames at a fixed rate (paced by capture).

    A 64×64 block in the top-right corner blinks between black and grey, so the picture keeps
    changing the way a real camera's does (a never-changing feed is judged frozen); the rest of
    the frame is flat, which lets tests compare the overlay pixel for pixel.
    """

    live = False

    def __init__(
        self, size: tuple[int, int] = (640, 360), fps: float = 30.0, bgr=(90, 90, 90), label: str = "test:solid"
    ) -> None:
        self.label = label
        self.nominal_fps = fps
        self._frame = np.empty((size[1], size[0], 3), np.uint8)
        self._frame[:] = bgr

        self.frames = 0
        self.unplugged = threading.Event()

    def open(self) -> None:
        if self.unplugged.is_set():
            raise SourceError(f"{self.label}: no such device (unplugged by the test)")

    def read(self):
        if self.unplugged.is_set():
            raise SourceError(f"{self.label}: unplugged by the test")
        frame = self._frame.copy()
        frame[:64, -64:] = 128 if self.frames % 2 else 0
        self.frames += 1
        return frame

    def close(self) -> None:
        pass


@pytest.fixture
def solid_source() -> SolidSource:
    return SolidSource()
