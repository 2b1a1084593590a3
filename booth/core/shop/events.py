"""What the shop sync puts in the session log. Each is a DropEvent (kind + wall time): the drop controller
journals it like any sale, the drop's fold applies it (`booth.core.drop.Drop` folds a `ShopLedger` for the
products the shop sells), and a replay after a crash rebuilds the same counter.

Stall sales themselves are the drop's own `SaleRecorded` (with a `ref`): the committed sale *is* the
outbox entry the shop sync sends; `SaleUndone` (with a `ref`) sends the units back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from booth.core.events import DropEvent, optional


@dataclass(frozen=True)
class ShopBaseline(DropEvent):
    """The first trusted reading of an item: the counter starts from min(quota, shop available − floor)."""

    kind: ClassVar[str] = "shop_baseline"
    sku_id: str
    available: int
    quota: int
    floor: int = 0  # booths never take the shop below this (a shared pool's floor; 0 without a pool)
    pool: str = optional()  # the pool shared with other booths, if any


@dataclass(frozen=True)
class ShopSold(DropEvent):
    """The shop lost units Booth did not sell: online orders, another booth, another channel."""

    kind: ClassVar[str] = "shop_sold"
    sku_id: str
    qty: int
    available: int  # the shop's available after it


@dataclass(frozen=True)
class ShopReturned(DropEvent):
    """The shop gained units (restock or cancellation): counted back, never past the quota."""

    kind: ClassVar[str] = "shop_returned"
    sku_id: str
    qty: int  # units counted back into the quota (≤ what the shop gained)
    gained: int  # what the shop gained
    available: int


@dataclass(frozen=True)
class StallAttempt(DropEvent):
    """Written *before* an attempt is sent: after a crash the same key and expected level are resent.
    `sale_id` is the stall sale's (or undo's) `ref`. A shared pool's sale is sent before it is counted
    (confirm-first): its attempt names the product and units, so a crash between the shop taking them
    and the sale being counted can be found and the units given back."""

    kind: ClassVar[str] = "stall_attempt"
    sale_id: str
    key: str
    change_from: int
    sku_id: str = optional()  # confirm-first attempts only
    qty: int = field(default=0, metadata={"omit_empty": True})


@dataclass(frozen=True)
class StallSaleConfirmed(DropEvent):
    kind: ClassVar[str] = "stall_confirmed"
    sale_id: str
    sku_id: str
    qty: int  # negative: units an undo gave back to the shop
    before: int  # the level our compare-and-set matched
    available: int  # the level our write left


@dataclass(frozen=True)
class StallSaleRefused(DropEvent):
    """The shop could not take a stall sale the host already saw succeed: an oversell."""

    kind: ClassVar[str] = "stall_refused"
    sale_id: str
    sku_id: str
    qty: int
    available: int | None
    reason: str


@dataclass(frozen=True)
class SyncIncident(DropEvent):
    """Shop unreachable, throttled, wrong credentials, silent too long, oversold…: for the host line and the report."""

    kind: ClassVar[str] = "sync_incident"
    severity: str  # info | warn | critical
    what: str  # a stable word: unreachable, throttled, auth, stale, oversold, recovered, discrepancy
    message: str  # the sentence the host sees


SHOP_EVENT_TYPES: dict[str, type[DropEvent]] = {
    cls.kind: cls
    for cls in (ShopBaseline, ShopSold, ShopReturned, StallAttempt, StallSaleConfirmed, StallSaleRefused,
                SyncIncident)
}
