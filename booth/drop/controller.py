"""The one place host and shop actions become drop events.

An action is decided against the current state, handed to the journal, and applied
only when the journal says it is committed: what the overlay shows is what the log
holds. Listeners hear about every applied event and every refusal.

Thread model: actions may come from the GUI thread or the control API's thread, and
the compositor reads `view()` at frame rate, so all state sits behind one lock and
views are immutable snapshots.

Remote callers pass a `Request` (idempotency key + digest of what they asked): the
event carries it into the journal, and the controller keeps a `Receipt` per key, so a
retry of the same request is answered from the receipt and never decided twice.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from booth.core.clock import Clock
from booth.core.drop import Drop, DropSpec, DropView, Refusal
from booth.core.events import DropEvent, Request, SaleRecorded, SaleUndone
from booth.drop.receipts import Receipt

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
    receipt: Receipt | None = None  # for a keyed request: this attempt's, or the first attempt's
    replayed: bool = False  # the key was known: nothing was decided, `receipt` is the first answer

    @property
    def accepted(self) -> bool:
        return self.event is not None


class DropController:
    def __init__(self, spec: DropSpec, clock: Clock, journal: Journal | None = None,
                 new_ref: Callable[[], str] = lambda: uuid.uuid4().hex) -> None:  # fmt: skip
        self._lock = threading.RLock()
        self._new_ref = new_ref  # ids for a shop product's sales and undos (the shop sync's outbox keys)
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
        self._receipts: dict[str, Receipt] = {}  # idempotency key → what that request produced
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

    def sell(self, sku_id: str | None = None, qty: int = 1, origin: str = "host",
             request: Request | None = None, code: str = "", ref: str = "") -> ActionResult:  # fmt: skip
        """`code`: the sticker code that pays for it (sold once per drop); `ref`: the sale's id, when the
        caller needs it before the sale exists (a code's claim at the shop names it)."""
        return self._act(lambda d: d.decide_sale(sku_id or self._featured, qty, origin, code, ref), request)

    def check_sale(self, sku_id: str, qty: int = 1, code: str = "") -> Refusal | None:
        """What `sell` would say, without selling (a sticker code is checked before it is claimed)."""
        with self._lock:
            outcome = self._decided.decide_sale(sku_id, qty, "code", code)
            return outcome if isinstance(outcome, Refusal) else None

    def refuse(self, refusal: Refusal, request: Request | None = None) -> ActionResult:
        """A sale someone else turned down (the shop: a shared pool is spent), answered like the drop's own
        refusals: the host hears it, and a keyed request keeps it as its answer."""
        return self._act(lambda _d: refusal, request)

    def undo_last_sale(self, request: Request | None = None) -> ActionResult:
        return self._act(lambda d: d.decide_undo(), request)

    def adjust_stock(self, sku_id: str, new_stock: int, expected: int | None = None,
                     request: Request | None = None) -> ActionResult:  # fmt: skip
        """Set a product's stock; with `expected`, only if it still is that (compare-and-set)."""
        return self._act(lambda d: d.decide_adjust(sku_id, new_stock, expected=expected), request)

    def start_timer(self, request: Request | None = None) -> ActionResult:
        return self._act(lambda d: d.decide_start(), request)

    def extend_timer(self, seconds: float, request: Request | None = None) -> ActionResult:
        return self._act(lambda d: d.decide_extend(seconds), request)

    def end_offer(self, request: Request | None = None) -> ActionResult:
        return self._act(lambda d: d.decide_end("host"), request)

    def receipt(self, key: str) -> Receipt | None:
        """What the request with this idempotency key produced, if it came before."""
        with self._lock:
            return self._receipts.get(key)

    def tick(self) -> None:
        """Record the end of the offer once its deadline has passed, and start the plan's next segment
        at its hard start (the drop clock calls this ten times a second)."""
        with self._lock:
            end_due = self._decided.deadline_passed_unrecorded()
            start_due = self._decided.due_hard_start()
        if end_due:
            self._act(lambda d: d.decide_end("deadline") if d.deadline_passed_unrecorded() else Refusal(""))
        if start_due:
            self._act(lambda d: d.decide_start("hard start") if d.due_hard_start() else Refusal(""))

    def replay(self, events: list[DropEvent]) -> None:
        """Rebuild state from a session log after a restart; nothing is journaled again.
        Events that carry a request give their keys' receipts back (a retry after a crash)."""
        with self._lock:
            for event in events:
                self._drop.apply(event)
                self._decided.apply(event)
                self._committed.append(event)
                if event.request is not None:
                    receipt = Receipt(event.request, event)
                    receipt.commit(self._left_after(event))
                    self._receipts[event.request.key] = receipt
            self._feature_on_offer()

    def events(self) -> list[DropEvent]:
        """Every committed event so far, oldest first."""
        with self._lock:
            return list(self._committed)

    def decided_events(self) -> list[DropEvent]:
        """Committed events and those still on their way to disk, in journal order."""
        with self._lock:
            return [*self._committed, *self._pending]

    def record(self, events: list[DropEvent]) -> Future[None]:
        """Facts from outside that the drop cannot refuse (the shop's readings, its answers to our writes):
        journaled in order and applied like any event. The future is done once all are on disk (or
        fails with the reason one could not be stored). Never waits."""
        done: Future[None] = Future()
        left = [len(events)]
        if not events:
            done.set_result(None)
            return done

        def committed(event: DropEvent) -> None:
            self._commit(event)
            left[0] -= 1
            if left[0] == 0 and not done.done():
                done.set_result(None)

        def failed(event: DropEvent, reason: str) -> None:
            self._fail(event, reason)
            if not done.done():
                done.set_exception(RuntimeError(reason))

        with self._lock:
            for event in events:
                self._decided.apply(event)
                self._pending.append(event)
                self._journal.append(event, committed, failed)
        return done

    # -- internals ------------------------------------------------------------------------

    def _act(self, decide: Callable[[Drop], DropEvent | Refusal], request: Request | None = None) -> ActionResult:
        with self._lock:
            if request is not None:
                known = self._receipts.get(request.key)
                if known is not None:  # a retry: answer what the first attempt got, decide nothing
                    return ActionResult(known.event, known.refusal, known, replayed=True)
            outcome = decide(self._decided)
            if isinstance(outcome, Refusal):
                receipt = None
                if request is not None:
                    receipt = self._receipts[request.key] = Receipt(request, refusal=outcome)
                if outcome.message:
                    self._refuse(outcome)
                return ActionResult(None, outcome, receipt)
            if isinstance(outcome, SaleRecorded | SaleUndone) and not outcome.ref \
                    and outcome.sku_id in self._drop.spec.shop_skus:  # fmt: skip
                outcome = dataclasses.replace(outcome, ref=self._new_ref())
            receipt = None
            if request is not None:
                outcome = dataclasses.replace(outcome, request=request)
                receipt = self._receipts[request.key] = Receipt(request, outcome)
            self._decided.apply(outcome)
            self._pending.append(outcome)
            # Appending under the lock keeps decide order equal to journal (and apply) order.
            self._journal.append(outcome, self._commit, self._fail)
            return ActionResult(outcome, None, receipt)

    def _left_after(self, event: DropEvent) -> int | None:
        sku_id = getattr(event, "sku_id", None)
        return self._drop.left(sku_id) if isinstance(sku_id, str) and sku_id in self._drop.stock else None

    def _feature_on_offer(self) -> None:
        """A segment that does not sell the featured product puts one it sells on the overlay."""
        show = self._drop.show
        if show is None or show.current is None:
            return
        on_offer = show.on_offer()
        if on_offer and self._featured not in on_offer:
            self._featured = on_offer[0]

    def _commit(self, event: DropEvent) -> None:
        with self._lock:
            self._pending.remove(event)
            self._drop.apply(event)
            self._committed.append(event)
            self._feature_on_offer()
            left = self._left_after(event)
            receipt = self._receipts.get(event.request.key) if event.request is not None else None
        log.info("drop event: %s", event.to_dict())
        if receipt is not None:
            receipt.commit(left)  # before the listeners: an answer waiting on it goes out first
        for listener in self._applied_listeners:
            listener(event)

    def _fail(self, event: DropEvent, reason: str) -> None:
        with self._lock:
            self._pending.remove(event)
            # Rebuild the decided state without the lost event.
            self._decided = Drop(self._drop.spec, self._clock)
            for kept in [*self._committed, *self._pending]:
                self._decided.apply(kept)
            # Nothing was applied: forget the key, so a retry is decided afresh.
            receipt = self._receipts.pop(event.request.key, None) if event.request is not None else None
        if receipt is not None:
            receipt.fail(reason)
        self._refuse(Refusal(f"Not recorded ({reason}): {event.kind} was not counted."))

    def _refuse(self, refusal: Refusal) -> None:
        log.info("refused: %s", refusal.message)
        for listener in self._refused_listeners:
            listener(refusal)
