"""The poller and writer threads against the stand-in process, journaling through a real drop controller:
one counter from every channel, stall sales that reach the shop once (through an outage and a crash),
oversells said once, undos given back, two booths on one pool, rehearsals that never write."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from booth.app.shop_part import ShopPart
from booth.bench.shop_standin import StandinProcess
from booth.core.clock import SystemClock
from booth.core.drop import DropSpec, Refusal, Sku
from booth.core.events import DropEvent, SaleRecorded
from booth.core.shop.codes import make_codes
from booth.core.shop.events import ShopSold, StallSaleConfirmed, StallSaleRefused, SyncIncident
from booth.core.shop.settings import ShopCredentials, ShopSettings, ShopSku
from booth.core.shop.webhooks import Verdict, signature
from booth.devices.shopify import ShopifyClient
from booth.drop.controller import DropController
from booth.shop.sync import ShopSync
from tests.shop.conftest import CAP_ITEM, CAP_VARIANT, TEE_ITEM, TEE_VARIANT
from tests.waiting import wait_until

NAMES = {"tee": "TEE / BLACK", "cap": "CAP / RED"}
CODES_SECRET = b"c" * 32


class ListJournal:
    """The session log's part in this: events kept in order, committed at once, readable for a restart."""

    def __init__(self) -> None:
        self.events: list[DropEvent] = []
        self.lock = threading.Lock()

    def append(self, event: DropEvent, on_committed: Callable[[DropEvent], None],
               on_failed: Callable[[DropEvent, str], None]) -> None:  # fmt: skip
        with self.lock:
            self.events.append(event)
        on_committed(event)

    def of(self, kind: type[DropEvent]) -> list[DropEvent]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]


@dataclass
class Booth:
    controller: DropController
    sync: ShopSync
    journal: ListJournal

    def left(self, sku: str) -> int:
        return self.controller.view().sku(sku).left


def settings(standin: StandinProcess, pool: str = "") -> ShopSettings:
    return ShopSettings(standin.domain, standin.location_id,
                        (ShopSku("tee", TEE_VARIANT, None, 50), ShopSku("cap", CAP_VARIANT, None, 5)),
                        poll_seconds=1.0, stale_alarm_seconds=5.0, pool=pool)  # fmt: skip


SPEC = DropSpec("Tee drop", (Sku("tee", NAMES["tee"], 50), Sku("cap", NAMES["cap"], 5)), pre_sale=True,
                shop_skus=("tee", "cap"))  # fmt: skip


@pytest.fixture
def make_booth(standin: StandinProcess, credentials: ShopCredentials) -> Iterator[Callable[..., Booth]]:
    started: list[ShopSync] = []

    def make(events: list[DropEvent] | None = None, booth: str = "booth-a", start: bool = True,
             write_deadline_s: float = 3.0, timeout_s: float = 2.0, rehearsal: bool = False,
             pool: str = "") -> Booth:  # fmt: skip
        journal = ListJournal()
        controller = DropController(SPEC, SystemClock(), journal)
        if events:
            controller.replay(events)
            journal.events.extend(events)
        client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, timeout_s=timeout_s)
        sync = ShopSync(settings(standin, pool), client, controller, NAMES, webhook_secret=standin.client_secret,
                        codes_secret=CODES_SECRET, booth_name=booth, write_deadline_s=write_deadline_s,
                        poll_timeout_s=timeout_s, rehearsal=rehearsal)  # fmt: skip
        sync.restore(controller.events())
        controller.on_applied(sync.on_drop_event)
        if start:
            sync.start()
            started.append(sync)
        return Booth(controller, sync, journal)

    yield make
    for sync in started:
        sync.stop()


def sold(result: object) -> SaleRecorded:
    event = getattr(result, "event", None)
    assert isinstance(event, SaleRecorded), result
    return event


def test_online_orders_and_stall_sales_draw_down_one_counter(make_booth: Callable[..., Booth],
                                                             standin: StandinProcess) -> None:
    booth = make_booth()
    wait_until(lambda: booth.controller.view().sku("tee").shop_available == 400, 5, "the first poll")
    assert booth.left("tee") == 50  # 50 of the shop's 400
    standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 3}]})
    wait_until(lambda: booth.left("tee") == 47, 5, "the poll to see the online order")
    sale = sold(booth.controller.sell("tee", 2))
    assert booth.left("tee") == 45  # counted at once, before the shop knows
    wait_until(lambda: standin.available(TEE_ITEM) == 395, 5, "the stall sale to reach the shop")
    wait_until(lambda: booth.journal.of(StallSaleConfirmed), 5, "the confirmation in the journal")
    assert booth.left("tee") == 45 and booth.sync.ledger.left("tee") == 45  # our own write: not counted twice
    assert standin.state()["adjustments"][-1]["reference"] == f"gid://booth/StallSale/{sale.ref}"
    assert [type(e) for e in booth.journal.of(ShopSold)] == [ShopSold]  # the online order, in the same journal


