"""Drop state: stock per SKU and the offer timer, changed only by events.

`Drop.decide_*` turns a host action into an event or a `Refusal` (a sentence the
host sees); `Drop.apply` folds an accepted event into the state. Nothing here
reads a clock by itself: the caller passes one in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from booth.core.clock import Clock
from booth.core.events import (
    DropEvent,
    OfferEnded,
    SaleRecorded,
    SaleUndone,
    SegmentEnded,
    SegmentStarted,
    StockAdjusted,
    TimerExtended,
    TimerStarted,
)
from booth.core.plan import Plan, for_rehearsal, plan_from_dict
from booth.core.shop.events import ShopReturned, ShopSold
from booth.core.shop.ledger import ShopLedger
from booth.core.show import ShowRun, ShowView


class Phase(StrEnum):
    READY = "ready"
    LIVE = "live"
    LAST_CALL = "last call"
    ENDED = "ended"


class StockLevel(StrEnum):
    PLENTY = "plenty"
    LOW = "low"  # amber
    CRITICAL = "critical"  # red
    SOLD_OUT = "sold out"


@dataclass(frozen=True)
class Sku:
    id: str
    name: str
    stock: int


@dataclass(frozen=True)
class DropSpec:
    """What the drop config says; the starting point every replay begins from."""

    title: str
    skus: tuple[Sku, ...]
    timer_seconds: float = 90.0
    last_call_seconds: float = 10.0
    low_at: int = 10
    critical_at: int = 3
    pre_sale: bool = False  # accept sales before the offer starts (the overlay says STARTS SOON)
    plan: Plan | None = None  # the run of show: each segment opens its own offer (None: one offer)
    rehearsal: bool = False  # a rehearsal: shadow stock, marked REHEARSAL everywhere, never the shop's stock
    # Products sold from a shop ([shop] in the drop file): their `stock` is this offer's quota of the
    # shop's stock, and their counter is the shop ledger's (booth.core.shop.ledger), fed by the same events.
    shop_skus: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "shop_skus", tuple(self.shop_skus))  # a snapshot read back from JSON has a list

    def sku(self, sku_id: str) -> Sku:
        for sku in self.skus:
            if sku.id == sku_id:
                return sku
        raise KeyError(sku_id)

    def as_rehearsal(self, start_wall: float) -> DropSpec:
        """The drop as a rehearsal runs it: marked, on a shadow of the stock (this spec's own numbers;
        with [shop] the shop is read and never written), its plan's segments back to back from `start_wall`."""
        plan = for_rehearsal(self.plan, start_wall) if self.plan is not None else None
        return replace(self, rehearsal=True, plan=plan)


def spec_from_dict(data: dict[str, Any]) -> DropSpec:
    """A spec as `dataclasses.asdict` wrote it (the session log's snapshot)."""
    drop = dict(data)
    drop["skus"] = tuple(Sku(**sku) for sku in drop["skus"])
    plan = drop.get("plan")
    drop["plan"] = plan_from_dict(plan) if isinstance(plan, dict) else None
    return DropSpec(**drop)


@dataclass(frozen=True)
class Refusal:
    """An action the drop turned down, in words for the host."""

    message: str


@dataclass(frozen=True)
class SkuView:
    id: str
    name: str
    left: int
    initial: int
    level: StockLevel
    shop_available: int | None = None  # a shop product: the shop's own stock, as last read ("50 of the shop's 400")


@dataclass(frozen=True)
class DropView:
    """An immutable picture of the drop at one instant, safe to hand to any thread."""

    title: str
    skus: tuple[SkuView, ...]
    phase: Phase
    remaining_s: float
    timer_seconds: float
    units_sold: int
    deadline_wall: float | None = None  # when the offer closes, wall clock (None before the start)
    show: ShowView | None = None  # the run of show, when the drop has a plan
    rehearsal: bool = False

    @property
    def over(self) -> bool:
        """The drop is over: its one offer ended, or every segment of its plan has run."""
        return self.phase is Phase.ENDED and (self.show is None or self.show.over)

    def sku(self, sku_id: str) -> SkuView:
        for sku in self.skus:
            if sku.id == sku_id:
                return sku
        raise KeyError(sku_id)


