"""Stock and timer state machines, driven by an injected clock."""

from __future__ import annotations

import pytest

from booth.core.clock import ManualClock
from booth.core.drop import Drop, DropSpec, Phase, Refusal, Sku, StockLevel
from booth.core.event_kinds import event_from_dict
from booth.core.events import SaleRecorded


def make_drop(stock: int = 12, timer: float = 90, last_call: float = 10,
              pre_sale: bool = True) -> tuple[Drop, ManualClock]:  # fmt: skip
    clock = ManualClock()
    spec = DropSpec("Test", (Sku("tee", "TEE / BLACK", stock), Sku("cap", "CAP", 2)), timer, last_call, 10, 3,
                    pre_sale=pre_sale)  # fmt: skip
    return Drop(spec, clock), clock


def act(drop: Drop, outcome):
    assert not isinstance(outcome, Refusal), outcome
    drop.apply(outcome)
    return outcome


def test_each_sale_takes_one_unit_and_levels_follow_thresholds():
    drop, _ = make_drop(stock=12)
    levels = []
    for _ in range(12):
        act(drop, drop.decide_sale("tee"))
        levels.append(drop.level(drop.stock["tee"]))
    assert drop.stock["tee"] == 0
    # 11 left → plenty; 10…4 → amber; 3…1 → red; 0 → sold out
    assert levels == [StockLevel.PLENTY] + [StockLevel.LOW] * 7 + [StockLevel.CRITICAL] * 3 + [StockLevel.SOLD_OUT]


def test_colour_levels_at_the_documented_thresholds():
    drop, _ = make_drop()
    assert drop.level(11) is StockLevel.PLENTY
    assert drop.level(10) is StockLevel.LOW
    assert drop.level(4) is StockLevel.LOW
    assert drop.level(3) is StockLevel.CRITICAL
    assert drop.level(1) is StockLevel.CRITICAL
    assert drop.level(0) is StockLevel.SOLD_OUT


def test_stock_never_goes_below_zero():
    drop, _ = make_drop()
    act(drop, drop.decide_sale("cap"))
    act(drop, drop.decide_sale("cap"))
    refusal = drop.decide_sale("cap")
    assert isinstance(refusal, Refusal)
    assert "sold out" in refusal.message
    assert drop.stock["cap"] == 0
    too_many = drop.decide_sale("tee", qty=13)
    assert isinstance(too_many, Refusal) and "Only 12" in too_many.message


def test_undo_restores_the_last_sale_only_and_then_refuses():
    drop, _ = make_drop()
    act(drop, drop.decide_sale("tee"))
    act(drop, drop.decide_sale("cap"))
    act(drop, drop.decide_undo())
    assert drop.stock == {"tee": 11, "cap": 2}
    act(drop, drop.decide_undo())
    assert drop.stock == {"tee": 12, "cap": 2}
    assert isinstance(drop.decide_undo(), Refusal)


def test_adjust_sets_stock_and_refuses_negative():
    drop, _ = make_drop()
    act(drop, drop.decide_adjust("tee", 40))
    assert drop.stock["tee"] == 40
    refusal = drop.decide_adjust("tee", -1)
    assert isinstance(refusal, Refusal) and "negative" in refusal.message


def test_timer_phases_follow_the_monotonic_deadline():
    drop, clock = make_drop(timer=90, last_call=10)
    assert drop.phase() is Phase.READY
    assert drop.remaining_s() == 90
    act(drop, drop.decide_start())
    assert drop.phase() is Phase.LIVE
    clock.advance(79.5)
    assert drop.phase() is Phase.LIVE
    clock.advance(1.0)
    assert drop.phase() is Phase.LAST_CALL
    assert drop.remaining_s() == pytest.approx(9.5)
    clock.advance(9.5)
    assert drop.phase() is Phase.ENDED


def test_wall_clock_jump_does_not_move_the_deadline():
    drop, clock = make_drop(timer=90)
    act(drop, drop.decide_start())
    clock.wall_time += 3600  # NTP steps the wall clock while live
    clock.mono += 30
    assert drop.remaining_s() == pytest.approx(60)


def test_ended_offer_refuses_sales_until_extended():
    drop, clock = make_drop(timer=5, last_call=2)
    act(drop, drop.decide_start())
    clock.advance(6)
    refusal = drop.decide_sale("tee")
    assert isinstance(refusal, Refusal) and "Offer ended" in refusal.message
    assert drop.deadline_passed_unrecorded()
    act(drop, drop.decide_end("deadline"))
    assert not drop.deadline_passed_unrecorded()
    act(drop, drop.decide_extend(30))
    assert drop.phase() is Phase.LIVE
    assert drop.remaining_s() == pytest.approx(30)
    act(drop, drop.decide_sale("tee"))
    assert drop.stock["tee"] == 11


def test_host_can_end_the_offer_early_and_extend_needs_a_started_timer():
    drop, _ = make_drop()
    assert isinstance(drop.decide_extend(30), Refusal)
    assert isinstance(drop.decide_end(), Refusal)
    act(drop, drop.decide_start())
    act(drop, drop.decide_end())
    assert drop.phase() is Phase.ENDED
    assert isinstance(drop.decide_start(), Refusal)


def test_replaying_events_rebuilds_the_same_state():
    drop, clock = make_drop()
    events = [act(drop, drop.decide_start())]
    for _ in range(5):
        events.append(act(drop, drop.decide_sale("tee")))
    events.append(act(drop, drop.decide_undo()))
    events.append(act(drop, drop.decide_adjust("cap", 7)))
    clock.advance(20)
    replayed, _ = make_drop()
    replayed.clock = clock
    for event in (event_from_dict(e.to_dict()) for e in events):
        replayed.apply(event)
    assert replayed.stock == drop.stock == {"tee": 8, "cap": 7}
    assert replayed.remaining_s() == pytest.approx(drop.remaining_s())
    assert isinstance(events[1], SaleRecorded)


def test_sales_before_the_offer_starts_are_refused_with_a_sentence_unless_pre_sale():
    drop, _ = make_drop(pre_sale=False)
    refused = drop.decide_sale("tee")
    assert isinstance(refused, Refusal) and "has not started" in refused.message and "pre_sale" in refused.message
    act(drop, drop.decide_start())
    act(drop, drop.decide_sale("tee"))
    assert drop.stock["tee"] == 11
    early, _ = make_drop(pre_sale=True)
    act(early, early.decide_sale("tee"))  # a drop that takes pre-orders sells while it says STARTS SOON
