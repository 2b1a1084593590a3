"""The drop clock: closes the offer at its deadline, with a screen or without one."""

from __future__ import annotations

from booth.drop.controller import DropController
from booth.runtime.worker import RunsOnWorker, Worker, every

TICK_S = 0.1  # the offer closes within 0.1 s of its deadline


class DropClock(RunsOnWorker):
    def __init__(self, controller: DropController, tick_s: float = TICK_S) -> None:
        self._worker = Worker("booth-drop-clock", every(tick_s, controller.tick), "Offer timer")
