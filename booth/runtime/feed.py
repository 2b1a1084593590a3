"""Newest-frame-wins handoff between two threads.

A producer never waits and never queues: a new item replaces an unread one, which
is counted as dropped. A slow reader therefore sees at most one frame of lag, where a
queued signal per frame builds up seconds of it.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class FrameSlot(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._seq = 0  # how many items were ever put
        self._taken_seq = 0
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._seq > self._taken_seq and self._item is not None:
                self.dropped += 1
            self._item = item
            self._seq += 1
            self._cond.notify_all()

    @property
    def seq(self) -> int:
        with self._cond:
            return self._seq

    def latest(self) -> tuple[int, T | None]:
        """The newest item and its sequence number, marking it read."""
        with self._cond:
            self._taken_seq = self._seq
            return self._seq, self._item

    def wait_newer(self, after_seq: int, timeout: float) -> tuple[int, T] | None:
        """Wait up to `timeout` s for an item newer than `after_seq`; None if none came."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._seq > after_seq, timeout=max(0.0, timeout)):
                return None
            self._taken_seq = self._seq
            assert self._item is not None
            return self._seq, self._item
