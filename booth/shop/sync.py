"""Shop sync: the poller (`booth-shop-poll`) reads the truth, the writer (`booth-shop-write`) sends stall sales.

One journal, one counter. The drop controller is both: every event here — the shop's readings
(`ShopBaseline`, `ShopSold`, `ShopReturned`), the writer's attempts and answers, sync incidents — goes into
the drop's session log through the controller (`Counter.record`), and the drop folds it into the counter the
overlay shows (`booth.core.drop.Drop` runs the same `ShopLedger` fold as this module). So the overlay, the
report and crash recovery all read the one journal.

- Stall sales (keys, phone remote, API, sticker codes) are decided by the drop controller like any sale
  (`SaleRecorded` with a `ref`). Once a sale is on disk the controller tells this module
  (`on_drop_event`), and that committed sale *is* the outbox entry: the writer sends the oldest first,
  compare-and-set from the level the ledger knows, an idempotency key per attempt journaled
  (`StallAttempt`) and on disk before it is sent. While the shop is unreachable the queue waits, in order;
  after a crash `restore()` rebuilds it from the journal and resends the last attempt with the same key
  and level, so the shop applies each sale once. An undo (`SaleUndone` with a `ref`) sends the units back.
- A shared pool's stall sale goes the other way round (confirm-first, `sell_now`/`settle_now`, called
  from the shop desk's worker): its attempt is journaled (naming product and units), sent, and only once
  the shop took the unit is the sale counted, so two booths never both sell the pool's last one. No
  answer within the budget: the sale is counted and queued with that attempt. An attempt whose sale was
  never counted (a crash, or the drop refused it after all) is resent once with its key (`probe`); if
  the shop applied it, the units are given back (`<ref>-back`).
- The poller first finds the drop's products at the shop (and a shared pool's floor), then reads
  `available` for every item in one query every `poll_seconds` (sooner when a webhook nudges it), inside
  the cost budget the client tracks. Its readings drive the counter down for online orders and other
  booths, and up only for real returns (see `booth.core.shop.ledger`).
- Webhook deliveries (from the API server's thread) go through `WebhookGate`; what survives moves the
  counter down or nudges the poller.
- A rehearsal (`rehearsal=True`) reads the shop and never writes to it: no adjustment, no code claim, no
  pool floor; stall sales stay in this booth's counter (shadow stock).

Locks: this module's lock is never held while waiting for the journal, and the controller's listener only
enqueues (`on_drop_event`), so the session log's writer thread never waits on a sync thread.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from booth.core.drop import Refusal
from booth.core.events import DropEvent, SaleRecorded, SaleUndone, StockAdjusted
from booth.core.shop.codes import StickerCode, validate
from booth.core.shop.events import StallAttempt, StallSaleConfirmed, StallSaleRefused, SyncIncident
from booth.core.shop.health import SyncAlert, SyncHealth
from booth.core.shop.ledger import ItemView, ShopLedger
from booth.core.shop.settings import ShopSettings, numeric_id
from booth.core.shop.webhooks import Decision, LevelUpdate, OrderCreated, Verdict, WebhookGate, parse_time
from booth.devices.shopify import (
    POOLS_NAMESPACE,
    ResolvedItem,
    ShopAuthError,
    ShopContention,
    ShopError,
    ShopifyClient,
    ShopRefused,
    ShopThrottled,
    ShopUnavailable,
    ShopUnknownItem,
    idempotency_key,
)
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)

JOURNAL_WAIT_S = 5.0  # an attempt is sent only once it is on disk; a full disk holds the queue instead
STATUS_WAIT_S = 0.05  # the host's window asks several times a second; a busy sync answers with its last status
RESOLVE_RETRY_S = 10.0  # products the shop does not have: look again this often (the merchant may fix it)


class Counter(Protocol):
    """The drop's one journal and counter: the drop controller."""

    def record(self, events: list[DropEvent]) -> Future[None]: ...

    def decided_events(self) -> list[DropEvent]: ...


class JournalNotDurable(ShopUnavailable):
    """An attempt could not be put on disk in time: it is not sent (the queue waits, nothing is lost)."""


@dataclass
class _Pending:
    sale_id: str  # the sale's (or undo's) ref
    sku_id: str
    qty: int  # units to take off the shop; negative for an undo's return
    code: str = ""
    attempt: int = 0  # the attempt to send next
    change_from: int | None = None  # the level that attempt expects (None: use what the ledger knows)
    claimed: bool = True  # sticker codes: recorded on the shop already
    probe: bool = False  # a confirm-first attempt whose sale was never counted: did the shop take it?


