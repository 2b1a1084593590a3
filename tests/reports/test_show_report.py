"""Per-segment KPIs from a real session log: planned vs actual (over/under), quota, sell-through, time
to sell out, decision rate from the viewer counts, and the 72-hour inventory velocity across the plan."""

from __future__ import annotations

import json

from booth.core.clock import ManualClock
from booth.core.config import parse_config
from booth.drop.session import start_drop_session
from booth.reports.kpis import build_report
from booth.reports.render import render_csv, render_html, render_json, render_table
from booth.store import kinds
from booth.store.db import DB_FILENAME
from booth.store.reader import SessionReader

RAW = {
    "drop": {"title": "Two bursts"},
    "sku": [{"id": "tee", "name": "TEE", "stock": 40}],
    "plan": {"time_zone": "UTC", "segment": [
        {"name": "FIRST BURST", "start": "2030-01-01 12:00", "minutes": 15, "quota": {"tee": 10}},
        {"name": "LAST BURST", "start": "2030-01-03 12:00", "minutes": 15, "quota": {"tee": 10}, "carry_over": False},
    ]},
}  # fmt: skip


def test_each_segment_has_its_kpis_and_the_plan_its_72_hour_velocity(tmp_path):
    config = parse_config(RAW, "drop.toml")
    first, last = config.drop.plan.segments
    clock = ManualClock(wall_time=first.start_wall + 60)  # a minute late
    session = start_drop_session(tmp_path, config, clock=clock)
    c = session.controller
    assert c.start_timer().accepted
    session.log.record(kinds.VIEWERS, {"count": 200, "origin": "host"}, wall=clock.wall())
    for _ in range(10):
        clock.advance(30)
        assert c.sell("tee").accepted  # sold out 5 minutes in
    clock.advance(4 * 60)
    assert c.end_offer().accepted  # ended after 9 of its 15 minutes: 6 under
    clock.wall_time = last.start_wall
    assert c.start_timer().accepted
    for _ in range(4):
        clock.advance(60)
        assert c.sell("tee").accepted
    clock.advance(16 * 60)
    c.tick()  # its deadline: 15 minutes to the second
    assert session.log.flush()
    session.close()

    with SessionReader(tmp_path / DB_FILENAME) as reader:
        row = reader.session()
        report = build_report(row, reader.events(row.id), reader.samples(row.id))
    burst, final = report.segments
    assert (burst.name, burst.late_s, burst.actual_s, burst.over_under_s) == ("FIRST BURST", 60.0, 540.0, -360.0)
    assert (burst.quota, burst.units_sold, burst.sell_through_pct, burst.sold_out_after_s) == ({"tee": 10}, 10,
                                                                                                100.0, 300.0)
    assert burst.decision_rate_pct == 10 / 200 * 100  # 10 orders while 200 watched
    assert (final.quota, final.units_sold, final.sell_through_pct) == ({"tee": 10}, 4, 40.0)  # no carry: 10 again
    assert final.over_under_s == 0.0 and final.sold_out_after_s is None
    assert report.velocity_72h_units == 14  # both bursts fall within 72 h of the plan's first start
    assert report.offer_start_wall == first.start_wall + 60

    table = render_table(report)
    assert "Run of show (planned vs actual" in table and "FIRST BURST" in table and "−6 min 00 s" in table
    assert "FIRST BURST" in render_html(report) and "segment,sell_through_pct,LAST BURST,40.0,%" in render_csv(report)
    assert json.loads(render_json(report))["segments"][0]["over_under_s"] == -360.0