@dataclass
class _Timer:
    duration_s: float
    last_call_s: float
    deadline_mono: float | None = None
    deadline_wall: float | None = None
    ended: bool = False


@dataclass
class Drop:
    spec: DropSpec
    clock: Clock
    stock: dict[str, int] = field(init=False)
    _sales: list[SaleRecorded] = field(init=False, default_factory=list)
    _sale_segments: list[int | None] = field(init=False, default_factory=list)  # the segment of each sale
    _timer: _Timer = field(init=False)
    show: ShowRun | None = field(init=False, default=None)
    shop: ShopLedger | None = field(init=False, default=None)  # the shop products' counter, when there are any

    def __post_init__(self) -> None:
        self.stock = {sku.id: sku.stock for sku in self.spec.skus}
        self._timer = _Timer(self.spec.timer_seconds, self.spec.last_call_seconds)
        if self.spec.plan is not None:
            self.show = ShowRun(self.spec.plan)
        if self.spec.shop_skus:
            skus = [self.spec.sku(sku_id) for sku_id in self.spec.shop_skus]
            self.shop = ShopLedger({s.id: s.stock for s in skus}, {s.id: s.name for s in skus})

    # -- reading -------------------------------------------------------------------------

    def phase(self) -> Phase:
        show = self.show
        if show is not None and show.current is None:
            # Between segments the next one is ready to start; after the last one the drop is over.
            return Phase.ENDED if show.runs and show.next_segment(self.clock.wall()) is None else Phase.READY
        timer = self._timer
        if timer.deadline_mono is None:
            return Phase.READY
        if timer.ended:
            return Phase.ENDED
        remaining = self.remaining_s()
        if remaining <= 0:
            return Phase.ENDED
        if remaining <= timer.last_call_s:
            return Phase.LAST_CALL
        return Phase.LIVE

    def remaining_s(self) -> float:
        """Seconds left on the offer: the full length before start, 0 once ended."""
        show = self.show
        if show is not None and show.current is None:
            nxt = show.next_segment(self.clock.wall())
            return nxt.length_s if nxt is not None else 0.0
        timer = self._timer
        if timer.deadline_mono is None:
            return timer.duration_s
        if timer.ended:
            return 0.0
        return max(0.0, timer.deadline_mono - self.clock.monotonic())

    @property
    def deadline_wall(self) -> float | None:
        return self._timer.deadline_wall

    def level(self, left: int) -> StockLevel:
        if left <= 0:
            return StockLevel.SOLD_OUT
        if left <= self.spec.critical_at:
            return StockLevel.CRITICAL
        if left <= self.spec.low_at:
            return StockLevel.LOW
        return StockLevel.PLENTY

    def units_sold(self) -> int:
        return sum(sale.qty for sale in self._sales)

    def left(self, sku_id: str) -> int:
        """Units the counter shows: the running segment's quota left with a plan, else the stock."""
        if self.show is None:
            return self.stock[sku_id]
        return self.show.shown_left(sku_id, self.stock, self.clock.wall())[0]

    def view(self) -> DropView:
        show = self.show
        shop = self.shop
        now_wall = self.clock.wall()
        skus = []
        for s in self.spec.skus:
            left, initial = (self.stock[s.id], s.stock) if show is None else show.shown_left(s.id, self.stock, now_wall)
            shop_available = shop.view(s.id).shop_available if shop is not None and s.id in shop else None
            skus.append(SkuView(s.id, s.name, left, initial, self.level(left), shop_available))
        timer_seconds = self._timer.duration_s
        if show is not None and show.current is None:
            timer_seconds = self.remaining_s()
        return DropView(
            title=self.spec.title,
            skus=tuple(skus),
            phase=self.phase(),
            remaining_s=self.remaining_s(),
            timer_seconds=timer_seconds,
            units_sold=self.units_sold(),
            deadline_wall=self._timer.deadline_wall if show is None or show.current is not None else None,
            show=show.view(now_wall) if show is not None else None,
            rehearsal=self.spec.rehearsal,
        )

    # -- deciding ------------------------------------------------------------------------

    def decide_sale(self, sku_id: str, qty: int = 1, origin: str = "host", code: str = "",
                    ref: str = "") -> SaleRecorded | Refusal:  # fmt: skip
        if sku_id not in self.stock:
            return Refusal(f"Unknown product {sku_id!r}.")
        if qty < 1:
            return Refusal(f"A sale needs at least one unit, got {qty}.")
        phase = self.phase()
        if self.show is not None:
            name = self.spec.sku(sku_id).name
            why = self.show.refuse_sale(sku_id, qty, name, self.clock.wall())
            if why is None and phase is Phase.ENDED:
                why = f"{self.show.running.name if self.show.running else 'The segment'} has ended: sales are closed."
            return Refusal(why) if why else SaleRecorded(self.clock.wall(), sku_id, qty, origin)
        if phase is Phase.ENDED:
            return Refusal("Offer ended: sales are closed. Extend the timer to reopen.")
        if phase is Phase.READY and not self.spec.pre_sale:
            return Refusal("The offer has not started: press T to start it (or set pre_sale = true in the drop file).")
        left = self.stock[sku_id]
        name = self.spec.sku(sku_id).name
        if left <= 0:
            return Refusal(f"{name} is sold out.")
        if qty > left:
            return Refusal(f"Only {left} of {name} left, cannot sell {qty}.")
        if code and self.shop is not None and code in self.shop.codes:
            return Refusal("This sticker code was already used in this drop.")
        return SaleRecorded(self.clock.wall(), sku_id, qty, origin, ref=ref, code=code)

    def decide_undo(self) -> SaleUndone | Refusal:
        if not self._sales:
            return Refusal("No sale to undo.")
        last = self._sales[-1]
        return SaleUndone(self.clock.wall(), last.sku_id, last.qty)

    def decide_adjust(
        self, sku_id: str, new_stock: int, reason: str = "host correction", expected: int | None = None
    ) -> StockAdjusted | Refusal:
        """Set a product's stock. With `expected` (compare-and-set), only if the stock still is that:
        a caller that read the stock before someone sold must read it again."""
        if sku_id not in self.stock:
            return Refusal(f"Unknown product {sku_id!r}.")
        if new_stock < 0:
            return Refusal(f"Stock cannot be negative (asked for {new_stock}).")
        if self.show is not None and self.show.current is None:
            nxt = self.show.next_segment(self.clock.wall())
            what = f"what {nxt.name} will open with" if nxt is not None else "what the show left"
            return Refusal(f"Between segments the counter shows {what}: adjust it while a segment runs.")
        shown = self.left(sku_id)
        if expected is not None and expected != shown:
            name = self.spec.sku(sku_id).name
            return Refusal(f"{name} has {shown} left, not {expected}: read the stock again first.")
        if new_stock == shown:
            return Refusal(f"Stock is already {new_stock}.")
        cap = self.shop.shop_cap(sku_id) if self.shop is not None and sku_id in self.shop else None
        if cap is not None and new_stock > self.stock[sku_id] and new_stock > cap:
            name = self.spec.sku(sku_id).name
            return Refusal(f"The shop can sell only {cap} more {name}: the counter cannot show {new_stock}.")
        return StockAdjusted(self.clock.wall(), sku_id, new_stock, reason)

    def decide_start(self, by: str = "host") -> TimerStarted | Refusal:
        if self.show is not None:
            started = self.show.decide_start(self.clock.wall(), self.stock, by)
            return Refusal(started) if isinstance(started, str) else started
        if self._timer.deadline_mono is not None:
            return Refusal("The timer is already running.")
        return TimerStarted(self.clock.wall(), self.clock.wall() + self._timer.duration_s)

    def decide_extend(self, seconds: float) -> TimerExtended | Refusal:
        if self.show is not None and self.show.current is None:
            return Refusal("No segment is running: the next one starts with T.")
        if self._timer.deadline_wall is None:
            return Refusal("Start the timer before extending it.")
        if seconds <= 0:
            return Refusal(f"An extension needs a positive number of seconds, got {seconds:g}.")
        now_wall = self.clock.wall()
        # Extending an ended offer reopens it from now, never into the past.
        base = max(self._timer.deadline_wall, now_wall) if not self._timer.ended else now_wall
        return TimerExtended(now_wall, seconds, base + seconds)

    def decide_end(self, reason: str = "host") -> OfferEnded | Refusal:
        if self.show is not None:
            # At its deadline a segment ended at the deadline, even when that is recorded later (a restart):
            # its actual length, and the show's over/under, are the truth.
            at = self.clock.wall()
            if reason == "deadline" and self._timer.deadline_wall is not None:
                at = min(at, self._timer.deadline_wall)
            ended = self.show.decide_end(at, reason)
            return Refusal(ended) if isinstance(ended, str) else ended
        if self._timer.deadline_mono is None:
            return Refusal("The offer has not started.")
        if self._timer.ended:
            return Refusal("The offer has already ended.")
        return OfferEnded(self.clock.wall(), reason)

    def deadline_passed_unrecorded(self) -> bool:
        """True once the deadline has passed but no OfferEnded event closed the offer yet."""
        timer = self._timer
        if self.show is not None and self.show.current is None:
            return False
        return timer.deadline_mono is not None and not timer.ended and self.remaining_s() <= 0

    def due_hard_start(self) -> bool:
        """True when the plan's next segment must start by itself now (its hard start has come)."""
        return self.show is not None and self.show.due_hard_start(self.clock.wall()) is not None

    # -- applying ------------------------------------------------------------------------

    def apply(self, event: DropEvent) -> None:
        show = self.show
        shop = self.shop
        if shop is not None and shop.handles(event):
            # A shop product (or a shop event): its counter is the ledger's, from the same events; a run of
            # show still hears which segment each sale and undo belongs to.
            shop.apply(event)
            if isinstance(event, SaleRecorded):
                self._sales.append(event)
                self._sale_segments.append(show.sale(event.sku_id, event.qty) if show is not None else None)
            elif isinstance(event, SaleUndone):
                self._sales.pop()
                segment = self._sale_segments.pop()
                if show is not None:
                    show.undo(segment, event.sku_id, event.qty)
            elif show is not None and isinstance(event, ShopSold):
                show.sold_at_shop(event.sku_id, event.qty)  # an online order during a segment is its sale too
            elif show is not None and isinstance(event, ShopReturned):
                show.returned_at_shop(event.sku_id, event.qty)
            for sku_id in self.spec.shop_skus:
                self.stock[sku_id] = shop.left(sku_id)
            if show is not None:
                show.cap(self.stock)
            return
        match event:
            case SaleRecorded(sku_id=sku_id, qty=qty):
                self.stock[sku_id] -= qty
                self._sales.append(event)
                self._sale_segments.append(show.sale(sku_id, qty) if show is not None else None)
            case SaleUndone(sku_id=sku_id, qty=qty):
                self._sales.pop()
                segment = self._sale_segments.pop()
                self.stock[sku_id] += qty
                if show is not None:
                    show.undo(segment, sku_id, qty)
            case StockAdjusted(sku_id=sku_id, new_stock=new_stock):
                if show is not None and show.current is not None:
                    self.stock[sku_id] = max(0, self.stock[sku_id] + show.adjust(sku_id, new_stock))
                else:
                    self.stock[sku_id] = new_stock
                if show is not None:
                    show.cap(self.stock)
            case SegmentStarted(deadline_wall=deadline_wall, length_s=length_s, last_call_s=last_call_s):
                assert show is not None, "a segment event in a drop without a plan"
                show.apply(event)
                self._timer = _Timer(length_s, last_call_s)
                self._set_deadline(deadline_wall)
            case SegmentEnded():
                assert show is not None, "a segment event in a drop without a plan"
                show.apply(event)
                self._timer.ended = True
            case TimerStarted(deadline_wall=deadline_wall) | TimerExtended(deadline_wall=deadline_wall):
                self._set_deadline(deadline_wall)
                self._timer.ended = False
            case OfferEnded():
                self._timer.ended = True
            case _:
                raise TypeError(f"not a drop event: {event!r}")

    def _set_deadline(self, deadline_wall: float) -> None:
        # The wall deadline is the truth (it survives a crash); the monotonic one is what we
        # count down against, immune to the wall clock being stepped while live.
        self._timer.deadline_wall = deadline_wall
        self._timer.deadline_mono = self.clock.monotonic() + (deadline_wall - self.clock.wall())
