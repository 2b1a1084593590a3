"""The run of show as pure domain: parsing, now/next, arming, hard starts, carried quota, planned vs
actual — a 48-hour plan walked through with an injected clock (hours in microseconds)."""

from __future__ import annotations

import pytest

from booth.core.config_table import ConfigError, Problems, Table
from booth.core.plan import SegmentRun, due_hard_start, parse_plan, quota_for, show_state
from tests.plans import STOCK, WEEKEND_SEGMENTS, berlin_wall

PLAN = {"time_zone": "Europe/Berlin", "rehearsals": 2, "segment": WEEKEND_SEGMENTS}


def parse(raw: dict) -> object:
    problems = Problems("drop.toml")
    plan = parse_plan(Table(raw, problems, "plan"), STOCK)
    problems.raise_if_any()
    return plan


wall = berlin_wall


def test_a_plan_reads_its_segments_on_its_own_clock():
    plan = parse(PLAN)
    assert [s.name for s in plan.segments] == ["TEASER", "HEADLINE BURST", "CREATOR COLLAB", "COMMUNITY DEAL", "RECAP"]
    burst = plan.segment(1)
    assert burst.start_wall == wall("2026-12-05 19:00") and burst.length_s == 900 and burst.last_call_s == 60
    assert dict(burst.quota) == {"tee": 50, "cap": 10} and burst.sells
    assert not plan.segment(0).sells and plan.segment(3).hard_start
    assert plan.end_wall - plan.start_wall == pytest.approx((48 + 0.5 + 1 / 6) * 3600)


def test_every_problem_in_a_plan_is_named():
    bad = {
        "time_zone": "Mars/Olympus",
        "segment": [
            {"name": "A", "start": "tomorrow", "minutes": 15, "quota": {"tee": 100, "hat": 1}},
            {"name": "B", "kind": "party", "start": "2026-12-05 19:00", "minutes": 15, "quota": {"tee": 100}},
            {"name": "C", "start": "2026-12-05 19:10", "minutes": 15, "quota": {"tee": 60, "cap": -1}},
        ],
    }
    with pytest.raises(ConfigError) as caught:
        parse(bad)
    text = str(caught.value)
    assert "plan.time_zone: unknown time zone 'Mars/Olympus'" in text
    assert "plan.segment[1].start: must look like '2026-12-05 19:00'" in text
    assert "plan.segment[1].quota.hat: no product with id 'hat'" in text
    assert "plan.segment[2].kind: must be one of teaser, burst" in text
    assert "plan.segment[3].quota.cap: must be a whole number ≥ 0, got -1" in text
    assert "'C' starts before 'B' ends" in text
    assert "quotas of 'tee' add up to 160, more than its stock of 150" in text


def test_a_48_hour_plan_walked_with_an_injected_clock():
    plan = parse(PLAN)
    runs: list[SegmentRun] = []

    state = show_state(plan, runs, wall("2026-12-03 09:00"))
    assert state.now is None and state.next.name == "TEASER" and not state.armed
    assert state.headline() == "next: TEASER in 33 h 0 m"

    state = show_state(plan, runs, wall("2026-12-04 17:30"))
    assert state.armed  # within the hour before its start: the host's key starts it
    runs.append(SegmentRun(0, wall("2026-12-04 18:02")))
    state = show_state(plan, runs, wall("2026-12-04 18:05"))
    assert state.now.name == "TEASER" and state.next.name == "HEADLINE BURST"
    assert state.headline() == "now: TEASER · next: HEADLINE BURST in 24 h 55 m"
    runs[0] = SegmentRun(0, wall("2026-12-04 18:02"), wall("2026-12-04 18:14"))  # ran 2 min over

    state = show_state(plan, runs, wall("2026-12-05 19:00"))
    teaser = state.clocks[0]
    assert teaser.start_late_s == 120 and teaser.over_under_s == 120 and state.show_over_under_s == 120
    assert state.armed and state.next.name == "HEADLINE BURST" and state.next_in_s == 0

    runs.append(SegmentRun(1, wall("2026-12-05 19:00"), wall("2026-12-05 19:13")))  # 2 min under
    runs.append(SegmentRun(2, wall("2026-12-06 12:00"), wall("2026-12-06 12:15")))
    state = show_state(plan, runs, wall("2026-12-06 17:44"))
    assert state.show_over_under_s == 0 and state.next.name == "COMMUNITY DEAL"
    assert due_hard_start(plan, state, wall("2026-12-06 17:44")) is None  # not yet
    assert due_hard_start(plan, state, wall("2026-12-06 17:45")).name == "COMMUNITY DEAL"  # by itself

    late = show_state(plan, runs[:2], wall("2026-12-06 12:20"))
    assert late.headline() == "next: CREATOR COLLAB 20 m late"


def test_unsold_quota_carries_over_only_where_the_plan_says_so():
    plan = parse(PLAN)
    unsold = {1: {"tee": 7, "cap": 4}}  # the headline burst left 7 tees and 4 caps
    assert quota_for(plan, 1, {}) == {"tee": 50, "cap": 10}
    assert quota_for(plan, 2, unsold) == {"tee": 57, "cap": 4}  # it carries over into the collab
    unsold[2] = {"tee": 3, "cap": 4}  # the collab does not carry over: its leftovers are gone
    assert quota_for(plan, 3, unsold) == {"tee": 50, "cap": 20}
    assert quota_for(plan, 4, {**unsold, 3: {"tee": 1}}) == {}  # a recap sells nothing


def test_no_plan_table_means_a_single_offer_as_before():
    assert parse({}) is None
