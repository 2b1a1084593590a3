"""One counter from every channel: the drop's quota against the shop's `available`.

The shop is the pool every channel sells from; its polled `available` is the truth. The counter the
overlay shows for an item is

    left = min(quota − drawn, shop available − floor − stall units the shop has not confirmed yet)

where `drawn` counts every unit sold since the baseline, whoever sold it: a stall sale (key, phone remote,
sticker code: the drop's `SaleRecorded`) when the host makes it, an online order or another booth's sale
when the shop's level drops by more than our own writes explain (`ShopSold`). `drawn` only goes down for
a real gain at the shop (a restock or a cancellation, `ShopReturned`, each logged) or an undo at the stall,
and never below zero, so the counter never exceeds the quota. `floor` is the level booths never take the
shop below: 0, or a pool's floor shared by every booth selling one quota (see `booth.shop.sync`).

Readings are only trusted when nothing of ours was in flight: a poll sent before one of our writes (or
a webhook that moved the counter) and answered after it could show the level either side of it. Each
write and each such webhook bumps the item's epoch; a poll carries the epochs it was sent under and is
dropped if they moved. Our writes' own results (the level our compare-and-set matched, the level it
left) are exact and fill the gap.

Webhooks only ever move the counter down (a drop in the level that is not our echo); a rise seen by a
webhook asks for a poll instead, since a late delivery can carry an old level with a fresh-looking time.

The same fold runs in two places over the same events: inside the drop (`booth.core.drop.Drop`, which
shows and decides) and in the shop sync (which reads the shop and writes to it). `observe_*` return
events; `apply` folds them. Nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from booth.core.events import DropEvent, SaleRecorded, SaleUndone, StockAdjusted
from booth.core.shop.events import (
    ShopBaseline,
    ShopReturned,
    ShopSold,
    StallAttempt,
    StallSaleConfirmed,
    StallSaleRefused,
    SyncIncident,
)

SHOP_KINDS = frozenset(
    cls.kind for cls in (ShopBaseline, ShopSold, ShopReturned, StallAttempt, StallSaleConfirmed, StallSaleRefused,
                         SyncIncident)
)  # fmt: skip


@dataclass
class _Item:
    name: str
    quota: int
    drawn: int = 0
    shop: int | None = None  # last trusted level at the shop, our confirmed writes included
    floor: int = 0
    pending: int = 0  # stall units counted here, not yet confirmed by the shop (negative: returns owed)
    in_flight: int = 0  # our writes on the wire (transient: not part of the fold)
    epoch: int = 0  # bumped at every write start and end (transient)
    oversold: bool = False
    pool: str = ""


@dataclass(frozen=True)
class ItemView:
    sku_id: str
    name: str
    quota: int
    drawn: int
    shop_available: int | None
    pending: int
    left: int
    oversold: bool
    floor: int = 0
    pool: str = ""

    @property
    def shop_left(self) -> int | None:
        """What the shop can still sell to the booths: its level above the floor, minus our unconfirmed units."""
        return None if self.shop_available is None else max(0, self.shop_available - self.floor - self.pending)


@dataclass
class ShopLedger:
    quotas: Mapping[str, int]
    names: Mapping[str, str]
    _items: dict[str, _Item] = field(init=False)
    incidents: list[SyncIncident] = field(init=False, default_factory=list)
    codes: set[str] = field(init=False, default_factory=set)  # sticker codes spent in this drop

    def __post_init__(self) -> None:
        self._items = {sku: _Item(self.names.get(sku, sku), quota) for sku, quota in self.quotas.items()}

    def __contains__(self, sku_id: object) -> bool:
        return sku_id in self._items

    # -- reading -------------------------------------------------------------------------------

    def left(self, sku_id: str) -> int:
        item = self._items[sku_id]
        by_quota = item.quota - item.drawn
        if item.shop is None:
            return max(0, by_quota)
        return max(0, min(by_quota, item.shop - item.floor - item.pending))

    def view(self, sku_id: str) -> ItemView:
        item = self._items[sku_id]
        return ItemView(sku_id, item.name, item.quota, item.drawn, item.shop, item.pending, self.left(sku_id),
                        item.oversold, item.floor, item.pool)  # fmt: skip

    def views(self) -> list[ItemView]:
        return [self.view(sku) for sku in self._items]

    def epochs(self) -> dict[str, int]:
        """Take before sending a poll; hand back with its answer."""
        return {sku: item.epoch for sku, item in self._items.items()}

    def busy(self, sku_id: str) -> bool:
        """True while one of our writes for the item is on the wire or not yet confirmed."""
        item = self._items[sku_id]
        return item.in_flight > 0 or item.pending != 0

    def has_baseline(self, sku_id: str) -> bool:
        return self._items[sku_id].shop is not None

    def shop_cap(self, sku_id: str) -> int | None:
        """The most the counter may show: what the shop can still sell above the floor (None: not read yet)."""
        return self.view(sku_id).shop_left

    # -- observing the shop --------------------------------------------------------------------

    def observe_reading(
        self, at_wall: float, sku_id: str, available: int, epoch: int | None = None, source: str = "poll",
        floor: int = 0, pool: str = "",
    ) -> list[DropEvent]:
        """A level read from the shop (a poll, a CAS re-read, or a webhook): the events it implies.

        `epoch` is the item's epoch when the poll was sent (None for a re-read made while no write of
        ours could be in flight). `floor`/`pool` only matter for the first reading (the baseline).
        Returns [] when the reading cannot be trusted or changes nothing.
        """
        item = self._items.get(sku_id)
        if item is None:
            return []
        if epoch is not None and (epoch != item.epoch or item.in_flight):
            return []  # one of our writes crossed this reading: it may show either side of it
        if source == "webhook":
            if self.busy(sku_id) or item.shop is None or available >= item.shop:
                return []  # webhooks only move the counter down, and only when nothing of ours is pending
            item.epoch += 1  # a poll already on the wire may answer with the level before this delivery
        return self._level_events(at_wall, sku_id, available, floor=floor, pool=pool)

    def write_started(self, sku_id: str) -> None:
        item = self._items[sku_id]
        item.in_flight += 1
        item.epoch += 1

    def write_finished(self, sku_id: str) -> None:
        item = self._items[sku_id]
        item.in_flight = max(0, item.in_flight - 1)
        item.epoch += 1

    def observe_confirmed(
        self, at_wall: float, sale_id: str, sku_id: str, qty: int, before: int, after: int
    ) -> list[DropEvent]:
        """Our write matched `before` and left `after`: foreign changes up to `before`, then our sale."""
        events = self._level_events(at_wall, sku_id, before, emit_oversold=False)
        events.append(StallSaleConfirmed(at_wall, sale_id, sku_id, qty, before, after))
        if after < 0:
            events.append(self._oversold_incident(at_wall, sku_id, after))
        return events

    def observe_refused(
        self, at_wall: float, sale_id: str, sku_id: str, qty: int, available: int | None, reason: str
    ) -> list[DropEvent]:
        """The shop would not take a stall sale the host already saw succeed: an oversell, said once."""
        events: list[DropEvent] = []
        if available is not None:
            events += self._level_events(at_wall, sku_id, available, emit_oversold=False)
        events.append(StallSaleRefused(at_wall, sale_id, sku_id, qty, available, reason))
        item = self._items[sku_id]
        if available is None:
            shop_text = "the shop did not say how many it has"
        elif item.floor:
            shop_text = f"the pool shared with the other booths is spent: the shop has {available}, its floor is " \
                        f"{item.floor}"  # fmt: skip
        else:
            shop_text = f"the shop has {available}"
        events.append(SyncIncident(
            at_wall, "critical", "oversold",
            f"OVERSOLD: {qty} × {item.name} sold at the stall could not be taken off the shop ({shop_text}): "
            f"settle it with the buyer or cancel an online order.",
        ))  # fmt: skip
        return events

    def _level_events(self, at_wall: float, sku_id: str, available: int, emit_oversold: bool = True,
                      floor: int = 0, pool: str = "") -> list[DropEvent]:  # fmt: skip
        item = self._items[sku_id]
        events: list[DropEvent] = []
        if item.shop is None:
            events.append(ShopBaseline(at_wall, sku_id, available, item.quota, floor, pool))
        elif available < item.shop:
            events.append(ShopSold(at_wall, sku_id, item.shop - available, available))
        elif available > item.shop:
            gained = available - item.shop
            events.append(ShopReturned(at_wall, sku_id, min(gained, item.drawn), gained, available))
        if emit_oversold and available < 0 and not item.oversold:
            events.append(self._oversold_incident(at_wall, sku_id, available))
        return events

    def _oversold_incident(self, at_wall: float, sku_id: str, available: int) -> SyncIncident:
        name = self._items[sku_id].name
        return SyncIncident(at_wall, "critical", "oversold",
                            f"OVERSOLD: the shop shows {available} × {name} available: {-available} more sold than "
                            f"it had. Cancel or settle {-available} order(s).")  # fmt: skip

    # -- applying ------------------------------------------------------------------------------

    def handles(self, event: DropEvent) -> bool:
        """Whether `apply` has something to do with this event (a shop event, or a sale of a shop product)."""
        if event.kind in SHOP_KINDS:
            return True
        return isinstance(event, SaleRecorded | SaleUndone | StockAdjusted) and event.sku_id in self._items

    def apply(self, event: DropEvent) -> None:
        match event:
            case SaleRecorded(sku_id=sku, qty=qty, code=code) if sku in self._items:
                self._items[sku].drawn += qty
                self._items[sku].pending += qty
                if code:
                    self.codes.add(code)
            case SaleUndone(sku_id=sku, qty=qty) if sku in self._items:
                self._items[sku].drawn = max(0, self._items[sku].drawn - qty)
                self._items[sku].pending -= qty  # the units go back to the shop
            case StockAdjusted(sku_id=sku, new_stock=new_stock) if sku in self._items:
                item = self._items[sku]
                item.quota = new_stock + item.drawn  # the host changed what this offer may sell
            case ShopBaseline(sku_id=sku, available=available, floor=floor, pool=pool):
                self._items[sku].shop = available
                self._items[sku].floor, self._items[sku].pool = floor, pool
            case ShopSold(sku_id=sku, qty=qty, available=available):
                self._items[sku].drawn += qty
                self._items[sku].shop = available
            case ShopReturned(sku_id=sku, qty=qty, available=available):
                self._items[sku].drawn = max(0, self._items[sku].drawn - qty)
                self._items[sku].shop = available
            case StallAttempt():
                pass  # the outbox's concern: which key and level an attempt used
            case StallSaleConfirmed(sku_id=sku, qty=qty, available=available):
                item = self._items[sku]
                item.pending -= qty
                item.shop = available
                item.oversold = item.oversold or available < 0
            case StallSaleRefused(sku_id=sku, qty=qty, available=available):
                item = self._items[sku]
                item.pending -= qty
                if available is not None:
                    item.shop = available
                item.oversold = True
            case SyncIncident(what=what):
                self.incidents.append(event)
                if what == "oversold":
                    for item in self._items.values():
                        if item.shop is not None and item.shop < 0:
                            item.oversold = True
            case _:
                raise TypeError(f"not a shop event: {event!r}")

    def copy_transient_from(self, other: ShopLedger) -> None:
        """After a rebuild from the journal: keep what is on the wire (it is not in the fold)."""
        for sku, item in self._items.items():
            old = other._items.get(sku)
            if old is not None:
                item.in_flight, item.epoch = old.in_flight, old.epoch + 1
