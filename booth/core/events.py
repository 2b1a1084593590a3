"""Everything that changes a drop is one of these events.

The drop state is a fold over its events, so the session log can replay a drop
after a crash and every number the overlay showed can be reproduced from it.
Events carry wall-clock times: a deadline survives a restart of the machine,
whereas monotonic time does not.

An event decided for a remote caller (the control API, a shop) carries the caller's `Request`:
its idempotency key and a digest of what was asked. The session log stores both beside the
event, so a retry of the same request — after a timeout, after a crash — finds the event it
already produced instead of producing another one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Request:
    """Who asked, as far as retries go: the caller's idempotency key and a digest of the request."""

    key: str
    digest: str


@dataclass(frozen=True)
class DropEvent:
    kind: ClassVar[str] = "event"
    at_wall: float
    # Not part of the payload: the session log keeps it in columns of its own.
    request: Request | None = field(default=None, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        fields = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "request" and not (f.metadata.get("omit_empty") and not getattr(self, f.name))
        }
        return {"kind": self.kind, **fields}


def optional(default: str = "") -> Any:
    """A field added later: left out of the stored payload while empty, so older logs and drops
    without a shop read and write exactly as before."""
    return field(default=default, metadata={"omit_empty": True})


@dataclass(frozen=True)
class SaleRecorded(DropEvent):
    kind: ClassVar[str] = "sale"
    sku_id: str
    qty: int = 1
    origin: str = "host"  # host key/button, "api" (control API: buttons, the phone), "code" (a sticker code)
    # Drops with a shop: the sale's own id (its stall-sale idempotency keys derive from it) and the
    # sticker code that paid for it.
    ref: str = optional()
    code: str = optional()


@dataclass(frozen=True)
class SaleUndone(DropEvent):
    """Undoes the most recent sale that is not undone yet."""

    kind: ClassVar[str] = "undo"
    sku_id: str
    qty: int = 1
    ref: str = optional()  # drops with a shop: the id the units' return to the shop is sent under


@dataclass(frozen=True)
class StockAdjusted(DropEvent):
    kind: ClassVar[str] = "adjust"
    sku_id: str
    new_stock: int
    reason: str = "host correction"


@dataclass(frozen=True)
class TimerStarted(DropEvent):
    kind: ClassVar[str] = "timer_start"
    deadline_wall: float


@dataclass(frozen=True)
class TimerExtended(DropEvent):
    kind: ClassVar[str] = "timer_extend"
    seconds: float
    deadline_wall: float


@dataclass(frozen=True)
class OfferEnded(DropEvent):
    kind: ClassVar[str] = "offer_end"
    reason: str  # "deadline" or "host"


@dataclass(frozen=True)
class SegmentStarted(TimerStarted):
    """A segment of the run of show opens its offer: its own timer, its quota per product.

    The quota is decided once (the plan's, plus what earlier segments carried over) and kept in the
    event, so a replay opens the same offer whatever the plan's arithmetic later becomes."""

    kind: ClassVar[str] = "segment_start"
    index: int
    name: str
    quota: dict[str, int]
    length_s: float
    last_call_s: float
    by: str = "host"  # "host" (its key) or "hard start" (by itself at its planned time)


@dataclass(frozen=True)
class SegmentEnded(OfferEnded):
    """A segment's offer closes; `unsold` is its quota left per product (what it may carry over)."""

    kind: ClassVar[str] = "segment_end"
    index: int
    unsold: dict[str, int]


DROP_EVENT_TYPES: tuple[type[DropEvent], ...] = (
    SaleRecorded, SaleUndone, StockAdjusted, TimerStarted, TimerExtended, OfferEnded, SegmentStarted, SegmentEnded,
)