def test_stall_sales_wait_out_an_outage_and_reach_the_shop_once_in_order(make_booth: Callable[..., Booth],
                                                                        standin: StandinProcess) -> None:
    booth = make_booth(timeout_s=0.5, write_deadline_s=0.5)
    wait_until(lambda: booth.controller.view().sku("cap").shop_available == 30, 5, "the first poll")
    standin.faults(down=True)
    sales = [sold(booth.controller.sell("cap")) for _ in range(3)]
    assert booth.left("cap") == 2
    wait_until(lambda: any(i.what == "unreachable" for i in booth.journal.of(SyncIncident)), 5, "the outage incident")
    assert booth.sync.status().line.endswith(", 3 stall sale(s) waiting to reach it")
    standin.faults(down=False)
    wait_until(lambda: len(booth.journal.of(StallSaleConfirmed)) == 3, 10, "the queue to drain")
    refs = [a["reference"] for a in standin.state()["adjustments"]]
    assert refs == [f"gid://booth/StallSale/{s.ref}" for s in sales]
    assert standin.available(CAP_ITEM) == 27 and booth.left("cap") == 2
    assert any(i.what == "recovered" for i in booth.journal.of(SyncIncident))


def test_a_sale_lost_in_a_crash_is_resent_with_its_key_and_applied_once(make_booth: Callable[..., Booth],
                                                                       standin: StandinProcess) -> None:
    first = make_booth(timeout_s=0.3, write_deadline_s=0.3)
    wait_until(lambda: first.controller.view().sku("tee").shop_available == 400, 5, "the first poll")
    standin.faults(slow_s=1.0)  # the shop applies the write but its answer never reaches this booth
    first.controller.sell("tee")
    wait_until(lambda: len(standin.state()["adjustments"]) == 1, 5, "the shop to apply the write")
    first.sync.stop()  # "crash": the sale is journaled and its attempt too, the outcome unknown
    standin.faults(slow_s=0)
    wait_until(lambda: standin.state()["pending_slow"] == 0, 5, "the slow answer to be dropped")
    second = make_booth(list(first.journal.events))
    wait_until(lambda: second.journal.of(StallSaleConfirmed), 5, "the resent attempt to be confirmed")
    state = standin.state()
    assert state["items"][TEE_ITEM]["available"] == 399 and len(state["adjustments"]) == 1
    assert state["idempotent_replays"] >= 1 and second.left("tee") == 49


def test_a_stall_sale_the_shop_cannot_take_is_an_oversell_said_once(make_booth: Callable[..., Booth],
                                                                    standin: StandinProcess) -> None:
    booth = make_booth()
    wait_until(lambda: booth.controller.view().sku("cap").shop_available == 30, 5, "the first poll")
    standin.faults(race={CAP_ITEM: -30})  # online sells out just as the stall sells one
    sold(booth.controller.sell("cap"))
    wait_until(lambda: booth.journal.of(StallSaleRefused), 5, "the refusal")
    oversold = [i for i in booth.journal.of(SyncIncident) if i.what == "oversold"]
    assert len(oversold) == 1 and oversold[0].severity == "critical"  # type: ignore[attr-defined]
    assert oversold[0].message.startswith("OVERSOLD: 1 × CAP / RED sold at the stall")  # type: ignore[attr-defined]
    assert standin.available(CAP_ITEM) == 0 and booth.left("cap") == 0
    assert booth.controller.sell("cap").refusal == Refusal("CAP / RED is sold out.")
    alerts = booth.sync.status().alerts
    assert alerts[0].severity == "critical" and alerts[0].message.startswith("OVERSOLD: 1 × CAP / RED")


def test_a_foreign_adjustment_racing_a_stall_sale_is_re_read_and_counted(make_booth: Callable[..., Booth],
                                                                         standin: StandinProcess) -> None:
    booth = make_booth()
    wait_until(lambda: booth.controller.view().sku("tee").shop_available == 400, 5, "the first poll")
    standin.faults(race={TEE_ITEM: -2})  # another app takes 2 an instant before our write
    sold(booth.controller.sell("tee"))
    wait_until(lambda: booth.journal.of(StallSaleConfirmed), 5, "the compare-and-set to win on a re-read")
    assert standin.available(TEE_ITEM) == 397 and booth.left("tee") == 47  # ours and the foreign 2, once each
    assert not [i for i in booth.journal.of(SyncIncident) if i.what == "oversold"]


