"""Shop sync: the poller (`booth-shop-poll`) reads the truth, the writer (`booth-shop-write`) sends stall sales.

- Every stall sale (key, phone remote, sticker code) is decided against the ledger, journaled as a
  `StallSaleQueued` (the outbox entry) and only then handed to the writer. The writer sends the oldest
  first: compare-and-set from the level the ledger knows, an idempotency key per attempt journaled
  (`StallAttempt`) before it is sent. While the shop is unreachable the queue waits, in order; after a
  crash `restore()` rebuilds it from the journal and resends the last attempt with the same key and
  level, so the shop applies each sale once.
- The poller reads `available` for every item in one query every `poll_seconds` (sooner when a webhook
  nudges it), inside the cost budget the client tracks. Its readings drive the counter down for online
  orders and other booths, and up only for real returns (see `booth.core.shop.ledger`).
- Webhook deliveries (from the API server) go through `WebhookGate`; what survives moves the counter down
  or nudges the poller.

The journal is behind a small Protocol (the session log in Booth); nothing here touches the GUI. Callers
of `sell`/`redeem` are worker threads: `redeem` may wait up to `claim_timeout_s` for the shop.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from booth.core.drop import Refusal
from booth.core.events import DropEvent
from booth.core.shop.codes import StickerCode, validate
from booth.core.shop.events import StallAttempt, StallSaleConfirmed, StallSaleQueued, StallSaleRefused, SyncIncident
from booth.core.shop.health import SyncHealth
from booth.core.shop.ledger import ShopLedger
from booth.core.shop.settings import ShopSettings, numeric_id
from booth.core.shop.webhooks import Decision, LevelUpdate, OrderCreated, Verdict, WebhookGate
from booth.devices.shopify import (
    ResolvedItem,
    ShopAuthError,
    ShopContention,
    ShopError,
    ShopifyClient,
    ShopRefused,
    ShopThrottled,
    ShopUnavailable,
)
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)


class Journal(Protocol):
    """Where shop events go: appended in order and durable when `record` returns (the session log)."""

    def record(self, event: DropEvent) -> None: ...


@dataclass
class _Pending:
    sale: StallSaleQueued
    attempt: int = 0  # the attempt to send next
    change_from: int | None = None  # the level that attempt expects (None: use what the ledger knows)
    claimed: bool = False  # sticker codes: recorded on the shop already


class ShopSync:
    def __init__(
        self,
        settings: ShopSettings,
        client: ShopifyClient,
        items: Mapping[str, ResolvedItem],
        journal: Journal,
        names: Mapping[str, str],
        *,
        webhook_secret: str,
        codes_secret: bytes | None = None,
        booth_name: str = "booth",
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        poll_timeout_s: float = 2.0,
        write_deadline_s: float = 5.0,
        claim_timeout_s: float = 2.0,
    ) -> None:
        self.settings = settings
        self.client = client
        self.items = dict(items)
        self.journal = journal
        self.names = dict(names)
        self.booth_name = booth_name
        self._mono, self._wall = monotonic, wall
        self._poll_timeout_s = poll_timeout_s
        self._write_deadline_s = write_deadline_s
        self._claim_timeout_s = claim_timeout_s
        self._codes_secret = codes_secret
        self.ledger = ShopLedger({s.sku_id: s.quota for s in settings.skus}, self.names)
        self.health = SyncHealth(settings.stale_alarm_seconds, monotonic())
        self.gate = WebhookGate(webhook_secret, {numeric_id(i.inventory_item_id) for i in self.items.values()},
                                numeric_id(settings.location_id))  # fmt: skip
        self._sku_by_item = {numeric_id(i.inventory_item_id): sku for sku, i in self.items.items()}
        self._sku_by_variant = {numeric_id(i.variant_id): sku for sku, i in self.items.items()}
        self._lock = threading.RLock()  # the ledger, the outbox, the journal's order
        self._queue: deque[_Pending] = deque()
        self._codes_used: set[str] = set()
        self._backoff_s = 0.25
        self._poller = Worker("booth-shop-poll", self._poll_step, "Shop stock sync", on_stop=self.client.close,
                              join_timeout_s=poll_timeout_s + 2)  # fmt: skip
        self._writer = Worker("booth-shop-write", self._write_step, "Stall sales to the shop",
                              on_stop=self.client.close, join_timeout_s=write_deadline_s + 2)  # fmt: skip
        self.listeners: list[Callable[[list[DropEvent]], None]] = []  # e.g. the drop controller / overlay

    # -- lifecycle -----------------------------------------------------------------------------

    def restore(self, events: Iterable[DropEvent]) -> None:
        """Rebuild the ledger and the outbox from the journal (after a crash); call before `start`."""
        with self._lock:
            pending: dict[str, _Pending] = {}
            for event in events:
                if event.kind not in ("shop_baseline", "shop_sold", "shop_returned", "stall_queued", "stall_attempt",
                                      "stall_confirmed", "stall_refused", "sync_incident"):  # fmt: skip
                    continue
                self.ledger.apply(event)
                match event:
                    case StallSaleQueued(sale_id=sale_id, code=code):
                        pending[sale_id] = _Pending(event, claimed=not code)
                        if code:
                            self._codes_used.add(code)
                    case StallAttempt(sale_id=sale_id, key=_, change_from=change_from) if sale_id in pending:
                        entry = pending[sale_id]
                        # the attempt journaled last may or may not have reached the shop: resend it as it was
                        entry.attempt = self._attempt_index(sale_id, event.key)
                        entry.change_from = change_from
                        entry.claimed = True
                    case StallSaleConfirmed(sale_id=sale_id) | StallSaleRefused(sale_id=sale_id):
                        pending.pop(sale_id, None)
            self._queue.extend(pending.values())  # journal order = sale order
            self.health.queued_writes = len(self._queue)

    @staticmethod
    def _attempt_index(sale_id: str, key: str) -> int:
        from booth.devices.shopify import idempotency_key

        for attempt in range(64):
            if idempotency_key(sale_id, attempt) == key:
                return attempt
        return 0

    def start(self) -> ShopSync:
        self._poller.start()
        self._writer.start()
        return self

    def stop(self) -> None:
        """Stops both workers; a write on the wire finishes or times out first (its attempt is journaled)."""
        self._poller.request_stop()
        self._writer.request_stop()
        self._poller.join()
        self._writer.join()

    @property
    def problem(self) -> str | None:
        """A sentence when a sync thread keeps failing on a bug (not the shop being away: see `health`)."""
        return self._poller.problem or self._writer.problem

    # -- selling at the stall ------------------------------------------------------------------

    def sell(self, sku_id: str, qty: int = 1, origin: str = "host", code: str = "") -> StallSaleQueued | Refusal:
        """Decide, journal, count, queue for the shop. Returns at once (the shop hears of it on the writer)."""
        with self._lock:
            decision = self.ledger.decide_stall_sale(self._wall(), uuid.uuid4().hex, sku_id, qty, origin, code)
            if isinstance(decision, Refusal):
                return decision
            self._commit([decision])
            self._queue.append(_Pending(decision, claimed=not code))
            self.health.queued_writes = len(self._queue)
        self._writer.wake()
        return decision

    def redeem(self, text: str, bindings: Iterable[tuple[str, str]]) -> StallSaleQueued | Refusal:
        """A sticker code scanned or typed: valid, unused here, unused on the shop → one sale of its product."""
        if self._codes_secret is None:
            return Refusal("This booth has no codes secret: copy the shop credentials file from the booth that "
                           "made the codes.")  # fmt: skip
        code = validate(text, self._codes_secret, bindings, self.names)
        if isinstance(code, Refusal):
            return code
        with self._lock:
            if code.code in self._codes_used:
                return Refusal(f"{code.display} was already used at this booth.")
        claimed = self._claim(code)
        if isinstance(claimed, Refusal):
            return claimed
        with self._lock:
            if code.code in self._codes_used:  # scanned twice while the first claim was on the wire
                return Refusal(f"{code.display} was already used at this booth.")
            decision = self.ledger.decide_stall_sale(self._wall(), uuid.uuid4().hex, code.sku_id, 1, "code", code.code)
            if isinstance(decision, Refusal):
                return decision
            self._codes_used.add(code.code)
            self._commit([decision])
            self._queue.append(_Pending(decision, claimed=claimed))
            self.health.queued_writes = len(self._queue)
        self._writer.wake()
        return decision

    def _claim(self, code: StickerCode) -> bool | Refusal:
        """True: recorded on the shop now; False: the shop is unreachable, the writer records it later."""
        try:
            claim = self.client.claim_code(code.redemption_key, self._holder(), timeout_s=self._claim_timeout_s,
                                           deadline_s=self._claim_timeout_s)  # fmt: skip
        except ShopUnavailable as exc:
            log.warning("code %s accepted offline (%s); it is recorded on the shop when it is back", code.display, exc)
            return False
        except ShopError as exc:
            return Refusal(f"{code.display} could not be checked with the shop: {exc}")
        if not claim.claimed:
            return Refusal(f"{code.display} was already used ({claim.holder}).")
        return True

    def _holder(self) -> str:
        return f"{self.booth_name} {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self._wall()))}"

    # -- webhooks (from the API server's thread) -----------------------------------------------

    def webhook(self, headers: Mapping[str, str], body: bytes) -> Decision:
        with self._lock:
            decision = self.gate.decide(headers, body)
            if decision.verdict is not Verdict.ACCEPTED:
                return decision
            news = decision.news
            if isinstance(news, LevelUpdate):
                sku = self._sku_by_item.get(news.inventory_item_id)
                events = self.ledger.observe_reading(self._wall(), sku, news.available, source="webhook") if sku else []
                if events:
                    self._commit(events)
                    self.health.news(self._mono())
                else:
                    self._poller.wake()  # a rise, or ours may be pending: let the poll decide
            elif isinstance(news, OrderCreated) and any(self._sku_by_variant.get(line.variant_id or -1)
                                                        for line in news.lines):
                self._poller.wake()  # the level webhook or the poll counts it; the order says "look now"
            return decision

    # -- the threads ---------------------------------------------------------------------------

    def _poll_step(self) -> float:
        started = self._mono()
        self.poll_once()
        return max(0.0, self.settings.poll_seconds - (self._mono() - started))  # a webhook's wake() polls sooner

    def poll_once(self) -> None:
        skus = list(self.items)
        with self._lock:
            epochs = self.ledger.epochs()
        try:
            levels, cost = self.client.read_available([self.items[s].inventory_item_id for s in skus],
                                                      self.settings.location_id, timeout_s=self._poll_timeout_s,
                                                      deadline_s=self._poll_timeout_s)  # fmt: skip
        except ShopError as exc:
            self._failed(exc)
            return
        now = self._mono()
        with self._lock:
            events: list[DropEvent] = []
            for sku in skus:
                level = levels[self.items[sku].inventory_item_id]
                events += self.ledger.observe_reading(self._wall(), sku, level.available, epochs[sku])
                if level.updated_at:
                    from booth.core.shop.webhooks import parse_time

                    self.gate.saw_level(numeric_id(self.items[sku].inventory_item_id), parse_time(level.updated_at))
            self._recovered(now)
            self.health.news(now)
            if cost is not None:
                self.health.cost(cost.actual, cost.currently_available, cost.maximum_available)
            if events:
                self._commit(events)

    def _write_step(self) -> float:
        with self._lock:
            entry = self._queue[0] if self._queue else None
        if entry is None:
            return 0.5  # sell() wakes the worker at once
        if self.write_one(entry):
            self._backoff_s = 0.25
            return 0.0
        wait, self._backoff_s = self._backoff_s, min(5.0, self._backoff_s * 2)
        return wait  # the shop is away: the queue waits, in order

    def write_one(self, entry: _Pending) -> bool:
        """Send the oldest queued sale. True when it is settled (confirmed or refused), False to retry later."""
        sale = entry.sale
        item = self.items[sale.sku_id]
        if sale.code and not entry.claimed:
            claimed = self._claim(StickerCode(sale.code, sale.sku_id))
            if claimed is False:
                return False
            if isinstance(claimed, Refusal):  # another booth redeemed it while we were offline
                self._settle_refused(entry, None, f"code also redeemed elsewhere: {claimed.message}")
                return True
            entry.claimed = True
        with self._lock:
            known = self.ledger.view(sale.sku_id).shop_available
            expected = entry.change_from if entry.change_from is not None else known
            self.ledger.write_started(sale.sku_id)

        def journal_attempt(attempt: int, key: str, change_from: int) -> None:
            with self._lock:
                if (attempt, change_from) != (entry.attempt, entry.change_from):
                    self._commit([StallAttempt(self._wall(), sale.sale_id, key, change_from)])
                entry.attempt, entry.change_from = attempt, change_from

        try:
            done = self.client.sell(item.inventory_item_id, self.settings.location_id, sale.qty, sale.sale_id,
                                    expected=expected, first_attempt=entry.attempt, on_attempt=journal_attempt,
                                    deadline_s=self._write_deadline_s)  # fmt: skip
        except ShopRefused as exc:
            self._finished(sale.sku_id)
            self._settle_refused(entry, exc.available, str(exc))
            return True
        except ShopContention as exc:  # other writers won every round: not an outage, not an oversell
            self._finished(sale.sku_id)
            log.info("stall sale %s: %s", sale.sale_id, exc)
            return False
        except ShopError as exc:
            self._finished(sale.sku_id)
            self._failed(exc)
            return False
        except BaseException:
            self._finished(sale.sku_id)  # never leave the item "in flight": polls would be ignored for good
            raise
        with self._lock:
            self.ledger.write_finished(sale.sku_id)
            self.gate.own_write(numeric_id(item.inventory_item_id), done.after)
            self._commit(self.ledger.observe_confirmed(self._wall(), sale.sale_id, sale.sku_id, sale.qty, done.before,
                                                       done.after))  # fmt: skip
            self._queue.popleft()
            self.health.queued_writes = len(self._queue)
            self._recovered(self._mono())
            self.health.synced(self._mono())
        return True

    def _finished(self, sku_id: str) -> None:
        with self._lock:
            self.ledger.write_finished(sku_id)

    def _settle_refused(self, entry: _Pending, available: int | None, reason: str) -> None:
        sale = entry.sale
        with self._lock:
            self._commit(self.ledger.observe_refused(self._wall(), sale.sale_id, sale.sku_id, sale.qty, available,
                                                     reason))  # fmt: skip
            self._queue.popleft()
            self.health.queued_writes = len(self._queue)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _commit(self, events: list[DropEvent]) -> None:
        """Journal, then fold: what the counter shows is on disk. Called with the lock held."""
        for event in events:
            self.journal.record(event)
            self.ledger.apply(event)
        for listener in self.listeners:
            listener(events)

    def _failed(self, exc: ShopError) -> None:
        kind = "auth" if isinstance(exc, ShopAuthError) else "throttled" if isinstance(exc, ShopThrottled) \
            else "unreachable"  # fmt: skip
        with self._lock:
            first = self.health.failing_since is None
            self.health.failed(self._mono(), kind, str(exc))
            if first:
                severity = "critical" if kind == "auth" else "warn"
                self._commit([SyncIncident(self._wall(), severity, kind, str(exc))])

    def _recovered(self, now: float) -> None:
        if self.health.failing_since is not None:
            down_s = now - self.health.failing_since
            self._commit([SyncIncident(self._wall(), "info", "recovered",
                                       f"The shop answers again after {down_s:.0f} s.")])  # fmt: skip
