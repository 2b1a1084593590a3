"""Drop state: stock per SKU and the offer timer, changed only by events.

`Drop.decide_*` turns a host action into an event or a `Refusal` (a sentence the
host sees); `Drop.apply` folds an accepted event into the state. Nothing here
reads a clock by itself: the caller passes one in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from booth.core.clock import Clock
from booth.core.events import (
    DropEvent,
    OfferEnded,
    SaleRecorded,
    SaleUndone,
    StockAdjusted,
    TimerExtended,
    TimerStarted,
)


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

    def sku(self, sku_id: str) -> Sku:
        for sku in self.skus:
            if sku.id == sku_id:
                return sku
        raise KeyError(sku_id)


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
    _timer: _Timer = field(init=False)

    def __post_init__(self) -> None:
        self.stock = {sku.id: sku.stock for sku in self.spec.skus}
        self._timer = _Timer(self.spec.timer_seconds, self.spec.last_call_seconds)

    # -- reading -------------------------------------------------------------------------

    def phase(self) -> Phase:
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

    def view(self) -> DropView:
        skus = tuple(
            SkuView(s.id, s.name, self.stock[s.id], s.stock, self.level(self.stock[s.id]))
            for s in self.spec.skus
        )
        return DropView(
            title=self.spec.title,
            skus=skus,
            phase=self.phase(),
            remaining_s=self.remaining_s(),
            timer_seconds=self._timer.duration_s,
            units_sold=self.units_sold(),
            deadline_wall=self._timer.deadline_wall,
        )

    # -- deciding ------------------------------------------------------------------------

    def decide_sale(self, sku_id: str, qty: int = 1, origin: str = "host") -> SaleRecorded | Refusal:
        if sku_id not in self.stock:
            return Refusal(f"Unknown product {sku_id!r}.")
        if qty < 1:
            return Refusal(f"A sale needs at least one unit, got {qty}.")
        phase = self.phase()
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
        return SaleRecorded(self.clock.wall(), sku_id, qty, origin)

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
        if expected is not None and expected != self.stock[sku_id]:
            name = self.spec.sku(sku_id).name
            return Refusal(f"{name} has {self.stock[sku_id]} left, not {expected}: read the stock again first.")
        if new_stock == self.stock[sku_id]:
            return Refusal(f"Stock is already {new_stock}.")
        return StockAdjusted(self.clock.wall(), sku_id, new_stock, reason)

    def decide_start(self) -> TimerStarted | Refusal:
        if self._timer.deadline_mono is not None:
            return Refusal("The timer is already running.")
        return TimerStarted(self.clock.wall(), self.clock.wall() + self._timer.duration_s)

    def decide_extend(self, seconds: float) -> TimerExtended | Refusal:
        if self._timer.deadline_wall is None:
            return Refusal("Start the timer before extending it.")
        if seconds <= 0:
            return Refusal(f"An extension needs a positive number of seconds, got {seconds:g}.")
        now_wall = self.clock.wall()
        # Extending an ended offer reopens it from now, never into the past.
        base = max(self._timer.deadline_wall, now_wall) if not self._timer.ended else now_wall
        return TimerExtended(now_wall, seconds, base + seconds)

    def decide_end(self, reason: str = "host") -> OfferEnded | Refusal:
        if self._timer.deadline_mono is None:
            return Refusal("The offer has not started.")
        if self._timer.ended:
            return Refusal("The offer has already ended.")
        return OfferEnded(self.clock.wall(), reason)

    def deadline_passed_unrecorded(self) -> bool:
        """True once the deadline has passed but no OfferEnded event closed the offer yet."""
        timer = self._timer
        return timer.deadline_mono is not None and not timer.ended and self.remaining_s() <= 0

    # -- applying ------------------------------------------------------------------------

    def apply(self, event: DropEvent) -> None:
        match event:
            case SaleRecorded(sku_id=sku_id, qty=qty):
                self.stock[sku_id] -= qty
                self._sales.append(event)
            case SaleUndone(sku_id=sku_id, qty=qty):
                self._sales.pop()
                self.stock[sku_id] += qty
            case StockAdjusted(sku_id=sku_id, new_stock=new_stock):
                self.stock[sku_id] = new_stock
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