def test_an_undo_gives_the_unit_back_to_the_shop(make_booth: Callable[..., Booth], standin: StandinProcess) -> None:
    booth = make_booth()
    wait_until(lambda: booth.controller.view().sku("tee").shop_available == 400, 5, "the first poll")
    booth.controller.sell("tee", 2)
    wait_until(lambda: standin.available(TEE_ITEM) == 398, 5, "the sale at the shop")
    booth.controller.undo_last_sale()
    assert booth.left("tee") == 50
    wait_until(lambda: standin.available(TEE_ITEM) == 400, 5, "the units back at the shop")
    assert standin.state()["adjustments"][-1]["reference"].startswith("gid://booth/StallReturn/")
    wait_until(lambda: booth.sync.ledger.view("tee").pending == 0, 5, "the return confirmed")
    assert booth.left("tee") == 50  # given back, not counted as a restock on top


def test_two_booths_on_one_shop_see_each_other_and_share_the_quota(make_booth: Callable[..., Booth],
                                                                  standin: StandinProcess) -> None:
    a, b = make_booth(booth="booth-a"), make_booth(booth="booth-b")
    wait_until(lambda: a.controller.view().sku("cap").shop_available == 30
               and b.controller.view().sku("cap").shop_available == 30, 5, "both booths' first poll")  # fmt: skip
    a.controller.sell("cap", 2)
    b.controller.sell("cap", 1)
    wait_until(lambda: standin.available(CAP_ITEM) == 27, 5, "both sales at the shop")
    wait_until(lambda: a.left("cap") == 2 and b.left("cap") == 2, 5, "each booth to see the other's")
    a.controller.sell("cap", 2)
    wait_until(lambda: b.left("cap") == 0, 5, "booth b to see the quota spent")
    assert b.controller.sell("cap").refusal == Refusal("CAP / RED is sold out.")
    assert standin.available(CAP_ITEM) == 25  # 5 of the shop's 30, never more


def test_a_pool_keeps_the_booths_above_its_floor_on_the_shop(make_booth: Callable[..., Booth],
                                                            standin: StandinProcess) -> None:
    a = make_booth(booth="booth-a", pool="market")
    wait_until(lambda: a.controller.view().sku("cap").shop_available == 30, 5, "booth a joins the pool")
    assert json.loads(standin.state()["metafields"][f"booth_pools.pool-market-{CAP_ITEM.rsplit('/', 1)[1]}"])[
        "floor"] == 25  # 30 at the shop, a quota of 5: the booths stop at 25
    a.controller.sell("cap", 3)
    wait_until(lambda: standin.available(CAP_ITEM) == 27, 5, "booth a's sale at the shop")
    b = make_booth(booth="booth-b", pool="market")  # joins later: the same floor, so 2 left for both
    wait_until(lambda: b.controller.view().sku("cap").shop_available == 27, 5, "booth b joins the pool")
    assert b.left("cap") == 2 and a.left("cap") == 2


def test_a_sticker_code_sells_once_across_booths(make_booth: Callable[..., Booth], standin: StandinProcess) -> None:
    a, b = make_booth(booth="booth-a"), make_booth(booth="booth-b")
    wait_until(lambda: a.controller.view().sku("tee").shop_available == 400, 5, "the first poll")
    desk_a = ShopPart(a.sync.settings, a.controller, a.sync)
    desk_b = ShopPart(b.sync.settings, b.controller, b.sync)
    code = make_codes(CODES_SECRET, "tee", "", 1, lambda n: bytes(range(n)))[0]
    redeemed = desk_a.redeem(code.display)
    assert redeemed.sale is not None and (redeemed.sale.sku_id, redeemed.sale.origin) == ("tee", "code")
    assert desk_a.redeem(code.display.lower()).message == f"{code.display} was already used at this booth."
    refused = desk_b.redeem(code.display).message
    assert refused.startswith(f"{code.display} was already used (booth-a ") and " sale " not in refused
    wait_until(lambda: standin.available(TEE_ITEM) == 399, 5, "the code's sale at the shop")
    assert b.controller.view().units_sold == 0


