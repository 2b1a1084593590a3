"""A 48-hour run of show through the real controller, drop clock and session log, on an injected clock:
segments arm, start on the host's key or by themselves, sell their quota (carried over where the plan
says so), close at their deadline; a crash mid-burst resumes the same segment with the same quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from booth.core.clock import ManualClock
from booth.core.config import parse_config
from booth.core.drop import Phase
from booth.core.overlay import Corner, overlay_for
from booth.drop.clock import DropClock
from booth.drop.session import start_drop_session
from booth.store.db import DB_FILENAME
from booth.store.reader import SessionReader
from tests.plans import WEEKEND_SEGMENTS, berlin_wall
from tests.waiting import wait_until

DROP = {
    "drop": {"title": "Weekend drop"},
    "sku": [{"id": "tee", "name": "TEE / BLACK", "stock": 150}, {"id": "cap", "name": "CAP / RED", "stock": 30}],
    "plan": {"time_zone": "Europe/Berlin", "segment": WEEKEND_SEGMENTS},
}


wall = berlin_wall


class Show:
    """One session of the drop on a clock the test moves; the drop clock is the real worker."""

    def __init__(self, data_dir: Path, clock: ManualClock) -> None:
        self.clock = clock
        self.session = start_drop_session(data_dir, parse_config(DROP, "drop.toml"), clock=clock)
        self.controller = self.session.controller
        self.drop_clock = DropClock(self.controller, tick_s=0.01)
        self.drop_clock.start()

    def at(self, text: str, plus_s: float = 0.0) -> None:
        target = wall(text) + plus_s
        self.clock.advance(target - self.clock.wall_time)

    def ok(self, result) -> bool:
        """The action was accepted and is on disk (what the host's view shows is what the log holds)."""
        return result.accepted and self.session.log.flush()

    def left(self) -> dict[str, int]:
        return {s.id: s.left for s in self.controller.view().skus}

    def last_kind(self) -> str:
        return self.controller.events()[-1].kind

    def crash(self) -> None:
        self.drop_clock.stop()
        assert self.session.log.flush()
        self.session.log.close()  # no clean-shutdown record: what a kill leaves

    def close(self) -> None:
        self.drop_clock.stop()
        self.session.close()


def test_a_48_hour_plan_runs_through_the_real_controller_and_log_and_survives_a_crash_mid_burst(tmp_path):
    data = tmp_path / "data"
    show = Show(data, ManualClock(mono=100.0, wall_time=wall("2026-12-03 09:00")))
    c = show.controller
    try:
        view = c.view()
        assert view.phase is Phase.READY and view.show.headline() == "next: TEASER in 33 h 0 m"
        refused = c.start_timer()
        assert refused.refusal.message.startswith("TEASER is planned for Fri 18:00 (in 33 h 0 m)")
        assert c.sell("tee").refusal.message.startswith("No segment is running: sales open with TEASER")

        show.at("2026-12-04 17:55")  # armed within the hour: the host's key starts it
        assert c.view().show.armed and show.ok(c.start_timer())
        teaser = overlay_for(c.view(), c.featured_sku, Corner.BOTTOM_LEFT)
        assert (teaser.stock_text, teaser.timer_label, teaser.timer_text) == ("DROPS SAT 19:00", "TEASER", "10:00")
        assert c.sell("tee").refusal.message == "TEE / BLACK is not on offer in TEASER."

        show.at("2026-12-04 18:05")  # its deadline (it started 5 min early): the drop clock closes it
        wait_until(lambda: show.last_kind() == "segment_end", 5, "the teaser to close at its deadline")
        view = c.view()
        assert view.phase is Phase.READY and view.show.next.name == "HEADLINE BURST"
        assert view.show.clocks[0].start_late_s == -300 and view.show.clocks[0].over_under_s == 0
        assert show.left() == {"tee": 50, "cap": 10}  # what the burst will open with
        between = overlay_for(view, c.featured_sku, Corner.BOTTOM_LEFT)
        assert (between.timer_label, between.timer_text) == ("NEXT: HEADLINE BURST", "24:55:00")

        show.at("2026-12-05 19:02")  # two minutes late, on the host's key
        assert show.ok(c.start_timer())
        for _ in range(43):
            assert c.sell("tee").accepted
        for _ in range(6):
            assert c.sell("cap").accepted
        assert c.sell("cap").accepted and show.ok(c.undo_last_sale())
        show.at("2026-12-05 19:07")
        assert show.left() == {"tee": 7, "cap": 4}
        live = overlay_for(c.view(), "tee", Corner.BOTTOM_LEFT)
        assert (live.stock_text, live.timer_label, live.timer_text) == ("7 LEFT", "HEADLINE BURST", "10:00")
        show.crash()
    finally:
        show.drop_clock.stop()

    # Down 20 s; the monotonic clock starts over after the reboot.
    show = Show(data, ManualClock(mono=3.0, wall_time=wall("2026-12-05 19:07") + 20))
    c = show.controller
    try:
        view = c.view()
        assert show.session.opened.resumed and view.show.now.name == "HEADLINE BURST"
        assert show.left() == {"tee": 7, "cap": 4} and view.sku("tee").initial == 50
        assert view.phase is Phase.LIVE and view.remaining_s == pytest.approx(10 * 60 - 20)
        assert c.sell("tee", 8).refusal.message == "Only 7 of TEE / BLACK left in HEADLINE BURST, cannot sell 8."

        show.at("2026-12-05 19:17")  # its deadline: 15 minutes from its late start
        wait_until(lambda: show.last_kind() == "segment_end", 5, "the burst to close")
        assert c.events()[-1].unsold == {"tee": 7, "cap": 4}
        assert show.left() == {"tee": 57, "cap": 4}  # the collab opens with what the burst carried over

        show.at("2026-12-06 12:00")
        assert show.ok(c.start_timer())
        for _ in range(10):
            assert c.sell("tee").accepted
        show.at("2026-12-06 12:13")
        assert show.ok(c.end_offer())  # two minutes under
        assert c.view().show.clocks[2].over_under_s == -120
        assert show.left() == {"tee": 50, "cap": 20}  # the collab does not carry over: its leftovers are gone

        show.at("2026-12-06 17:45")  # a hard start: nobody presses anything
        wait_until(lambda: c.view().show.now is not None, 5, "the community deal to start by itself")
        started = c.events()[-1]
        assert (started.kind, started.name, started.by, started.quota) == (
            "segment_start", "COMMUNITY DEAL", "hard start", {"tee": 50, "cap": 20})
        show.at("2026-12-06 18:00")
        wait_until(lambda: show.last_kind() == "segment_end", 5, "the community deal to close")
        show.at("2026-12-06 18:30")
        assert show.ok(c.start_timer())
        show.at("2026-12-06 18:40")
        wait_until(lambda: show.last_kind() == "segment_end", 5, "the recap to close")
        view = c.view()
        assert view.phase is Phase.ENDED and view.over and view.show.headline() == "the show is over"
        assert view.show.show_over_under_s == -120  # the collab's two minutes under; the rest ran to time
        assert {s.id: s.left for s in view.skus} == {"tee": 150 - 53, "cap": 30 - 6}
    finally:
        show.close()

    with SessionReader(data / DB_FILENAME) as reader:
        summary = reader.list_sessions()
        kinds = [(e.kind, e.payload.get("name", e.payload.get("index"))) for e in reader.events(summary[0].id)
                 if e.kind.startswith("segment")]  # fmt: skip
    assert summary[0].state == "closed" and len(summary) == 1  # every segment ran: the drop is over
    assert [k for k, _ in kinds] == ["segment_start", "segment_end"] * 5


def test_a_rehearsal_runs_the_segments_back_to_back_from_now_on_a_shadow_of_the_stock(tmp_path):
    clock = ManualClock(mono=10.0, wall_time=wall("2026-11-28 18:30"))  # a week before the show
    session = start_drop_session(tmp_path, parse_config(DROP, "drop.toml"), clock=clock, kind="rehearsal")
    try:
        c = session.controller
        view = c.view()
        assert view.rehearsal and session.kind == "rehearsal"
        assert view.show.armed and view.show.next_in_s == 0  # the teaser is due now
        assert c.start_timer().accepted and session.log.flush()
        clock.advance(600)
        c.tick()
        assert session.log.flush()
        assert c.view().show.next.name == "HEADLINE BURST" and c.view().show.next_in_s == 30
        assert c.start_timer().accepted and session.log.flush()
        assert c.sell("tee", 5).accepted and session.log.flush()
    finally:
        session.close()
    # The rehearsal's re-timed plan is what the session log keeps: a resume comes back with it.
    again = start_drop_session(tmp_path, parse_config(DROP, "drop.toml"), clock=clock)
    try:
        view = again.controller.view()
        assert again.opened.resumed and again.kind == "rehearsal" and view.rehearsal
        assert view.show.now.name == "HEADLINE BURST" and view.sku("tee").left == 45
    finally:
        again.close()
