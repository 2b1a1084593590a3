"""A run of show with `[shop]`: online orders at the shop (the real stand-in process) and stall sales both
draw down the running segment's quota and the shop, each unit once — through the real controller, session
log and shop sync, the segment started on the host's key on an injected drop clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from booth.app.lifecycle import Lifecycle
from booth.app.options import Options
from booth.app.shop_part import add_shop
from booth.bench.shop_standin import StandinProcess
from booth.core.clock import ManualClock
from booth.core.config import load_config
from booth.core.drop import Refusal
from booth.drop.session import start_drop_session
from booth.reports.kpis import build_report
from booth.store.db import DB_FILENAME
from booth.store.reader import SessionReader
from tests.shop.conftest import TEE_ITEM, write_drop
from tests.waiting import wait_until

PLAN = """
[plan]
time_zone = "Europe/Berlin"
[[plan.segment]]
name = "HEADLINE BURST"
start = "2030-06-01 19:00"
minutes = 15
quota = { tee = 20 }
[[plan.segment]]
name = "COMMUNITY DEAL"
start = "2030-06-02 19:00"
minutes = 15
quota = { tee = 20 }
"""


def test_online_orders_and_stall_sales_draw_down_the_segment_and_the_shop_once(tmp_path: Path,
                                                                               standin: StandinProcess) -> None:
    drop = write_drop(tmp_path / "files", standin)
    drop.write_text(drop.read_text(encoding="utf-8").replace("pre_sale = true\n", "") + PLAN, encoding="utf-8")
    config = load_config(drop)
    start = datetime(2030, 6, 1, 18, 59, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    session = start_drop_session(tmp_path / "data", config, clock=ManualClock(wall_time=start))
    controller = session.controller
    lifecycle = Lifecycle()
    shop = add_shop(lifecycle, config, Options(data_dir=tmp_path / "data"), controller, session)
    assert shop is not None
    lifecycle.start()

    def left() -> int:
        return controller.view().sku("tee").left

    try:
        wait_until(lambda: controller.view().sku("tee").shop_available == 400, 10, "the first poll")
        assert controller.start_timer().accepted and session.log.flush()  # the host's T: the burst opens
        assert controller.view().show.now.name == "HEADLINE BURST" and left() == 20
        for _ in range(3):
            assert controller.sell("tee").accepted  # stall sales
        for _ in range(4):
            standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})  # online, during the burst
        wait_until(lambda: left() == 13, 5, "four online orders and three stall sales on the burst's counter")
        wait_until(lambda: standin.available(TEE_ITEM) == 393, 5, "the stall sales at the shop")
        wait_until(lambda: shop.status() is not None and shop.status().queued == 0, 5, "every stall sale confirmed")
        standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 2}]})
        wait_until(lambda: left() == 11, 5, "an order of two")
        assert controller.sell("tee", 2).accepted
        wait_until(lambda: standin.available(TEE_ITEM) == 389, 5, "the last stall sale at the shop")
        wait_until(lambda: shop.status() is not None and shop.status().queued == 0, 5, "every stall sale confirmed")
        assert left() == 9  # 20 − 5 at the stall − 6 online: each unit once
        view = controller.view().sku("tee")
        assert view.shop_available == 389
        adjustments = standin.state()["adjustments"]
        assert sorted((a["origin"], a["delta"]) for a in adjustments) == [("api", -2)] + [("api", -1)] * 3 + [
            ("online order", -2)] + [("online order", -1)] * 4  # each stall sale written once  # fmt: skip
        status = shop.status()
        assert status is not None and not [a for a in status.alerts if a.what in ("oversold", "discrepancy")]
    finally:
        lifecycle.stop()
        session.close()
    with SessionReader(tmp_path / "data" / DB_FILENAME) as reader:
        row = reader.session()
        events = reader.events(row.id)
    stall = sum(e.payload["qty"] for e in events if e.kind == "sale")
    online = sum(e.payload["qty"] for e in events if e.kind == "shop_sold")
    assert (stall, online) == (5, 6)  # in the log once each: a stall sale's echo at the shop is not an order
    burst = build_report(row, events, []).segments[0]  # the report folds the same log the same way
    assert (burst.name, burst.units_sold, burst.sell_through_pct) == ("HEADLINE BURST", 11, 55.0)


def test_a_return_at_the_shop_gives_the_segment_back_only_what_the_shop_sold_during_it() -> None:
    from booth.core.config import parse_config
    from booth.core.drop import Drop
    from booth.core.events import SaleRecorded
    from booth.core.shop.events import ShopBaseline, ShopReturned, ShopSold

    config = parse_config({"drop": {"title": "Plan + shop"}, "sku": [{"id": "tee", "name": "TEE / BLACK", "stock": 50}],
                           "shop": {"domain": "night-market.myshopify.com", "location": 77,
                                    "sku": {"tee": {"sku": "TEE", "quota": 50}}},
                           "plan": {"time_zone": "UTC", "segment": [
                               {"name": "BURST", "start": "2030-06-01 19:00", "minutes": 15, "quota": {"tee": 20}}]}},
                          "drop.toml", None)  # fmt: skip
    at = datetime(2030, 6, 1, 19, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    drop = Drop(config.drop, ManualClock(wall_time=at))
    drop.apply(ShopBaseline(at, "tee", 400, 50))
    drop.apply(ShopSold(at, "tee", 3, 397))  # before the burst: the shop's stock, not the burst's quota
    assert drop.left("tee") == 20
    started = drop.decide_start()
    assert not isinstance(started, Refusal), started
    drop.apply(started)
    drop.apply(SaleRecorded(at, "tee", 2, ref="s1"))
    drop.apply(ShopSold(at, "tee", 4, 393))
    assert drop.left("tee") == 14  # 20 − 2 at the stall − 4 online
    drop.apply(ShopReturned(at, "tee", 6, 6, 399))  # four cancelled from the burst, two from before it
    assert drop.left("tee") == 18  # only the burst's four come back to the burst
