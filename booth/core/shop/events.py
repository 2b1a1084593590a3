"""What the shop sync puts in the session log. Each is a DropEvent (kind + wall time), so the journal
stores it like any sale and a replay after a crash rebuilds the same quota."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from booth.core.events import DropEvent


@dataclass(frozen=True)
class ShopBaseline(DropEvent):
    """The first trusted reading of an item: the counter starts from min(quota, shop available)."""

    kind: ClassVar[str] = "shop_baseline"
    sku_id: str
    available: int
    quota: int


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
class StallSaleQueued(DropEvent):
    """A stall sale (key, phone, sticker code) the shop must hear about: the outbox entry.

    `sale_id` names the sale for good: the idempotency keys of its attempts derive from it, and the
    shop's history shows it as referenceDocumentUri gid://booth/StallSale/<sale_id>.
    """

    kind: ClassVar[str] = "stall_queued"
    sale_id: str
    sku_id: str
    qty: int
    origin: str = "host"  # host, remote, code
    code: str = ""  # the sticker code, when redeemed by one


@dataclass(frozen=True)
class StallAttempt(DropEvent):
    """Written *before* an attempt is sent: after a crash the same key and expected level are resent."""

    kind: ClassVar[str] = "stall_attempt"
    sale_id: str
    key: str
    change_from: int


@dataclass(frozen=True)
class StallSaleConfirmed(DropEvent):
    kind: ClassVar[str] = "stall_confirmed"
    sale_id: str
    sku_id: str
    qty: int
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
    for cls in (ShopBaseline, ShopSold, ShopReturned, StallSaleQueued, StallAttempt, StallSaleConfirmed,
                StallSaleRefused, SyncIncident)
}
