from __future__ import annotations

from booth.core.drop import DropView, Phase, SkuView, StockLevel
from booth.core.overlay import AMBER, GREY, RED, WHITE, Corner, anchor_point, format_clock, overlay_for


def view(left: int, level: StockLevel, phase: Phase = Phase.LIVE, remaining: float = 75.2) -> DropView:
    return DropView("T", (SkuView("tee", "TEE / BLACK", left, 50, level),), phase, remaining, 90, 50 - left)


def test_clock_counts_down_in_whole_seconds_rounded_up():
    assert format_clock(90) == "01:30"
    assert format_clock(89.01) == "01:30"
    assert format_clock(0.2) == "00:01"
    assert format_clock(0) == "00:00"
    assert format_clock(-3) == "00:00"
    assert format_clock(3600) == "60:00"


def test_overlay_text_and_colours_follow_stock_and_phase():
    m = overlay_for(view(12, StockLevel.PLENTY), "tee", Corner.TOP_LEFT)
    assert (m.product, m.stock_text, m.stock_colour, m.timer_text, m.timer_label) == (
        "TEE / BLACK", "12 LEFT", WHITE, "01:16", ""
    )
    assert overlay_for(view(9, StockLevel.LOW), "tee", Corner.TOP_LEFT).stock_colour == AMBER
    assert overlay_for(view(2, StockLevel.CRITICAL), "tee", Corner.TOP_LEFT).stock_colour == RED
    sold = overlay_for(view(0, StockLevel.SOLD_OUT, Phase.LAST_CALL, 8), "tee", Corner.TOP_LEFT)
    assert (sold.stock_text, sold.timer_label, sold.timer_colour) == ("SOLD OUT", "LAST CALL", AMBER)
    ended = overlay_for(view(5, StockLevel.LOW, Phase.ENDED, 0), "tee", Corner.TOP_LEFT)
    assert (ended.timer_label, ended.timer_text, ended.timer_colour) == ("OFFER ENDED", "00:00", GREY)


def test_every_corner_stays_inside_the_graphics_safe_area():
    w, h, bw, bh = 1280, 720, 500, 150
    for corner in Corner:
        x, y = anchor_point(corner, w, h, bw, bh)
        assert 0.05 * w - 1 <= x and x + bw <= 0.95 * w + 1
        assert 0.05 * h - 1 <= y and y + bh <= 0.95 * h + 1
