"""A segment's offer inside the drop, as pure domain: quota drawn with the stock, undo and adjust within
a segment, refusals between segments, the file's problems, and how drills score."""

from __future__ import annotations

import pytest

from booth.core.clock import ManualClock
from booth.core.config import ConfigError, parse_config
from booth.core.drills import Scorecard, not_applicable, score
from booth.core.drop import Drop, Phase
from booth.core.overlay import format_wait

RAW = {
    "drop": {"title": "Tees"},
    "sku": [{"id": "tee", "name": "TEE", "stock": 30}, {"id": "cap", "name": "CAP", "stock": 5}],
    "plan": {"segment": [
        {"name": "BURST", "start": "2030-01-01 12:00", "minutes": 15, "quota": {"tee": 10}},
        {"name": "DEAL", "start": "2030-01-01 13:00", "minutes": 15, "quota": {"tee": 10, "cap": 5}},
    ]},
}  # fmt: skip


def drop_at_burst() -> tuple[Drop, ManualClock]:
    spec = parse_config(RAW, "drop.toml").drop
    clock = ManualClock(wall_time=spec.plan.segments[0].start_wall)
    drop = Drop(spec, clock)
    drop.apply(drop.decide_start())
    return drop, clock


def test_a_segment_draws_its_quota_and_the_stock_together_undo_and_adjust_included():
    drop, _clock = drop_at_burst()
    for _ in range(3):
        drop.apply(drop.decide_sale("tee"))
    assert drop.left("tee") == 7 and drop.stock["tee"] == 27
    drop.apply(drop.decide_undo())
    assert drop.left("tee") == 8 and drop.stock["tee"] == 28
    drop.apply(drop.decide_adjust("tee", 5, expected=8))  # three turned out to be damaged
    assert drop.left("tee") == 5 and drop.stock["tee"] == 25
    assert drop.decide_adjust("tee", 4, expected=8).message == "TEE has 5 left, not 8: read the stock again first."
    assert drop.decide_sale("cap").message == "CAP is not on offer in BURST."


def test_between_segments_nothing_sells_and_the_counter_shows_what_opens_next():
    drop, clock = drop_at_burst()
    drop.apply(drop.decide_sale("tee", 4))
    drop.apply(drop.decide_end())
    assert drop.phase() is Phase.READY and drop.view().sku("tee").left == 16  # 10 + 6 carried over
    assert drop.decide_sale("tee").message.startswith("No segment is running: sales open with DEAL")
    assert drop.decide_adjust("tee", 3).message.startswith("Between segments the counter shows what DEAL will open")
    assert drop.decide_extend(30).message == "No segment is running: the next one starts with T."
    clock.advance(3600)
    drop.apply(drop.decide_start())
    drop.apply(drop.decide_end("deadline"))
    assert drop.phase() is Phase.ENDED and drop.view().over


def test_a_plan_with_pre_sale_or_a_bad_link_is_a_problem_in_the_file():
    raw = {**RAW, "drop": {"title": "Tees", "pre_sale": True}}
    raw["plan"] = {**RAW["plan"], "segment": [{**RAW["plan"]["segment"][0], "link": "shop.example/drop"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "drop.toml")
    assert "drop.pre_sale: a drop with a [plan] sells only while a segment runs" in str(caught.value)
    assert "plan.segment[1].link: must be a web address starting with https://" in str(caught.value)


def test_a_wait_is_shown_as_a_clock_and_drills_score_only_what_was_measured():
    assert (format_wait(59), format_wait(3600), format_wait(8040.2)) == ("00:59", "1:00:00", "2:14:01")
    assert score("lose-ingest", 1.4, "ok").passed and not score("lose-ingest", 2.4, "slow").passed
    assert not score("pull-primary", None, "no cut").passed  # never measured: never passed
    missed = score("pull-primary", 30.0, "cut", {"the cut is in the session log": False})
    assert not missed.passed and missed.detail.endswith("(not met: the cut is in the session log)")
    card = Scorecard((score("pull-primary", 30.0, "cut"), not_applicable("shop-unreachable", "no shop")), 9.0)
    assert card.passed and not card.full and card.to_json()["drills"][1]["passed"] is None


def test_under_a_viewer_delay_a_segment_keeps_its_name_and_its_own_last_call():
    from booth.core.honest_scarcity import HonestScarcity
    from booth.core.overlay import Corner

    raw = {**RAW, "plan": {"segment": [{**RAW["plan"]["segment"][0], "last_call_seconds": 60}]}}
    spec = parse_config(raw, "drop.toml").drop
    clock = ManualClock(wall_time=spec.plan.segments[0].start_wall)
    drop = Drop(spec, clock)
    drop.apply(drop.decide_start())
    honest = HonestScarcity(configured_delay_s=4.0, last_call_s=10.0)  # the drop's own 10 s is not the burst's

    def shown():  # type: ignore[no-untyped-def]
        model = honest.model(drop.view(), "tee", Corner.BOTTOM_LEFT, clock.monotonic(), clock.wall())
        return model.timer_text, model.timer_label

    assert shown() == ("14:56", "BURST")  # 4 s ahead of the truth, under the segment's name
    clock.advance(15 * 60 - 70)  # 70 s left: viewers, 4 s late, see 66 s
    assert shown() == ("01:06", "BURST")
    clock.advance(8)  # 62 s left: viewers see 58 s, inside the burst's 60 s last call
    assert shown() == ("00:58", "LAST CALL")
