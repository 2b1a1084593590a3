"""Waits for a journaled event's outcome, so a caller (an HTTP request) answers only once it is on disk."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from booth.core.events import DropEvent
from booth.drop.controller import Journal


@dataclass(frozen=True)
class Outcome:
    committed: bool
    reason: str | None = None


class CommitWatch:
    """A journal wrapper that remembers each event's outcome so a caller can wait for it.

    Wrap the real journal with it before handing it to the DropController; the webhook then waits
    for the event `sell()` returned. Outcomes are kept for the last `keep` events (by identity).
    """

    def __init__(self, inner: Journal, keep: int = 10_000) -> None:
        self._inner = inner
        self._keep = keep
        self._cond = threading.Condition()
        self._outcomes: OrderedDict[int, tuple[DropEvent, Outcome]] = OrderedDict()

    def append(
        self,
        event: DropEvent,
        on_committed: Callable[[DropEvent], None],
        on_failed: Callable[[DropEvent, str], None],
    ) -> None:
        def committed(e: DropEvent) -> None:
            on_committed(e)  # the controller applies it first: /state then shows it
            self._settle(e, Outcome(True))

        def failed(e: DropEvent, reason: str) -> None:
            on_failed(e, reason)
            self._settle(e, Outcome(False, reason))

        self._inner.append(event, committed, failed)

    def _settle(self, event: DropEvent, outcome: Outcome) -> None:
        with self._cond:
            self._outcomes[id(event)] = (event, outcome)  # holding the event keeps its id unique
            while len(self._outcomes) > self._keep:
                self._outcomes.popitem(last=False)
            self._cond.notify_all()

    def wait(self, event: DropEvent, timeout: float) -> Outcome | None:
        """The event's outcome, or None if it is still not settled after `timeout` seconds."""

        def settled() -> bool:
            entry = self._outcomes.get(id(event))
            return entry is not None and entry[0] is event

        with self._cond:
            if not self._cond.wait_for(settled, timeout):
                return None
            return self._outcomes[id(event)][1]


