"""The run of show inside a drop: which segment's offer is open, its quota per product, what the
ended ones left unsold. A fold over the segment events (`SegmentStarted`, `SegmentEnded`) and the
sales the drop applies, with decisions that return an event or a `Refusal`; time is passed in.

The drop keeps one stock per product (its `[[sku]]` stock); a segment opens an offer on part of it,
its quota (the plan's, plus what earlier segments carried over, never more than the stock left). A
sale in a segment draws the quota and the stock down together; the overlay shows the quota.
Between segments no offer is open: sales are refused, the counter shows what the next segment will
open with, and T starts it once it is armed (an hour before its planned start) — or it starts by
itself at a hard start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from booth.core.events import DropEvent, SegmentEnded, SegmentStarted
from booth.core.plan import (
    Plan,
    Segment,
    SegmentClock,
    SegmentRun,
    ShowState,
    due_hard_start,
    format_span,
    quota_for,
    show_state,
)

# Decisions return the event, or the sentence the drop turns into its `Refusal`.


@dataclass(frozen=True)
class ShowView:
    """The run of show at one instant, for the host view, the overlay and the report (immutable)."""

    state: ShowState
    now_elapsed_s: float | None  # seconds the running segment has run (None: none runs)
    drops_at: str  # the next selling segment's planned start, local ("SAT 19:00"); "" when none follows

    @property
    def now(self) -> Segment | None:
        return self.state.now

    @property
    def next(self) -> Segment | None:
        return self.state.next

    @property
    def next_in_s(self) -> float | None:
        return self.state.next_in_s

    @property
    def armed(self) -> bool:
        return self.state.armed

    @property
    def over(self) -> bool:
        """Every segment has run."""
        return self.state.now is None and self.state.next is None

    @property
    def clocks(self) -> tuple[SegmentClock, ...]:
        return self.state.clocks

    @property
    def running_over_s(self) -> float | None:
        """How far the running segment is past its planned length (negative: time still to go)."""
        if self.now is None or self.now_elapsed_s is None:
            return None
        return self.now_elapsed_s - self.now.length_s

    @property
    def show_over_under_s(self) -> float:
        """The whole show against the plan: finished segments' over/under, plus the running one's
        overrun once it is past its length (it cannot be under before it ends)."""
        running = self.running_over_s
        return self.state.show_over_under_s + (running if running is not None and running > 0 else 0.0)

    def headline(self) -> str:
        return self.state.headline()

    def host_line(self) -> str:
        """Now and next, for the host: "now: HEADLINE BURST 07:12 of 15:00 · next: RECAP in 2 h 14 m"."""
        now = self.now
        if now is None:
            line = self.headline()
            if self.armed and self.next is not None:
                line += " · armed: T starts it" if not self.next.hard_start else " · starts by itself (hard start)"
            return line
        elapsed = self.now_elapsed_s or 0.0
        line = f"now: {now.name} {format_mmss(elapsed)} of {format_mmss(now.length_s)}"
        over = self.running_over_s
        if over is not None and over > 0:
            line += f" ({format_signed(over)} over)"
        nxt = self.next
        if nxt is not None and self.next_in_s is not None:
            line += f" · next: {nxt.name} in {format_span(max(0.0, self.next_in_s))}"
        return line

    def clock_line(self) -> str:
        """Planned against actual, Shoflo-style: each segment that ran, and the whole show."""
        parts = []
        for clock in self.clocks:
            if clock.started_wall is None:
                continue
            late = clock.start_late_s or 0.0
            start = f"started {format_signed(late)}" if abs(late) >= 1 else "on time"
            length = _length_words(clock.over_under_s)
            parts.append(f"{clock.segment.name}: {start}, {length}")
        total = self.show_over_under_s
        show = "on plan" if abs(total) < 1 else f"{format_signed(total)} {'over' if total > 0 else 'under'}"
        return " · ".join([*parts, f"show {show}"]) if parts else f"planned: {len(self.clocks)} segments"


@dataclass
class ShowRun:
    plan: Plan
    runs: dict[int, SegmentRun] = field(default_factory=dict)
    current: int | None = None  # the running segment's index
    opened: dict[str, int] = field(default_factory=dict)  # its quota when it started
    left: dict[str, int] = field(default_factory=dict)  # its quota left
    unsold: dict[int, dict[str, int]] = field(default_factory=dict)  # per ended segment
    sold: dict[int, dict[str, int]] = field(default_factory=dict)  # units sold per segment and product
    online: dict[int, dict[str, int]] = field(default_factory=dict)  # of those, sold at the shop (online, other booths)

    # -- reading -------------------------------------------------------------------------------

    @property
    def running(self) -> Segment | None:
        return self.plan.segment(self.current) if self.current is not None else None

    def state(self, now_wall: float) -> ShowState:
        return show_state(self.plan, list(self.runs.values()), now_wall)

    def view(self, now_wall: float) -> ShowView:
        state = self.state(now_wall)
        elapsed = None
        if self.current is not None:
            elapsed = max(0.0, now_wall - self.runs[self.current].started_wall)
        return ShowView(state, elapsed, self._drops_at(state))

    def next_segment(self, now_wall: float) -> Segment | None:
        return self.state(now_wall).next

    def upcoming_quota(self, stock: Mapping[str, int], now_wall: float) -> dict[str, int]:
        """What the next segment opens with if it starts now (its quota + carried, within the stock)."""
        nxt = self.next_segment(now_wall)
        if nxt is None:
            return {}
        return _within(quota_for(self.plan, nxt.index, self.unsold), stock)

    def shown_left(self, sku_id: str, stock: Mapping[str, int], now_wall: float) -> tuple[int, int]:
        """(left, initial) as the counter shows them: the running segment's quota, else the next one's."""
        if self.current is not None:
            return self.left.get(sku_id, 0), self.opened.get(sku_id, 0)
        if self.next_segment(now_wall) is None:
            return stock.get(sku_id, 0), stock.get(sku_id, 0)
        units = self.upcoming_quota(stock, now_wall).get(sku_id, 0)
        return units, units

    def on_offer(self) -> tuple[str, ...]:
        """Products the running segment sells (in its quota order)."""
        return tuple(sku for sku, units in self.opened.items() if units > 0)

    # -- deciding (each returns an event, or a sentence for the host) ----------------------------

    def decide_start(self, now_wall: float, stock: Mapping[str, int], by: str = "host") -> SegmentStarted | str:
        state = self.state(now_wall)
        if state.now is not None:
            return f"{state.now.name} is running: end it before the next segment starts."
        nxt = state.next
        if nxt is None:
            return "The run of show is over: every segment has run."
        if not state.armed and by != "hard start":
            when = self.plan.local(nxt.start_wall).strftime("%a %H:%M")
            return (f"{nxt.name} is planned for {when} (in {format_span(state.next_in_s or 0)}); "
                    "it arms itself an hour before and starts on T then.")  # fmt: skip
        quota = _within(quota_for(self.plan, nxt.index, self.unsold), stock)
        return SegmentStarted(now_wall, now_wall + nxt.length_s, nxt.index, nxt.name, quota, nxt.length_s,
                              nxt.last_call_s, by)  # fmt: skip

    def decide_end(self, now_wall: float, reason: str) -> SegmentEnded | str:
        if self.current is None:
            return "No segment is running."
        return SegmentEnded(now_wall, reason, self.current, dict(self.left))

    def due_hard_start(self, now_wall: float) -> Segment | None:
        return due_hard_start(self.plan, self.state(now_wall), now_wall)

    def refuse_sale(self, sku_id: str, qty: int, name: str, now_wall: float) -> str | None:
        """Why a sale of `qty` × `sku_id` cannot happen in the show as it stands (None: it can)."""
        segment = self.running
        if segment is None:
            nxt = self.next_segment(now_wall)
            if nxt is None:
                return "The run of show is over: sales are closed."
            return f"No segment is running: sales open with {nxt.name} (T starts it once it is armed)."
        left = self.left.get(sku_id)
        if not self.opened.get(sku_id):
            return f"{name} is not on offer in {segment.name}."
        if not left:
            return f"{name}: {segment.name}'s quota is sold out."
        if qty > left:
            return f"Only {left} of {name} left in {segment.name}, cannot sell {qty}."
        return None

    # -- applying ------------------------------------------------------------------------------

    def apply(self, event: DropEvent) -> None:
        match event:
            case SegmentStarted(index=index, quota=quota, at_wall=at_wall):
                self.current = index
                self.opened = dict(quota)
                self.left = dict(quota)
                self.runs[index] = SegmentRun(index, at_wall)
                self.sold.setdefault(index, {})
            case SegmentEnded(index=index, unsold=unsold, at_wall=at_wall):
                run = self.runs.get(index)
                self.runs[index] = SegmentRun(index, run.started_wall if run else at_wall, at_wall)
                self.unsold[index] = dict(unsold)
                if self.current == index:
                    self.current = None
                    self.opened, self.left = {}, {}

    def sale(self, sku_id: str, qty: int) -> int | None:
        """A sale was applied; returns the segment it belongs to (None: outside any)."""
        if self.current is None:
            return None
        self.left[sku_id] = self.left.get(sku_id, 0) - qty
        sold = self.sold.setdefault(self.current, {})
        sold[sku_id] = sold.get(sku_id, 0) + qty
        return self.current

    def undo(self, segment: int | None, sku_id: str, qty: int) -> None:
        """An undone sale of `segment`: its quota comes back only while that segment still runs."""
        if segment is None:
            return
        sold = self.sold.setdefault(segment, {})
        sold[sku_id] = sold.get(sku_id, 0) - qty
        if segment == self.current:
            self.left[sku_id] = self.left.get(sku_id, 0) + qty

    def sold_at_shop(self, sku_id: str, qty: int) -> None:
        """Units sold at the shop (an online order, another booth) while a segment runs: they are the
        segment's sales too, so its quota goes down with them — once (a stall sale's own echo at the shop
        is never a `ShopSold`). Between segments the shop's stock caps the next quota instead (`cap`)."""
        if self.current is None or sku_id not in self.left:
            return
        taken = min(qty, max(0, self.left[sku_id]))
        self.left[sku_id] -= taken
        for tally in (self.sold.setdefault(self.current, {}), self.online.setdefault(self.current, {})):
            tally[sku_id] = tally.get(sku_id, 0) + taken

    def returned_at_shop(self, sku_id: str, qty: int) -> None:
        """A cancellation or restock at the shop while a segment runs: what the shop sold during this
        segment comes back to its quota (never more: a return of an older order is not this burst's)."""
        if self.current is None or sku_id not in self.left:
            return
        online = self.online.setdefault(self.current, {})
        back = min(qty, online.get(sku_id, 0))
        self.left[sku_id] += back
        for tally in (self.sold.setdefault(self.current, {}), online):
            tally[sku_id] = tally.get(sku_id, 0) - back

    def adjust(self, sku_id: str, new_left: int) -> int:
        """The host set the running segment's quota left; returns the change (the stock moves by it)."""
        delta = new_left - self.left.get(sku_id, 0)
        self.left[sku_id] = new_left
        if delta > 0:  # found more: it is on offer too (the report's base for this segment's sell-through)
            self.opened[sku_id] = self.opened.get(sku_id, 0) + delta
        return delta

    def cap(self, stock: Mapping[str, int]) -> None:
        """The stock went down by other means: a quota never exceeds the stock left."""
        for sku_id, units in list(self.left.items()):
            self.left[sku_id] = min(units, max(0, stock.get(sku_id, 0)))

    # -- internals -----------------------------------------------------------------------------

    def _drops_at(self, state: ShowState) -> str:
        after = state.now.index + 1 if state.now is not None else (state.next.index if state.next else None)
        if after is None:
            return ""
        for segment in self.plan.segments[after:]:
            if segment.sells:
                return self.plan.local(segment.start_wall).strftime("%a %H:%M").upper()
        return ""


def _length_words(over: float | None) -> str:
    if over is None:
        return "running"
    return f"ran {format_signed(over)}" if abs(over) >= 1 else "ran to time"


def format_mmss(seconds: float) -> str:
    whole = round(abs(seconds))
    if whole >= 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{whole // 60:02d}:{whole % 60:02d}"


def format_signed(seconds: float) -> str:
    """+2:00 / −1:30 (a typographic minus, so it reads as one)."""
    return ("+" if seconds >= 0 else "−") + format_mmss(seconds)


def _within(quota: Mapping[str, int], stock: Mapping[str, int]) -> dict[str, int]:
    return {sku: max(0, min(units, stock.get(sku, 0))) for sku, units in quota.items()}
