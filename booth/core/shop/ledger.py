"""One counter from every channel: the drop's quota against the shop's `available`.

The shop is the pool every channel sells from; its polled `available` is the truth. The counter the
overlay shows for an item is

    left = min(quota − drawn, shop available − stall sales the shop has not confirmed yet)

where `drawn` counts every unit sold during the offer, whoever sold it: a stall sale (key, phone remote,
sticker code) when the host makes it, an online order or another booth's sale when the shop's level
drops by more than our own writes explain. `drawn` only goes down when the shop really gains stock
(a restock or a cancellation, each logged), and never below zero, so the counter never exceeds the quota.

Readings are only trusted when nothing of ours was in flight: a poll sent before one of our writes (or
a webhook that moved the counter) and answered after it could show the level either side of it. Each
write and each such webhook bumps the item's epoch; a poll carries the epochs it was sent under and is
dropped if they moved. Our writes' own results (the level
our compare-and-set matched, the level it left) are exact and fill the gap.

Webhooks only ever move the counter down (a drop in the level that is not our echo); a rise seen by a
webhook asks for a poll instead, since a late delivery can carry an old level with a fresh-looking time.

`decide_*`/`observe_*` return events (or a Refusal); `apply` folds them. Nothing here reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from booth.core.drop import Refusal
from booth.core.events import DropEvent
from booth.core.shop.events import (
    ShopBaseline,
    ShopReturned,
    ShopSold,
    StallAttempt,
    StallSaleConfirmed,
    StallSaleQueued,
    StallSaleRefused,
    SyncIncident,
)


@dataclass
class _Item:
    name: str
    quota: int
    drawn: int = 0
    shop: int | None = None  # last trusted level at the shop, our confirmed writes included
    pending: int = 0  # stall units counted here, not yet confirmed by the shop
    in_flight: int = 0  # our writes on the wire (transient: not part of the fold)
    epoch: int = 0  # bumped at every write start and end (transient)
    oversold: bool = False


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


@dataclass
class ShopLedger:
    quotas: Mapping[str, int]
    names: Mapping[str, str]
    _items: dict[str, _Item] = field(init=False)
    incidents: list[SyncIncident] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self._items = {sku: _Item(self.names.get(sku, sku), quota) for sku, quota in self.quotas.items()}

    # -- reading -------------------------------------------------------------------------------

    def left(self, sku_id: str) -> int:
        item = self._items[sku_id]
        by_quota = item.quota - item.drawn
        if item.shop is None:
            return max(0, by_quota)
        return max(0, min(by_quota, item.shop - item.pending))

    def view(self, sku_id: str) -> ItemView:
        item = self._items[sku_id]
        return ItemView(sku_id, item.name, item.quota, item.drawn, item.shop, item.pending, self.left(sku_id),
                        item.oversold)  # fmt: skip

    def epochs(self) -> dict[str, int]:
        """Take before sending a poll; hand back with its answer."""
        return {sku: item.epoch for sku, item in self._items.items()}

    def busy(self, sku_id: str) -> bool:
        """True while one of our writes for the item is on the wire or not yet confirmed."""
        item = self._items[sku_id]
        return item.in_flight > 0 or item.pending > 0

    # -- deciding ------------------------------------------------------------------------------

    def decide_stall_sale(
        self, at_wall: float, sale_id: str, sku_id: str, qty: int = 1, origin: str = "host", code: str = ""
    ) -> StallSaleQueued | Refusal:
        item = self._items.get(sku_id)
        if item is None:
            return Refusal(f"{sku_id!r} is not sold through the shop in this drop.")
        if qty < 1:
            return Refusal(f"A sale needs at least one unit, got {qty}.")
        left = self.left(sku_id)
        if left <= 0:
            return Refusal(f"{item.name} is sold out (shop and quota).")
        if qty > left:
            return Refusal(f"Only {left} of {item.name} left, cannot sell {qty}.")
        return StallSaleQueued(at_wall, sale_id, sku_id, qty, origin, code)

    def observe_reading(
        self, at_wall: float, sku_id: str, available: int, epoch: int | None = None, source: str = "poll"
    ) -> list[DropEvent]:
        """A level read from the shop (a poll, a CAS re-read, or a webhook): the events it implies.

        `epoch` is the item's epoch when the poll was sent (None for a re-read made while no write of
        ours could be in flight). Returns [] when the reading cannot be trusted or changes nothing.
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
        return self._level_events(at_wall, sku_id, available)

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
        name = self._items[sku_id].name
        shop_text = f"the shop has {available}" if available is not None else "the shop did not say how many it has"
        events.append(SyncIncident(
            at_wall, "critical", "oversold",
            f"OVERSOLD: {qty} × {name} sold at the stall could not be taken off the shop ({shop_text}): "
            f"settle it with the buyer or cancel an online order.",
        ))  # fmt: skip
        return events

    def _level_events(self, at_wall: float, sku_id: str, available: int, emit_oversold: bool = True) -> list[DropEvent]:
        item = self._items[sku_id]
        events: list[DropEvent] = []
        if item.shop is None:
            events.append(ShopBaseline(at_wall, sku_id, available, item.quota))
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

    def apply(self, event: DropEvent) -> None:
        match event:
            case ShopBaseline(sku_id=sku, available=available):
                self._items[sku].shop = available
            case ShopSold(sku_id=sku, qty=qty, available=available):
                self._items[sku].drawn += qty
                self._items[sku].shop = available
            case ShopReturned(sku_id=sku, qty=qty, available=available):
                self._items[sku].drawn = max(0, self._items[sku].drawn - qty)
                self._items[sku].shop = available
            case StallSaleQueued(sku_id=sku, qty=qty):
                self._items[sku].drawn += qty
                self._items[sku].pending += qty
            case StallAttempt():
                pass  # the outbox's concern: which key and level an attempt used
            case StallSaleConfirmed(sku_id=sku, qty=qty, available=available):
                item = self._items[sku]
                item.pending = max(0, item.pending - qty)
                item.shop = available
                item.oversold = item.oversold or available < 0
            case StallSaleRefused(sku_id=sku, qty=qty, available=available):
                item = self._items[sku]
                item.pending = max(0, item.pending - qty)
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