def test_a_webhook_moves_the_counter_down_between_polls(make_booth: Callable[..., Booth],
                                                        standin: StandinProcess) -> None:
    booth = make_booth(start=False)
    booth.sync.connect()
    booth.sync.poll_once()
    body = json.dumps({"inventory_item_id": 2101, "location_id": 77, "available": 396,
                       "updated_at": "2099-01-01T00:00:00Z"}).encode()  # fmt: skip
    headers = {"X-Shopify-Topic": "inventory_levels/update", "X-Shopify-Hmac-Sha256": signature(
        standin.client_secret, body), "X-Shopify-Webhook-Id": "w-1", "X-Shopify-Triggered-At": "2099-01-01T00:00:00Z"}
    assert booth.sync.webhook(headers, body).verdict is Verdict.ACCEPTED and booth.left("tee") == 46
    assert booth.sync.webhook(headers, body).verdict is Verdict.DUPLICATE and booth.left("tee") == 46
    forged = {**headers, "X-Shopify-Hmac-Sha256": signature("nope", body), "X-Shopify-Webhook-Id": "w-2"}
    assert booth.sync.webhook(forged, body).verdict is Verdict.FORGED and booth.left("tee") == 46
    booth.sync.client.close()


def test_a_rehearsal_reads_the_shop_and_never_writes_to_it(make_booth: Callable[..., Booth],
                                                           standin: StandinProcess) -> None:
    booth = make_booth(rehearsal=True, pool="market")
    wait_until(lambda: booth.controller.view().sku("tee").shop_available == 400, 5, "the first poll")
    desk = ShopPart(booth.sync.settings, booth.controller, booth.sync)
    booth.controller.sell("tee", 3)
    code = make_codes(CODES_SECRET, "tee", "", 1, lambda n: bytes(range(n)))[0]
    assert desk.redeem(code.display).sale is not None
    standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})  # the real shop still sells
    # a poll after the sales has seen the order: a write, were there one, would have gone out long before
    wait_until(lambda: booth.left("tee") == 45, 5, "the online order in the shadow counter")
    state = standin.state()
    assert state["items"][TEE_ITEM]["available"] == 399  # only the online order
    assert [a["origin"] for a in state["adjustments"]] == ["online order"] and state["metafields"] == {}
    assert "REHEARSAL: read only, 2 stall sale(s) kept here (shadow stock)" in booth.sync.status().line


def test_the_shop_going_quiet_while_live_raises_the_stale_alarm(make_booth: Callable[..., Booth],
                                                                standin: StandinProcess) -> None:
    booth = make_booth(start=False, timeout_s=0.3)
    booth.sync.connect()
    booth.sync.poll_once()
    standin.faults(down=True)
    booth.sync.poll_once()
    failing_since = booth.sync.health.failing_since
    assert failing_since is not None
    early = booth.sync.health.alerts(failing_since + 1, live=True)
    assert [(a.what, a.severity) for a in early] == [("unreachable", "warn")]
    late = booth.sync.health.alerts(failing_since + 6, live=True)  # past stale_alarm_seconds (5 s) while live
    assert {(a.what, a.severity) for a in late} == {("unreachable", "critical"), ("stale", "critical")}
    assert any(a.message.startswith("No stock news from the shop for") for a in late)
    booth.sync.client.close()


# -- a shared pool's sales: the shop takes the unit first (confirm-first) ------------------------------


def test_a_pooled_sale_is_taken_off_the_shop_before_it_is_counted(make_booth: Callable[..., Booth],
                                                                  standin: StandinProcess) -> None:
    a, b = make_booth(booth="booth-a", pool="market"), make_booth(booth="booth-b", pool="market")
    wait_until(lambda: a.controller.view().sku("cap").shop_available == 30
               and b.controller.view().sku("cap").shop_available == 30, 5, "both booths join the pool")  # fmt: skip
    desk_a, desk_b = (ShopPart(x.sync.settings, x.controller, x.sync) for x in (a, b))
    assert sold(desk_a.sell("cap", 3)).qty == 3
    assert standin.available(CAP_ITEM) == 27  # on the shop by the time the host hears "sold"
    assert [e.qty for e in a.journal.of(StallSaleConfirmed)] == [3]
    # booth b has not polled since: its counter still says 5, but the shop holds the pool's floor (25)
    refused = desk_b.sell("cap", 3)
    assert refused.refusal is not None and "sold out at the shop" in refused.refusal.message, refused
    assert standin.available(CAP_ITEM) == 27 and b.controller.view().units_sold == 0
    assert sold(desk_b.sell("cap", 2)).qty == 2
    assert standin.available(CAP_ITEM) == 25
    wait_until(lambda: a.left("cap") == 0 and b.left("cap") == 0, 5, "both counters at zero")
    assert desk_a.sell("cap").refusal == Refusal("CAP / RED is sold out.")
    assert not [i for x in (a, b) for i in x.journal.of(SyncIncident) if i.what == "oversold"]


