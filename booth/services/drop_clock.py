"""Closes the offer when its deadline passes, even when no screen is refreshing."""

from __future__ import annotations

import threading

from booth.services.drop_controller import DropController

TICK_S = 0.1


class DropClock:
    def __init__(self, controller: DropController) -> None:
        self._controller = controller
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="booth-drop-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            self._controller.tick()
