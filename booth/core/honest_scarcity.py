"""Latency-honest scarcity: what the burned overlay says, knowing viewers see it D seconds late.

A viewer sees each program frame D seconds after it was composed (encoder, ingest, the platform's
player: measured by the read-back, or configured). A countdown burned as the true time left is
therefore D seconds too generous by the time anyone reads it, and "2 LEFT" may already be gone.

The choice: **the burned countdown runs D ahead of the sale window.** Each frame shows the time
that will be left when viewers see it (true remaining − D), so viewers see 00:00 as the offer
really closes. The other way — keep the burned clock and close the window D after its 00:00 —
would move the sale window itself: the journaled deadline that crash recovery, the shop sync and
the report all use would depend on a measured figure. Here nothing journaled changes; only the
picture does. What it costs: the program starts at 01:30 − D ("01:26"), and the host's preview
shows 00:00 while sales still come in for D seconds (the host view says so: "on screen 00:00 ·
true 00:04"). A measured D moves in steps (hysteresis), and the burned clock never counts back up:
when D shrinks, it holds until the true time catches up.

Stock: when what is left would sell, at the current rate, within the D seconds before viewers even
see the number, the overlay says LAST CALL instead of a number they cannot get; it goes back to the
number once the stock is clearly more than D's worth again (hysteresis), or after a restock.

Every change of D, of what the clock says on screen and of LAST CALL on the stock is a `Decision`,
for the session log: when it was burned, when viewers saw it, what was true at that moment.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from booth.core.drop import DropView, Phase
from booth.core.events import DropEvent, SaleRecorded, SaleUndone
from booth.core.overlay import AMBER, GREY, RED, WHITE, Corner, OverlayModel, format_clock, overlay_for

APPROACH = "the burned countdown runs D ahead of the sale window"
DELAY_STEP_S = 0.25  # a measured D is applied when it moves by more than this
MEASURED_FOR_S = 60.0  # a measurement older than this no longer counts; the configured D does
RATE_WINDOW_S = 30.0  # the sales rate: units sold in the last 30 s…
RATE_MIN_SPAN_S = 10.0  # …over at least 10 s (a first pair of quick sales is not a rate of 1/s)
LAST_CALL_EXIT = 1.5  # LAST CALL ends when the stock is over 1.5 × D's worth (+1 unit)
LAST_CALL_TEXT = "LAST CALL"


@dataclass(frozen=True)
class Decision:
    """One thing the overlay decided because of the viewer delay, for the session log."""

    what: str  # "viewer_delay" | "countdown" | "stock"
    shown: str  # what the program burned ("01:26", "OFFER ENDED", "LAST CALL", "D = 4.2 s")
    true: str  # what was true as it was burned ("01:30", "3 LEFT")
    delay_s: float  # the D in force
    at_wall: float  # when it was burned
    reason: str

    @property
    def viewers_see_at_wall(self) -> float:
        return self.at_wall + self.delay_s

    def to_dict(self) -> dict[str, object]:
        return {
            "what": self.what, "shown": self.shown, "true": self.true, "delay_s": round(self.delay_s, 3),
            "at_wall": self.at_wall, "viewers_see_at_wall": self.viewers_see_at_wall, "reason": self.reason,
        }  # fmt: skip


@dataclass(frozen=True)
class ScarcityView:
    """On screen vs true, for the host."""

    delay_s: float
    delay_origin: str  # "measured via HLS", "configured", "none"
    timer_shown: str
    timer_true: str
    stock_shown: str
    stock_true: str
    sales_per_min: float

    def sentence(self) -> str:
        """One line for the host: how late viewers are, and what they see against what is true ("" with no D)."""
        if self.delay_s <= 0:
            return ""
        parts = [f"viewers {self.delay_s:.1f} s behind ({self.delay_origin})",
                 f"on screen {self.timer_shown} · true {self.timer_true}"]  # fmt: skip
        if self.stock_shown != self.stock_true:
            parts.append(f"on screen {self.stock_shown} · true {self.stock_true}")
        return " · ".join(parts)


class HonestScarcity:
    """Called for every program frame (`model`); fed committed drop events (`on_event`) and the
    read-back's delay (`measured`). Decisions go to `on_decision` listeners, on the caller's thread."""

    def __init__(self, enabled: bool = True, configured_delay_s: float = 0.0, last_call_s: float = 10.0) -> None:
        self.enabled = enabled
        self.configured_delay_s = configured_delay_s
        self.last_call_s = last_call_s
        self._lock = threading.Lock()
        self._measured: tuple[float, float, str] | None = None  # (D, monotonic when read, via)
        self._applied = 0.0
        self._origin = "none"
        self._sales: deque[tuple[float, str, int]] = deque()  # (wall, sku, qty) of recent committed sales
        self._last_call: set[str] = set()
        self._left_seen: dict[str, int] = {}
        self._burned_rem: float | None = None
        self._true_rem: float | None = None
        self._label = ""
        self._view: ScarcityView | None = None
        self._pending: list[Decision] = []
        self._listeners: list[Callable[[Decision], None]] = []

    def on_decision(self, listener: Callable[[Decision], None]) -> None:
        self._listeners.append(listener)

    # -- inputs ----------------------------------------------------------------------------

    def measured(self, delay_s: float | None, now: float, via: str) -> None:
        """The read-back's current figure (None: not measuring right now)."""
        if delay_s is not None:
            with self._lock:
                self._measured = (delay_s, now, via)

    def sale(self, at_wall: float, sku_id: str, qty: int) -> None:
        """A committed sale (a negative qty for an undo)."""
        with self._lock:
            self._sales.append((at_wall, sku_id, qty))

    def on_event(self, event: DropEvent) -> None:
        """A committed drop event (the controller's `on_applied` listener): sales make the rate."""
        if isinstance(event, SaleRecorded):
            self.sale(event.at_wall, event.sku_id, event.qty)
        elif isinstance(event, SaleUndone):
            self.sale(event.at_wall, event.sku_id, -event.qty)

    # -- per frame -------------------------------------------------------------------------

    def model(self, view: DropView, featured: str, corner: Corner, now: float, now_wall: float) -> OverlayModel:
        true_model = overlay_for(view, featured, corner)
        with self._lock:
            delay = self._delay(now, now_wall, view)
            rate = self._rate(featured, now_wall)
            shown = true_model
            if self.enabled and delay > 0:
                timer_text, label, colour = self._countdown(view, true_model, delay, now_wall)
                stock_text, stock_colour = self._stock(view, featured, true_model, delay, rate, now_wall)
                shown = OverlayModel(true_model.product, stock_text, stock_colour, timer_text, label, colour, corner)
            self._view = ScarcityView(delay, self._origin, shown.timer_text, true_model.timer_text, shown.stock_text,
                                      true_model.stock_text, rate * 60)  # fmt: skip
            decided, self._pending = self._pending, []
        for decision in decided:
            for listener in self._listeners:
                listener(decision)
        return shown

    def host_view(self) -> ScarcityView | None:
        with self._lock:
            return self._view

    # -- internals (under the lock) ----------------------------------------------------------

    def _delay(self, now: float, now_wall: float, view: DropView) -> float:
        measured = self._measured
        if measured is not None and now - measured[1] <= MEASURED_FOR_S:
            wanted, origin = measured[0], f"measured via {measured[2]}"
        else:
            wanted, origin = self.configured_delay_s, "configured" if self.configured_delay_s > 0 else "none"
        if origin != self._origin or abs(wanted - self._applied) > DELAY_STEP_S:
            before = self._applied
            self._applied, self._origin = max(0.0, wanted), origin
            if self.enabled:
                self._decide("viewer_delay", f"D = {self._applied:.2f} s", f"D was {before:.2f} s", now_wall,
                             f"viewers see the program {self._applied:.2f} s late ({origin}); {APPROACH}")  # fmt: skip
        return self._applied

    def _countdown(self, view: DropView, true_model: OverlayModel, delay: float,
                   now_wall: float) -> tuple[str, str, tuple[int, int, int]]:  # fmt: skip
        if view.phase is Phase.READY:
            self._burned_rem = self._true_rem = None
            return true_model.timer_text, true_model.timer_label, true_model.timer_colour
        true_rem = view.remaining_s if view.phase is not Phase.ENDED else 0.0
        burned = max(0.0, true_rem - delay)
        starting = self._burned_rem is None
        extended = self._true_rem is not None and true_rem > self._true_rem + 0.5
        if self._burned_rem is not None and not extended and burned > self._burned_rem:
            burned = self._burned_rem  # D shrank: hold the clock, never count back up
        self._burned_rem, self._true_rem = burned, true_rem
        # A run-of-show segment has its own last call and keeps its name over the clock.
        now = view.show.now if view.show is not None else None
        last_call_s = now.last_call_s if now is not None else self.last_call_s
        if burned <= 0:
            label, colour = "OFFER ENDED", GREY
        elif burned <= last_call_s:
            label, colour = "LAST CALL", AMBER
        else:
            label, colour = (now.name if now is not None else ""), WHITE
        text = format_clock(burned)
        if starting or label != self._label:
            self._label = label
            self._decide("countdown", f"{text} {label}".strip(), f"{true_model.timer_text} {true_model.timer_label}"
                         .strip(), now_wall, f"the clock shows what will be left when viewers see it, "
                         f"{delay:.2f} s later")  # fmt: skip
        return text, label, colour

    def _rate(self, sku_id: str, now_wall: float) -> float:
        while self._sales and now_wall - self._sales[0][0] > RATE_WINDOW_S:
            self._sales.popleft()
        mine = [(at, qty) for at, sku, qty in self._sales if sku == sku_id]
        units = sum(qty for _at, qty in mine)
        if units <= 0:
            return 0.0
        span = max(RATE_MIN_SPAN_S, min(RATE_WINDOW_S, now_wall - mine[0][0]))
        return units / span

    def _stock(self, view: DropView, featured: str, true_model: OverlayModel, delay: float, rate: float,
               now_wall: float) -> tuple[str, tuple[int, int, int]]:  # fmt: skip
        sku = view.sku(featured)
        left, within = sku.left, rate * delay
        restocked = sku.left > self._left_seen.get(featured, sku.left)
        self._left_seen[featured] = sku.left
        on = featured in self._last_call
        if on and (left <= 0 or restocked or left > within * LAST_CALL_EXIT + 1):
            self._last_call.discard(featured)
            if left > 0:
                self._decide("stock", true_model.stock_text, true_model.stock_text, now_wall,
                             f"{left} left is more than the {within:.1f} the current rate sells in D again")
        elif not on and 0 < left <= within:
            self._last_call.add(featured)
            self._decide("stock", LAST_CALL_TEXT, true_model.stock_text, now_wall,
                         f"{left} left sell within D = {delay:.2f} s at {rate * 60:.1f} a minute: "
                         f"viewers could not get the number they would see")  # fmt: skip
        if featured in self._last_call:
            return LAST_CALL_TEXT, RED
        return true_model.stock_text, true_model.stock_colour

    def _decide(self, what: str, shown: str, true: str, now_wall: float, reason: str) -> None:
        self._pending.append(Decision(what, shown, true, self._applied, now_wall, reason))