def test_a_pooled_sale_the_shop_does_not_answer_within_a_second_is_counted_and_sent_once(
        make_booth: Callable[..., Booth], standin: StandinProcess) -> None:  # fmt: skip
    booth = make_booth(pool="market")
    wait_until(lambda: booth.controller.view().sku("cap").shop_available == 30, 5, "booth joins the pool")
    desk = ShopPart(booth.sync.settings, booth.controller, booth.sync)
    standin.faults(slow_s=2.5)  # the shop applies the write; its answer comes too late
    assert sold(desk.sell("cap")).qty == 1  # counted here after a second, and queued
    assert booth.left("cap") == 4 and booth.sync.status().queued == 1
    standin.faults(slow_s=0)
    wait_until(lambda: booth.journal.of(StallSaleConfirmed), 8, "the queued sale confirmed by the shop")
    state = standin.state()
    assert state["items"][CAP_ITEM]["available"] == 29 and len(state["adjustments"]) == 1  # once, by its key
    assert state["idempotent_replays"] >= 1 and booth.left("cap") == 4


def test_a_crash_after_the_shop_took_a_pooled_unit_but_before_it_was_counted_gives_it_back(
        make_booth: Callable[..., Booth], standin: StandinProcess) -> None:  # fmt: skip
    first = make_booth(pool="market")
    wait_until(lambda: first.controller.view().sku("cap").shop_available == 30, 5, "booth joins the pool")
    assert first.sync.sell_now("cap", 1, "crashed-sale") is True  # the shop took it ...
    first.sync.stop()  # ... and Booth died before counting it: the host never heard "sold"
    assert standin.available(CAP_ITEM) == 29
    second = make_booth(list(first.journal.events), pool="market")
    wait_until(lambda: standin.available(CAP_ITEM) == 30, 5, "the unit given back to the shop")
    wait_until(lambda: second.sync.status().queued == 0 and second.left("cap") == 5, 5, "the counter whole")
    assert second.controller.view().units_sold == 0
    assert [a["reference"] for a in standin.state()["adjustments"]] == [
        "gid://booth/StallSale/crashed-sale", "gid://booth/StallReturn/crashed-sale-back"]
    assert [i.what for i in second.journal.of(SyncIncident)].count("returned") == 1


def test_a_crash_before_a_pooled_attempt_reached_the_shop_takes_nothing(make_booth: Callable[..., Booth],
                                                                        standin: StandinProcess) -> None:
    first = make_booth(pool="market", timeout_s=0.5)
    wait_until(lambda: first.controller.view().sku("cap").shop_available == 30, 5, "booth joins the pool")
    standin.faults(down=True)
    assert first.sync.sell_now("cap", 1, "never-sent") is False  # its attempt is journaled, the shop never saw it
    first.sync.stop()
    standin.faults(down=False)
    standin.control("order", {"lines": [{"item": CAP_ITEM, "quantity": 2}]})  # the level moves meanwhile
    second = make_booth(list(first.journal.events), pool="market")
    wait_until(lambda: second.sync.status().queued == 0 and second.left("cap") == 3, 5, "the online order counted")
    assert standin.available(CAP_ITEM) == 28 and second.controller.view().units_sold == 0
    assert not any("StallSale" in str(a["reference"]) for a in standin.state()["adjustments"])


def test_a_pooled_sale_counted_without_an_answer_and_then_a_crash_reaches_the_shop_once(
        make_booth: Callable[..., Booth], standin: StandinProcess) -> None:  # fmt: skip
    first = make_booth(pool="market", timeout_s=0.5, write_deadline_s=0.5)
    wait_until(lambda: first.controller.view().sku("cap").shop_available == 30, 5, "booth joins the pool")
    standin.faults(slow_s=2.0)  # applied at the shop, answered too late
    sold(ShopPart(first.sync.settings, first.controller, first.sync).sell("cap"))
    first.sync.stop()  # crash with the sale counted and its attempt's outcome unknown
    standin.faults(slow_s=0)
    wait_until(lambda: standin.state()["pending_slow"] == 0, 5, "the slow answers to be dropped")
    second = make_booth(list(first.journal.events), pool="market")
    wait_until(lambda: second.journal.of(StallSaleConfirmed), 5, "the resent attempt confirmed")
    state = standin.state()
    assert state["items"][CAP_ITEM]["available"] == 29 and len(state["adjustments"]) == 1
    assert second.left("cap") == 4 and second.controller.view().units_sold == 1
