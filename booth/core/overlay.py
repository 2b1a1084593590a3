"""What the scarcity overlay says and where it goes, independent of how it is drawn.

Sizes are fractions of the program frame height so the same model renders legibly at
any program size; positions keep to the graphics-safe area (EBU R95: 5 % margins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from booth.core.drop import DropView, Phase, StockLevel

RGB = tuple[int, int, int]

WHITE: RGB = (255, 255, 255)
AMBER: RGB = (255, 176, 0)
RED: RGB = (255, 59, 48)
GREY: RGB = (170, 170, 170)

SAFE_MARGIN = 0.05  # of width and height, EBU R95 graphics-safe area
BIG_TEXT = 0.09  # font pixel size / frame height; cap height ≈ 6.6 % of the frame
NAME_TEXT = 0.045
PLATE_ALPHA = 0.62  # dark plate behind the text for outdoor contrast


class Corner(StrEnum):
    TOP_LEFT = "top-left"
    TOP_RIGHT = "top-right"
    BOTTOM_LEFT = "bottom-left"
    BOTTOM_RIGHT = "bottom-right"


LEVEL_COLOURS: dict[StockLevel, RGB] = {
    StockLevel.PLENTY: WHITE,
    StockLevel.LOW: AMBER,
    StockLevel.CRITICAL: RED,
    StockLevel.SOLD_OUT: RED,
}


@dataclass(frozen=True)
class OverlayModel:
    """Everything the renderer needs; equal models render to identical images."""

    product: str
    stock_text: str
    stock_colour: RGB
    timer_text: str
    timer_label: str
    timer_colour: RGB
    corner: Corner


def format_clock(seconds: float) -> str:
    """mm:ss, rounded up so a 90 s offer shows 01:30 at start and 00:00 only when over."""
    whole = max(0, math.ceil(seconds - 1e-9))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def stock_text(left: int) -> str:
    return "SOLD OUT" if left <= 0 else f"{left} LEFT"


def format_wait(seconds: float) -> str:
    """A countdown to a planned start: mm:ss under an hour, h:mm:ss from there."""
    whole = max(0, math.ceil(seconds - 1e-9))
    if whole < 3600:
        return format_clock(whole)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def overlay_for(view: DropView, featured_sku: str, corner: Corner) -> OverlayModel:
    sku = view.sku(featured_sku)
    label, colour = {
        Phase.READY: ("STARTS SOON", WHITE),
        Phase.LIVE: ("", WHITE),
        Phase.LAST_CALL: ("LAST CALL", AMBER),
        Phase.ENDED: ("OFFER ENDED", GREY),
    }[view.phase]
    model = OverlayModel(
        product=sku.name,
        stock_text=stock_text(sku.left),
        stock_colour=LEVEL_COLOURS[sku.level],
        timer_text=format_clock(view.remaining_s),
        timer_label=label,
        timer_colour=colour,
        corner=corner,
    )
    return _run_of_show(model, view) if view.show is not None else model


def _run_of_show(model: OverlayModel, view: DropView) -> OverlayModel:
    """The plan's overlay states: a running segment says its name over its clock (a teaser or recap,
    which sells nothing, says when the drop is); between segments the clock counts down to the next."""
    show = view.show
    assert show is not None
    now, nxt = show.now, show.next
    if now is not None:
        if not now.sells:
            stock, stock_colour = (f"DROPS {show.drops_at}", WHITE) if show.drops_at else ("THANK YOU", WHITE)
            model = replace(model, stock_text=stock, stock_colour=stock_colour)
        if view.phase is Phase.LIVE:
            model = replace(model, timer_label=now.name)
        return model
    if nxt is not None and show.next_in_s is not None and show.next_in_s > 0:
        return replace(model, timer_label=f"NEXT: {nxt.name}", timer_text=format_wait(show.next_in_s))
    return model


def anchor_point(corner: Corner, frame_w: int, frame_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """Top-left pixel of a box of the given size placed in `corner` inside the safe area."""
    margin_x = round(frame_w * SAFE_MARGIN)
    margin_y = round(frame_h * SAFE_MARGIN)
    left = corner in (Corner.TOP_LEFT, Corner.BOTTOM_LEFT)
    top = corner in (Corner.TOP_LEFT, Corner.TOP_RIGHT)
    x = margin_x if left else frame_w - margin_x - box_w
    y = margin_y if top else frame_h - margin_y - box_h
    return max(0, x), max(0, y)
