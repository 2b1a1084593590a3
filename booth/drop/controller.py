"""The one place host and shop actions become drop events.

An action is decided against the current state, handed to the journal, and applied
only when the journal says it is committed: what the overlay shows is what the log
holds. Listeners hear about every applied event and every refusal.

Thread model: actions may come from the GUI thread or the shop webhook thread, and
the compositor reads `view()` at frame rate, so all state sits behind one lock and
views are immutable snapshots.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from booth.core.clock import Clock
from booth.core.drop import Drop, DropSpec, DropView, Refusal
from booth.core.events import DropEvent

log = logging.getLogger(__name__)


class Journal(Protocol):
    """Where events go before they count.

    Exactly one of the callbacks runs per event, in append order, possibly on another
    thread: `on_committed` once the event is durable, `on_failed` with a sentence if it
    could not be stored.
    """

    def append(
        self,
        event: DropEvent,
        on_committed: Callable[[DropEvent], None],
        on_failed: Callable[[DropEvent, str], None],
    ) -> None: ...


class ImmediateJournal:
    """A journal that keeps nothing and commits at once (tests, benchmarks)."""

    def append(
        self,
        event: DropEvent,
        on_committed: Callable[[DropEvent], None],
        on_failed: Callable[[DropEvent, str], None],
    ) -> None:
        on_committed(event)


@dataclass(frozen=True)
class ActionResult:
    event: DropEvent | None
    refusal: Refusal | None

    @property
    def accepted(self) -> bool:
        return self.event is not None


class DropController:
    def __init__(self, spec: DropSpec, clock: Clock, journal: Journal | None = None) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        # `_drop` holds committed events only: it is what the overlay shows. `_decided`
        # also holds events still on their way to disk, so two quick sales of the last
        # unit cannot both be accepted.
        self._drop = Drop(spec, clock)
        self._decided = Drop(spec, clock)
        self._committed: list[DropEvent] = []
        self._pending: list[DropEvent] = []
        self._journal = journal or ImmediateJournal()
        self._featured = spec.skus[0].id
        self._applied_listeners: list[Callable[[DropEvent], None]] = []
        self._refused_listeners: list[Callable[[Refusal], None]] = []

    @property
    def spec(self) -> DropSpec:
        return self._drop.spec

    # -- listeners (plain callbacks; the UI bridges them onto the GUI thread) -------------

    def on_applied(self, listener: Callable[[DropEvent], None]) -> None:
        self._applied_listeners.append(listener)

    def on_refused(self, listener: Callable[[Refusal], None]) -> None:
        self._refused_listeners.append(listener)

    # -- reading --------------------------------------------------------------------------

    def view(self) -> DropView:
        with self._lock:
            return self._drop.view()

    @property
    def featured_sku(self) -> str:
        with self._lock:
            return self._featured

    def feature(self, sku_id: str) -> None:
        """Which product the overlay shows; a presentation choice, so it is not journaled."""
        with self._lock:
            self._drop.spec.sku(sku_id)
            self._featured = sku_id

    def feature_next(self, step: int = 1) -> str:
        with self._lock:
            ids = [s.id for s in self._drop.spec.skus]
            self._featured = ids[(ids.index(self._featured) + step) % len(ids)]
            return self._featured

    # -- host and shop actions ------------------------------------------------------------

    def sell(self, sku_id: str | None = None, qty: int = 1, origin: str = "host") -> ActionResult:
        return self._act(lambda d: d.decide_sale(sku_id or self._featured, qty, origin))

    def undo_last_sale(self) -> ActionResult:
        return self._act(lambda d: d.decide_undo())

    def adjust_stock(self, sku_id: str, new_stock: int) -> ActionResult:
        return self._act(lambda d: d.decide_adjust(sku_id, new_stock))

    def start_timer(self) -> ActionResult:
        return self._act(lambda d: d.decide_start())

    def extend_timer(self, seconds: float) -> ActionResult:
        return self._act(lambda d: d.decide_extend(seconds))

    def end_offer(self) -> ActionResult:
        return self._act(lambda d: d.decide_end("host"))

    def tick(self) -> None:
        """Record the end of the offer once its deadline has passed (call it about once a second)."""
        with self._lock:
            if not self._decided.deadline_passed_unrecorded():
                return
        self._act(lambda d: d.decide_end("deadline") if d.deadline_passed_unrecorded() else Refusal(""))

    def replay(self, events: list[DropEvent]) -> None:
        """Rebuild state from a session log after a restart; nothing is journaled again."""
        with self._lock:
            for event in events:
                self._drop.apply(event)
                self._decided.apply(event)
                self._committed.append(event)

    def events(self) -> list[DropEvent]:
        """Every committed event so far, oldest first."""
        with self._lock:
            return list(self._committed)

    # -- internals ------------------------------------------------------------------------

    def _act(self, decide: Callable[[Drop], DropEvent | Refusal]) -> ActionResult:
        with self._lock:
            outcome = decide(self._decided)
            if isinstance(outcome, Refusal):
                if outcome.message:
                    self._refuse(outcome)
                return ActionResult(None, outcome)
            self._decided.apply(outcome)
            self._pending.append(outcome)
            # Appending under the lock keeps decide order equal to journal (and apply) order.
            self._journal.append(outcome, self._commit, self._fail)
            return ActionResult(outcome, None)

    def _commit(self, event: DropEvent) -> None:
        with self._lock:
            self._pending.remove(event)
            self._drop.apply(event)
            self._committed.append(event)
        log.info("drop event: %s", event.to_dict())
        for listener in self._applied_listeners:
            listener(event)

    def _fail(self, event: DropEvent, reason: str) -> None:
        with self._lock:
            self._pending.remove(event)
            # Rebuild the decided state without the lost event.
            self._decided = Drop(self._drop.spec, self._clock)
            for kept in [*self._committed, *self._pending]:
                self._decided.apply(kept)
        self._refuse(Refusal(f"Not recorded ({reason}): {event.kind} was not counted."))

    def _refuse(self, refusal: Refusal) -> None:
        log.info("refused: %s", refusal.message)
        for listener in self._refused_listeners:
            listener(refusal)
