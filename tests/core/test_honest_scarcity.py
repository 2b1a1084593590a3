"""What viewers are shown, D seconds late: a countdown that reaches 00:00 as the offer really closes,
LAST CALL instead of a number they cannot get, and every such decision accounted for."""

from __future__ import annotations

from booth.core.drop import DropView, Phase, SkuView, StockLevel
from booth.core.honest_scarcity import LAST_CALL_TEXT, HonestScarcity
from booth.core.overlay import Corner

WALL = 1_700_000_000.0


def view(remaining: float, left: int = 40, phase: Phase | None = None) -> DropView:
    if phase is None:
        phase = Phase.ENDED if remaining <= 0 else Phase.LAST_CALL if remaining <= 10 else Phase.LIVE
    level = StockLevel.SOLD_OUT if left == 0 else StockLevel.CRITICAL if left <= 3 else StockLevel.PLENTY
    return DropView("Drop", (SkuView("tee", "TEE", left, 50, level),), phase, max(0.0, remaining), 90.0, 50 - left)


def decided(honest: HonestScarcity) -> list:
    found: list = []
    honest.on_decision(found.append)
    return found


def frame(honest: HonestScarcity, remaining: float, left: int = 40, t: float = 0.0, phase: Phase | None = None):
    return honest.model(view(remaining, left, phase), "tee", Corner.BOTTOM_LEFT, 1000.0 + t, WALL + t)


def test_the_burned_countdown_runs_d_ahead_so_viewers_see_0000_as_the_offer_closes():
    honest = HonestScarcity(configured_delay_s=4.0)
    decisions = decided(honest)
    assert frame(honest, 90.0, phase=Phase.READY).timer_text == "01:30"  # before the start: the offer's length
    start = frame(honest, 90.0, t=0.0)
    assert start.timer_text == "01:26" and start.timer_label == ""
    host = honest.host_view()
    assert (host.timer_shown, host.timer_true, host.delay_origin) == ("01:26", "01:30", "configured")
    assert frame(honest, 13.5, t=76.5).timer_label == "LAST CALL"  # 9.5 s left when viewers see it
    closing = frame(honest, 3.9, t=86.1)  # sales are still open for 3.9 s…
    assert (closing.timer_text, closing.timer_label) == ("00:00", "OFFER ENDED")  # …viewers see them close
    assert [d.what for d in decisions] == ["viewer_delay", "countdown", "countdown", "countdown"]
    assert decisions[0].shown == "D = 4.00 s" and "runs D ahead" in decisions[0].reason
    ended = decisions[-1]
    assert (ended.shown, ended.true) == ("00:00 OFFER ENDED", "00:04 LAST CALL")
    assert ended.viewers_see_at_wall == ended.at_wall + 4.0


def test_a_shrinking_delay_holds_the_clock_instead_of_counting_back_up_and_an_extension_moves_it():
    honest = HonestScarcity()
    honest.measured(6.0, 1000.0, "HLS")
    assert frame(honest, 60.0).timer_text == "00:54"
    honest.measured(2.0, 1000.5, "HLS")
    held = [frame(honest, 60.0 - dt, t=dt).timer_text for dt in (0.5, 1.5, 2.5, 3.5)]
    assert held == ["00:54", "00:54", "00:54", "00:54"]  # the clock waits for the truth to catch up
    assert frame(honest, 55.0, t=5.0).timer_text == "00:53"  # then it runs again, 2 s ahead
    assert frame(honest, 85.0, t=5.5).timer_text == "01:23"  # extended by 30 s: it moves up at once
    assert honest.host_view().delay_origin == "measured via HLS"


def test_a_stale_measurement_gives_way_to_the_configured_delay():
    honest = HonestScarcity(configured_delay_s=3.0)
    honest.measured(8.0, 1000.0, "RTMP pull")
    assert frame(honest, 60.0).timer_text == "00:52"
    assert frame(honest, 59.0, t=61.0).timer_text == "00:52"  # held: D fell to 3 s, nothing measures any more
    assert honest.host_view().delay_origin == "configured"


def test_last_call_replaces_a_number_that_sells_within_d_and_the_number_comes_back_on_a_restock():
    honest = HonestScarcity(configured_delay_s=5.0)
    decisions = decided(honest)
    for i in range(12):  # a unit every second: 1 a second
        honest.sale(WALL + i, "tee", 1)
    assert frame(honest, 60.0, left=6, t=12.0).stock_text == "6 LEFT"  # 6 > 5 s × 1/s
    shown = frame(honest, 59.0, left=5, t=12.0)
    assert (shown.stock_text, shown.stock_colour) == (LAST_CALL_TEXT, (255, 59, 48))
    assert honest.host_view().stock_true == "5 LEFT" and honest.host_view().stock_shown == LAST_CALL_TEXT
    assert frame(honest, 58.0, left=6, t=12.0).stock_text == "6 LEFT"  # a restock: the number is back
    assert frame(honest, 57.0, left=5, t=12.0).stock_text == LAST_CALL_TEXT
    assert frame(honest, 56.0, left=0, t=12.0).stock_text == "SOLD OUT"
    stock = [d for d in decisions if d.what == "stock"]
    assert [d.shown for d in stock] == [LAST_CALL_TEXT, "6 LEFT", LAST_CALL_TEXT]
    assert "at 60.0 a minute" in stock[0].reason


def test_without_a_delay_or_when_switched_off_the_overlay_is_the_plain_truth():
    for honest in (HonestScarcity(), HonestScarcity(enabled=False, configured_delay_s=5.0)):
        decisions = decided(honest)
        honest.sale(WALL, "tee", 30)
        shown = frame(honest, 60.0, left=2, t=1.0)
        assert (shown.timer_text, shown.stock_text) == ("01:00", "2 LEFT")
        assert decisions == []
