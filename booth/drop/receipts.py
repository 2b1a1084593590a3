"""Receipts: what a keyed request (one with an idempotency key) produced, so a retry gets the same answer.

A remote caller that timed out cannot know whether its sale counted; it sends the same request again
with the same key. The drop controller keeps one `Receipt` per key: the event the first attempt was
decided into (pending until the journal commits or fails it) or the refusal it got. A retry is handed
the receipt instead of being decided again, so it never sells twice.

- committed: the event is on disk; `left` is the product's stock right after it (what the first
  answer said). Rebuilt from the session log on resume, so this holds across a kill -9 too.
- failed: the journal could not store the event, nothing was applied; the key is forgotten, so a
  retry is decided afresh.
- refused: the drop said no and nothing changed; kept in memory only (after a restart the same
  request is simply decided again — it changes nothing if it is still refused).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from booth.core.drop import Refusal
from booth.core.events import DropEvent, Request


class Receipt:
    def __init__(self, request: Request, event: DropEvent | None = None, refusal: Refusal | None = None) -> None:
        self.request = request
        self.event = event
        self.refusal = refusal
        self.left: int | None = None  # stock of the event's product right after it
        self.failed: str | None = None  # why the journal could not store it
        self._lock = threading.Lock()
        self._settled = refusal is not None
        self._waiters: list[Callable[[Receipt], None]] = []

    @property
    def key(self) -> str:
        return self.request.key

    @property
    def digest(self) -> str:
        return self.request.digest

    @property
    def settled(self) -> bool:
        with self._lock:
            return self._settled

    @property
    def committed(self) -> bool:
        return self.settled and self.event is not None and self.failed is None

    def when_settled(self, callback: Callable[[Receipt], None]) -> None:
        """`callback(self)` once committed, failed or refused: now, or later on the journal's thread."""
        with self._lock:
            if not self._settled:
                self._waiters.append(callback)
                return
        callback(self)

    def commit(self, left: int | None) -> None:
        self.left = left
        self._settle()

    def fail(self, reason: str) -> None:
        self.failed = reason
        self._settle()

    def _settle(self) -> None:
        with self._lock:
            self._settled = True
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter(self)