@dataclass(frozen=True)
class ShopStatus:
    """What the host's line, the tech lead's Shop tab and the API show; immutable, any thread."""

    line: str  # "shop synced 1 s ago, 2 stall sale(s) waiting to reach it"
    alerts: tuple[SyncAlert, ...]
    items: tuple[ItemView, ...]
    connected: bool  # the products were found at the shop
    rehearsal: bool
    queued: int
    sync_age_s: float | None
    poll_cost_points: float | None
    budget_left: float | None
    budget_max: float | None
    restore_rate: float | None
    budget_share: float | None  # of the restore rate, per second of polling
    calls: int
    throttled: int
    domain: str
    poll_seconds: float


class ShopSync:
    def __init__(
        self,
        settings: ShopSettings,
        client: ShopifyClient,
        counter: Counter,
        names: Mapping[str, str],
        *,
        webhook_secret: str,
        codes_secret: bytes | None = None,
        booth_name: str = "booth",
        rehearsal: bool = False,
        is_live: Callable[[], bool] = lambda: False,
        items: Mapping[str, ResolvedItem] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        poll_timeout_s: float = 2.0,
        write_deadline_s: float = 5.0,
        claim_timeout_s: float = 2.0,
    ) -> None:
        self.settings = settings
        self.client = client
        self.counter = counter
        self.names = dict(names)
        self.booth_name = booth_name
        self.rehearsal = rehearsal
        self._is_live = is_live
        self._mono, self._wall = monotonic, wall
        self._poll_timeout_s = poll_timeout_s
        self._write_deadline_s = write_deadline_s
        self._claim_timeout_s = claim_timeout_s
        self._codes_secret = codes_secret
        self._webhook_secret = webhook_secret
        self._sku_by_item: dict[int, str] = {}
        self._sku_by_variant: dict[int, str] = {}
        self._skus = [s.sku_id for s in settings.skus]
        self.ledger = self._new_ledger()
        self.health = SyncHealth(settings.stale_alarm_seconds, monotonic(), rehearsal=rehearsal)
        self.items: dict[str, ResolvedItem] = {}
        self.gate: WebhookGate | None = None
        self._floors: dict[str, tuple[int, str]] = {}  # sku → (floor, pool) for the baseline
        self._lock = threading.RLock()  # the ledger, the outbox, the journal's order
        self._queue: deque[_Pending] = deque()
        self._inbox: queue.SimpleQueue[DropEvent] = queue.SimpleQueue()  # committed sales, from the controller
        self._skip: dict[int, DropEvent] = {}  # inbox events already folded by a rebuild
        self._rebuild_needed = False
        self._codes_used: set[str] = set()  # redeemed at this booth (also while the shop is away)
        self._claimed: set[str] = set()  # recorded on the shop by this booth
        self._backoff_s = 0.25
        self._discrepancy_logged = False
        self._outage_before: SyncIncident | None = None
        self._last_status: ShopStatus | None = None
        self._write_lock = threading.Lock()  # one write to the shop at a time, in queue order
        self._settled_early: set[str] = set()  # pooled sales the shop took before they were counted
        self._early_attempts: dict[str, tuple[int, int]] = {}  # ref → the attempt a confirm-first sale sent
        self._taken: dict[str, tuple[str, int, int, int]] = {}  # ref → (sku, qty, before, after) until settled
        self._poller = Worker("booth-shop-poll", self._poll_step, "Shop stock sync", on_stop=self.client.close,
                              join_timeout_s=poll_timeout_s + 2)  # fmt: skip
        self._writer = Worker("booth-shop-write", self._write_step, "Stall sales to the shop",
                              on_stop=self.client.close, join_timeout_s=write_deadline_s + 2)  # fmt: skip
        if items is not None:
            self._connected(dict(items))

    def _new_ledger(self) -> ShopLedger:
        return ShopLedger({s.sku_id: s.quota for s in self.settings.skus}, self.names)

    # -- lifecycle -----------------------------------------------------------------------------

    def restore(self, events: Iterable[DropEvent]) -> None:
        """Rebuild the ledger and the outbox from the journal (after a crash); call before `start`."""
        with self._lock:
            self._restore(list(events))

    def _restore(self, events: list[DropEvent]) -> None:
        ledger = self._new_ledger()
        pending: dict[str, _Pending] = {}
        early: dict[str, StallAttempt] = {}  # confirm-first attempts sent before their sale was counted
        outage: SyncIncident | None = None
        settling = set(self._taken)  # a rebuild mid-drop: confirm-first sales this process settles itself
        for event in events:
            if ledger.handles(event):
                ledger.apply(event)
            match event:
                case SaleRecorded(ref=ref) if ref in settling:
                    early.pop(ref, None)
                case SaleRecorded(ref=ref, sku_id=sku, qty=qty, code=code) if ref and sku in ledger:
                    pending[ref] = _Pending(ref, sku, qty, code, claimed=not code or code in self._claimed)
                    if ref in early:  # a confirm-first attempt went out before the sale was counted
                        attempt = early.pop(ref)
                        pending[ref].attempt = _attempt_index(ref, attempt.key)
                        pending[ref].change_from = attempt.change_from
                        pending[ref].claimed = True
                    if code:
                        self._codes_used.add(code)
                case SaleUndone(ref=ref, sku_id=sku, qty=qty) if ref and sku in ledger:
                    pending[ref] = _Pending(ref, sku, -qty)
                case StallAttempt(sale_id=sale_id, key=key, change_from=change_from) if sale_id in pending:
                    entry = pending[sale_id]
                    # the attempt journaled last may or may not have reached the shop: resend it as it was
                    entry.attempt = _attempt_index(sale_id, key)
                    entry.change_from = change_from
                    entry.claimed = True
                case StallAttempt(sale_id=sale_id):
                    early[sale_id] = event
                case StallSaleConfirmed(sale_id=sale_id, sku_id=sku, qty=qty) if sale_id in early:
                    # the shop took units for a sale the drop never counted: they are owed back
                    del early[sale_id]
                    pending[f"{sale_id}-back"] = _Pending(f"{sale_id}-back", sku, -qty)
                case StallSaleConfirmed(sale_id=sale_id) | StallSaleRefused(sale_id=sale_id):
                    pending.pop(sale_id, None)
                case SyncIncident(what="unreachable" | "throttled" | "auth"):
                    outage = outage or event
                case SyncIncident(what="recovered"):
                    outage = None
        for ref, attempt in early.items():  # Booth stopped between the shop's answer and the count
            if attempt.sku_id in ledger and attempt.qty > 0 and ref not in settling | set(self._early_attempts):
                pending[ref] = _Pending(ref, attempt.sku_id, attempt.qty, attempt=_attempt_index(ref, attempt.key),
                                        change_from=attempt.change_from, probe=True)  # fmt: skip
        self._outage_before = outage  # still open when Booth stopped: the first good answer closes it
        ledger.copy_transient_from(self.ledger)
        self.ledger = ledger
        self._queue = deque(pending.values())  # journal order = sale order
        self.health.queued_writes = len(self._queue)

    def start(self) -> ShopSync:
        self._poller.start()
        if not self.rehearsal:
            self._writer.start()
        return self

    def stop(self) -> None:
        """Stops both workers; a write on the wire finishes or times out first (its attempt is journaled)."""
        self._poller.request_stop()
        self._writer.request_stop()
        self._poller.join()
        if not self.rehearsal:
            self._writer.join()

    @property
    def problem(self) -> str | None:
        """A sentence when a sync thread keeps failing on a bug (not the shop being away: see `health`)."""
        return self._poller.problem or self._writer.problem

    # -- what the drop controller tells us (on the session writer's thread: only enqueue) ----------

    def on_drop_event(self, event: DropEvent) -> None:
        """A committed drop event: a shop product's sale or undo is a stall sale for the shop."""
        if isinstance(event, SaleRecorded | SaleUndone | StockAdjusted) and event.sku_id in self.ledger:
            self._inbox.put(event)
            self._writer.wake()

    def _drain(self) -> None:
        """Fold the committed stall sales into the ledger and the outbox. Called with the lock held."""
        if self._rebuild_needed:
            self._rebuild_needed = False
            snapshot = self.counter.decided_events()
            self._skip = {id(e): e for e in snapshot if isinstance(e, SaleRecorded | SaleUndone | StockAdjusted)}
            self._restore(snapshot)
            log.warning("shop sync: rebuilt the counter from the journal after an event was not stored")
        while True:
            try:
                event = self._inbox.get_nowait()
            except queue.Empty:
                return
            if self._skip.pop(id(event), None) is event:
                continue  # the rebuild folded it already
            self.ledger.apply(event)
            match event:
                case SaleRecorded(ref=ref, code=code) if ref in self._settled_early:
                    self._settled_early.discard(ref)  # the shop took it first: nothing to send
                    if code:
                        self._codes_used.add(code)
                case SaleRecorded(ref=ref, sku_id=sku, qty=qty, code=code) if ref:
                    entry = _Pending(ref, sku, qty, code, claimed=not code or code in self._claimed)
                    if ref in self._early_attempts:  # its confirm-first attempt got no answer: resend exactly it
                        entry.attempt, entry.change_from = self._early_attempts.pop(ref)
                    self._queue.append(entry)
                    if code:
                        self._codes_used.add(code)
                case SaleUndone(ref=ref, sku_id=sku, qty=qty) if ref:
                    self._queue.append(_Pending(ref, sku, -qty))
            self.health.queued_writes = len(self._queue)

    # -- sticker codes (from a worker or the API's thread pool: `claim` waits for the shop) -------

    def check_code(self, text: str, bursts: Iterable[str] = ()) -> StickerCode | Refusal:
        """A scanned or typed code: valid for this drop and not yet used at this booth (no network)."""
        if self._codes_secret is None:
            return Refusal("This booth has no codes secret: copy the shop credentials file from the booth that "
                           "made the codes.")  # fmt: skip
        bindings = [(sku, burst) for sku in self._skus for burst in ("", *self.settings.bursts, *bursts)]
        code = validate(text, self._codes_secret, bindings, self.names)
        if isinstance(code, Refusal):
            return code
        with self._lock:
            self._drain()
            if code.code in self._codes_used or code.code in self.ledger.codes:
                return Refusal(f"{code.display} was already used at this booth.")
        return code

    def claim(self, code: StickerCode, sale_id: str) -> bool | Refusal:
        """Record the redemption on the shop before the sale: True when recorded now (or in a rehearsal,
        where nothing is written), False when the shop is unreachable (the writer records it before the
        sale is sent), a Refusal when another booth redeemed it first."""
        if self.rehearsal:
            return True
        claimed = self._claim(code, sale_id)
        if claimed is True:
            with self._lock:
                self._claimed.add(code.code)
        return claimed

    def _claim(self, code: StickerCode, sale_id: str) -> bool | Refusal:
        try:
            claim = self.client.claim_code(code.redemption_key, self._holder(sale_id),
                                           timeout_s=self._claim_timeout_s, deadline_s=self._claim_timeout_s)
        except ShopUnavailable as exc:
            log.warning("code %s accepted offline (%s); it is recorded on the shop when it is back", code.display, exc)
            return False
        except ShopError as exc:
            return Refusal(f"{code.display} could not be checked with the shop: {exc}")
        if not claim.claimed and not claim.holder.endswith(f"sale {sale_id}"):  # ours: a resend after a crash
            holder = claim.holder.rsplit(" sale ", 1)[0]
            return Refusal(f"{code.display} was already used ({holder}).")
        return True

    def _holder(self, sale_id: str) -> str:
        return f"{self.booth_name} {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self._wall()))} sale {sale_id}"

    # -- webhooks (from the API server's thread pool) ------------------------------------------

    def webhook(self, headers: Mapping[str, str], body: bytes) -> Decision:
        with self._lock:
            gate = self.gate
            if gate is None:
                return Decision(Verdict.NOT_READY, "Booth has not reached the shop yet; deliver it again later.")
            self._drain()
            decision = gate.decide(headers, body)
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

    # -- the poller ----------------------------------------------------------------------------

    def _poll_step(self) -> float:
        started = self._mono()
        if self.gate is None:
            try:
                self.connect()
            except ShopUnknownItem as exc:
                self._setup_failed(str(exc))
                return RESOLVE_RETRY_S
            except ShopError as exc:
                self._failed(exc)
                return min(5.0, 2 * self.settings.poll_seconds)
        self.poll_once()
        self._watch_news()
        return max(0.0, self.settings.poll_seconds - (self._mono() - started))  # a webhook's wake() polls sooner

    def connect(self) -> None:
        """Find the drop's products at the shop (one query) and a shared pool's floor; raises ShopError."""
        items = self.client.resolve(self.settings.skus, self.settings.location_id, self.names,
                                    timeout_s=self._poll_timeout_s)  # fmt: skip
        floors: dict[str, tuple[int, str]] = {}
        if self.settings.pool:
            floors = self._pool_floors(items)
        with self._lock:
            self._floors = floors
            self._connected(items)
            if self.health.setup_problem:
                self.health.setup_problem = ""
                self._commit([SyncIncident(self._wall(), "info", "setup", "The shop has every product of the drop.")])
        self._writer.wake()

    def _connected(self, items: dict[str, ResolvedItem]) -> None:
        self.items = items
        self._sku_by_item = {numeric_id(i.inventory_item_id): sku for sku, i in items.items()}
        self._sku_by_variant = {numeric_id(i.variant_id): sku for sku, i in items.items()}
        self.gate = WebhookGate(self._webhook_secret, set(self._sku_by_item),
                                numeric_id(self.settings.location_id))  # fmt: skip

    def _pool_floors(self, items: Mapping[str, ResolvedItem]) -> dict[str, tuple[int, str]]:
        """Each product's floor in the shared pool: the first booth records it on the shop (available −
        quota, created only if absent), the others read it. A rehearsal only reads."""
        pool = self.settings.pool
        levels = None
        floors: dict[str, tuple[int, str]] = {}
        for sku in self.settings.skus:
            if self.ledger.has_baseline(sku.sku_id):
                continue  # resumed: the journal has its floor
            item = items[sku.sku_id]
            key = f"pool-{pool}-{numeric_id(item.inventory_item_id)}"
            value = self.client.read_value(POOLS_NAMESPACE, key, timeout_s=self._poll_timeout_s)
            if value is None and not self.rehearsal:
                if levels is None:
                    levels, _ = self.client.read_available([i.inventory_item_id for i in items.values()],
                                                           self.settings.location_id, timeout_s=self._poll_timeout_s)
                available = levels[item.inventory_item_id].available
                mine = json.dumps({"floor": max(0, available - sku.quota), "quota": sku.quota,
                                   "by": self.booth_name, "at": round(self._wall())})  # fmt: skip
                value = self.client.create_once(POOLS_NAMESPACE, key, mine, timeout_s=self._poll_timeout_s).holder
            floor = 0
            if value:
                try:
                    floor = int(json.loads(value)["floor"])
                except (ValueError, KeyError, TypeError):
                    log.warning("pool %s: the shop's record for %s is unreadable; using floor 0", pool, sku.sku_id)
            floors[sku.sku_id] = (floor, pool)
        return floors

    def poll_once(self) -> None:
        if not self.items:
            return
        skus = list(self.items)
        with self._lock:
            self._drain()
            epochs = self.ledger.epochs()
        try:
            # Retries within one poll interval at most: the next poll is the retry, and a shop that stopped
            # answering is told to the host after one interval, not after a round of retries (≤ 2 s).
            levels, cost = self.client.read_available([self.items[s].inventory_item_id for s in skus],
                                                      self.settings.location_id, timeout_s=self._poll_timeout_s,
                                                      deadline_s=min(self._poll_timeout_s,
                                                                     self.settings.poll_seconds))  # fmt: skip
        except ShopError as exc:
            self._failed(exc)
            return
        now = self._mono()
        with self._lock:
            self._drain()
            events: list[DropEvent] = []
            for sku in skus:
                level = levels[self.items[sku].inventory_item_id]
                floor, pool = self._floors.get(sku, (0, ""))
                events += self.ledger.observe_reading(self._wall(), sku, level.available, epochs[sku], floor=floor,
                                                      pool=pool)  # fmt: skip
                if level.updated_at and self.gate is not None:
                    self.gate.saw_level(numeric_id(self.items[sku].inventory_item_id), parse_time(level.updated_at))
            self._recovered(now)
            self.health.news(now)
            if cost is not None:
                self.health.cost(cost.actual, cost.currently_available, cost.maximum_available, cost.restore_rate)
            if events:
                self._commit(events)

    def _watch_news(self) -> None:
        """The stale alarm's start and end are incidents (the report lists them); the alarm itself is `alerts`."""
        now = self._mono()
        with self._lock:
            quiet = self.health.quiet_for(now)
            stale = self._is_live() and quiet >= self.settings.stale_alarm_seconds
            if stale and self.health.stale_since is None:
                self.health.stale_since = now
                self._commit([SyncIncident(self._wall(), "critical", "stale",
                                           f"No stock news from the shop for {quiet:.0f} s while live: the counter "
                                           "may be behind online sales.")])  # fmt: skip
            elif not stale and self.health.stale_since is not None and quiet < self.settings.stale_alarm_seconds:
                quiet_s = now - self.health.stale_since + self.settings.stale_alarm_seconds
                self.health.stale_since = None
                self._commit([SyncIncident(self._wall(), "info", "recovered",
                                           f"Stock news from the shop again after {quiet_s:.0f} s.")])  # fmt: skip

    # -- the writer ----------------------------------------------------------------------------

    def _write_step(self) -> float:
        with self._lock:
            self._drain()
            entry = self._queue[0] if self._queue and self.items else None
        if entry is None:
            return 0.5  # a committed sale wakes the worker at once
        with self._write_lock:
            written = self.write_one(entry)
        if written:
            self._backoff_s = 0.25
            return 0.0
        wait, self._backoff_s = self._backoff_s, min(5.0, self._backoff_s * 2)
        return wait  # the shop is away: the queue waits, in order

    def write_one(self, entry: _Pending) -> bool:
        """Send the oldest queued sale. True when it is settled (confirmed or refused), False to retry later."""
        item = self.items[entry.sku_id]
        if entry.code and not entry.claimed:
            claimed = self._claim(StickerCode(entry.code, entry.sku_id), entry.sale_id)
            if claimed is False:
                return False
            if isinstance(claimed, Refusal):  # another booth redeemed it while we were offline
                self._settle_refused(entry, None, f"code also redeemed elsewhere: {claimed.message}")
                return True
            entry.claimed = True
            with self._lock:
                self._claimed.add(entry.code)
        with self._lock:
            view = self.ledger.view(entry.sku_id)
            expected = entry.change_from if entry.change_from is not None else view.shop_available
            self.ledger.write_started(entry.sku_id)

        def journal_attempt(attempt: int, key: str, change_from: int) -> None:
            if (attempt, change_from) == (entry.attempt, entry.change_from):
                return  # resending the attempt journaled last (after a crash): same key, same level
            with self._lock:
                durable = self._commit([StallAttempt(self._wall(), entry.sale_id, key, change_from)])
            try:
                durable.result(JOURNAL_WAIT_S)  # never send an attempt a crash could forget
            except Exception as exc:
                raise JournalNotDurable(f"the session log did not store the attempt ({exc or 'timed out'})") from None
            entry.attempt, entry.change_from = attempt, change_from

        try:
            done = self.client.sell(item.inventory_item_id, self.settings.location_id, entry.qty, entry.sale_id,
                                    expected=expected, first_attempt=entry.attempt, on_attempt=journal_attempt,
                                    deadline_s=self._write_deadline_s, floor=view.floor,
                                    max_attempts=1 if entry.probe else 5)  # fmt: skip
        except ShopRefused as exc:
            self._finished(entry.sku_id)
            if entry.probe:
                self._not_taken(entry, exc)
            else:
                self._settle_refused(entry, exc.available, str(exc))
            return True
        except JournalNotDurable as exc:
            self._finished(entry.sku_id)
            log.warning("stall sale %s waits: %s", entry.sale_id, exc)
            return False
        except ShopContention as exc:  # other writers won every round: not an outage, not an oversell
            self._finished(entry.sku_id)
            if entry.probe:
                self._not_taken(entry, exc)
                return True
            log.info("stall sale %s: %s", entry.sale_id, exc)
            return False
        except ShopError as exc:
            self._finished(entry.sku_id)
            self._failed(exc)
            return False
        except BaseException:
            self._finished(entry.sku_id)  # never leave the item "in flight": polls would be ignored for good
            raise
        with self._lock:
            self.ledger.write_finished(entry.sku_id)
            if self.gate is not None:
                self.gate.own_write(numeric_id(item.inventory_item_id), done.after)
            self._commit(self.ledger.observe_confirmed(self._wall(), entry.sale_id, entry.sku_id, entry.qty,
                                                       done.before, done.after))  # fmt: skip
            if self._queue and self._queue[0] is entry:
                self._queue.popleft()
            if entry.probe:
                self._give_back(entry.sale_id, entry.sku_id, entry.qty)
            self.health.queued_writes = len(self._queue)
            self._recovered(self._mono())
            self.health.synced(self._mono())
        return True

    def _not_taken(self, entry: _Pending, why: Exception) -> None:
        """A probe's attempt, resent with its key, did not apply: the shop never took the uncounted units."""
        log.info("stall sale %s was never counted, and the shop did not take it (%s)", entry.sale_id, why)
        with self._lock:
            if self._queue and self._queue[0] is entry:
                self._queue.popleft()
            self.health.queued_writes = len(self._queue)

    def _finished(self, sku_id: str) -> None:
        with self._lock:
            self.ledger.write_finished(sku_id)

    def _settle_refused(self, entry: _Pending, available: int | None, reason: str) -> None:
        with self._lock:
            self._commit(self.ledger.observe_refused(self._wall(), entry.sale_id, entry.sku_id, entry.qty, available,
                                                     reason))  # fmt: skip
            if self._queue and self._queue[0] is entry:
                self._queue.popleft()
            self.health.queued_writes = len(self._queue)

    # -- confirm-first: a shared pool's units are taken off the shop before they are counted ---------

    def confirms_first(self, sku_id: str) -> bool:
        """True for a product of a shared pool while the shop answers and nothing older waits: its stall
        sale goes to the shop first, so two booths can never both sell the pool's last unit."""
        if not self.settings.pool or self.rehearsal or sku_id not in self.items:
            return False
        # no lock: the host's key asks this on the window's thread; two atomic reads, and `sell_now`
        # checks the queue again under the lock
        return not self._queue and self.health.failing_since is None

    def sell_now(self, sku_id: str, qty: int, sale_id: str, timeout_s: float = 1.0) -> bool | Refusal:
        """Take `qty` off the shop now (compare-and-set, never below the pool's floor), before the sale is
        counted. True: the shop took it (count it with `ref=sale_id`, then `settle_now`); a Refusal: the
        pool is spent (the counter learned why); False: no answer in time (count it with `ref=sale_id`: it is
        queued and resent with the same key). Waits up to `timeout_s`: call it from a worker."""
        started = self._mono()
        if not self._write_lock.acquire(timeout=timeout_s):
            return False
        budget_s = max(0.1, timeout_s - (self._mono() - started))  # the wait for the writer counts too
        try:
            with self._lock:
                self._drain()
                if self._queue:
                    return False  # older sales wait: this one goes behind them
                view = self.ledger.view(sku_id)
                self.ledger.write_started(sku_id)
            item = self.items[sku_id]

            def journal_attempt(attempt: int, key: str, change_from: int) -> None:
                with self._lock:
                    durable = self._commit([StallAttempt(self._wall(), sale_id, key, change_from, sku_id, qty)])
                try:
                    durable.result(JOURNAL_WAIT_S)
                except Exception as exc:
                    raise JournalNotDurable(f"the session log did not store the attempt ({exc})") from None
                with self._lock:  # sent from here on: a sale counted after a timeout resends exactly this
                    self._early_attempts[sale_id] = (attempt, change_from)

            try:
                done = self.client.sell(item.inventory_item_id, self.settings.location_id, qty, sale_id,
                                        expected=view.shop_available, on_attempt=journal_attempt,
                                        deadline_s=budget_s, timeout_s=budget_s, floor=view.floor)  # fmt: skip
            except ShopRefused as exc:
                self._finished(sku_id)
                self._early_attempts.pop(sale_id, None)
                with self._lock:
                    if exc.available is not None:
                        self._commit(self.ledger.observe_reading(self._wall(), sku_id, exc.available))
                name = self.names.get(sku_id, sku_id)
                if exc.code != "INSUFFICIENT":  # the shop turned the write itself down: say its reason
                    return Refusal(f"The shop refused the sale of {qty} × {name}: {exc}")
                return Refusal(f"{name} is sold out at the shop: the pool shared with the other booths is spent "
                               "(another booth or an online order took the last one).")  # fmt: skip
            except ShopError as exc:
                self._finished(sku_id)
                if isinstance(exc, ShopUnavailable) and not isinstance(exc, JournalNotDurable | ShopContention):
                    self._failed(exc)
                return False
            except BaseException:
                self._finished(sku_id)
                raise
            with self._lock:  # still "in flight" until settled: a poll now could count our own write as a sale
                if self.gate is not None:
                    self.gate.own_write(numeric_id(item.inventory_item_id), done.after)
                self._early_attempts.pop(sale_id, None)
                self._settled_early.add(sale_id)
                self._taken[sale_id] = (sku_id, qty, done.before, done.after)
            return True
        finally:
            self._write_lock.release()

    def settle_now(self, sale_id: str, counted: bool) -> None:
        """After `sell_now` said True: the sale is counted (journal the shop's confirmation behind it), or
        the drop refused it after all (the units go back to the shop). Always call it after a True."""
        with self._lock:
            sku_id, qty, before, after = self._taken.pop(sale_id)
            self.ledger.write_finished(sku_id)
            if counted:
                self._commit(self.ledger.observe_confirmed(self._wall(), sale_id, sku_id, qty, before, after))
                self._recovered(self._mono())
                self.health.synced(self._mono())
                return
            self._settled_early.discard(sale_id)
            self._commit(self.ledger.observe_confirmed(self._wall(), sale_id, sku_id, qty, before, after))
            self._give_back(sale_id, sku_id, qty)
        self._writer.wake()

    def abandon(self, sale_id: str, sku_id: str, qty: int) -> None:
        """After `sell_now` said False and the drop then refused the sale: an attempt that went out may
        have been applied, so it is resent with its key once (`probe`) and given back if the shop took it."""
        with self._lock:
            attempt = self._early_attempts.pop(sale_id, None)
            if attempt is None:
                return  # nothing was sent
            self._queue.append(_Pending(sale_id, sku_id, qty, attempt=attempt[0], change_from=attempt[1], probe=True))
            self.health.queued_writes = len(self._queue)
        self._writer.wake()

    def _give_back(self, sale_id: str, sku_id: str, qty: int) -> None:
        """The shop took `qty` for a sale the drop never counted: send them back (restore() finds this
        owed return again from the confirmation in the journal). Called with the lock held."""
        name = self.names.get(sku_id, sku_id)
        self._commit([SyncIncident(self._wall(), "warn", "returned",
                                   f"The shop took {qty} × {name} for a sale that was not counted here: "
                                   "they are given back to the shop.")])  # fmt: skip
        self._queue.append(_Pending(f"{sale_id}-back", sku_id, -qty))
        self.health.queued_writes = len(self._queue)

    # -- reading (any thread) ------------------------------------------------------------------

    def status(self, displayed: Mapping[str, int] | None = None) -> ShopStatus:
        """`displayed`: what the overlay shows per product (a counter above what the shop can sell is said).

        Never waits long: a sync thread holding the lock may itself be waiting for the drop's lock, which a
        caller inside a drop listener (the window, with an immediate journal) holds; the last status then."""
        if not self._lock.acquire(timeout=STATUS_WAIT_S):
            if self._last_status is not None:
                return self._last_status
            self._lock.acquire()
        try:
            self._last_status = self._status(displayed)
            return self._last_status
        finally:
            self._lock.release()

    def _status(self, displayed: Mapping[str, int] | None) -> ShopStatus:
        now = self._mono()
        self._drain()
        views = tuple(self.ledger.views())
        shop_left = {v.sku_id: v.left for v in views}
        alerts = self.health.alerts(now, self._is_live(), dict(displayed or {}), shop_left, self.names)
        if any(a.what == "discrepancy" for a in alerts) and not self._discrepancy_logged:
            self._discrepancy_logged = True
            first = next(a for a in alerts if a.what == "discrepancy")
            self._commit([SyncIncident(self._wall(), "warn", "discrepancy", first.message)])
        elif not any(a.what == "discrepancy" for a in alerts):
            self._discrepancy_logged = False
        health = self.health
        return ShopStatus(
            line=health.status_line(now), alerts=tuple(alerts), items=views, connected=self.gate is not None,
            rehearsal=self.rehearsal, queued=len(self._queue), sync_age_s=health.sync_age(now),
            poll_cost_points=health.budget_used_per_poll, budget_left=health.budget_left,
            budget_max=health.budget_max, restore_rate=health.restore_rate,
            budget_share=health.budget_share(self.settings.poll_seconds), calls=self.client.calls,
            throttled=self.client.throttled, domain=self.settings.domain,
            poll_seconds=self.settings.poll_seconds,
        )  # fmt: skip

    # -- bookkeeping ---------------------------------------------------------------------------

    def _commit(self, events: list[DropEvent]) -> Future[None]:
        """Fold here at once, journal through the drop (which folds them too). Called with the lock held;
        never waits: the caller waits on the future, outside the lock, when it must."""
        for event in events:
            self.ledger.apply(event)
            if isinstance(event, SyncIncident) and event.what == "oversold":
                self.health.oversold(self._mono(), event.message)
        future = self.counter.record(events)
        future.add_done_callback(self._stored)
        return future

    def _stored(self, future: Future[None]) -> None:
        if future.exception() is not None:
            self._rebuild_needed = True  # the journal lost one of ours: the next drain refolds from it
            self._poller.wake()

    def _setup_failed(self, message: str) -> None:
        with self._lock:
            if self.health.setup_problem != message:
                self.health.setup_problem = message
                self._commit([SyncIncident(self._wall(), "critical", "setup", message)])

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
        elif self._outage_before is not None:  # an outage Booth was restarted in
            down_s = self._wall() - self._outage_before.at_wall
            self._commit([SyncIncident(self._wall(), "info", "recovered",
                                       f"The shop answers again after {down_s:.0f} s (Booth restarted meanwhile).")])
        self._outage_before = None


def _attempt_index(sale_id: str, key: str) -> int:
    for attempt in range(64):
        if idempotency_key(sale_id, attempt) == key:
            return attempt
    return 0
