"""The poller and writer threads against the stand-in process: one counter from every channel, stall sales
that reach the shop once (through an outage and a crash), oversells said once, two booths on one pool."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from booth.bench.shop_standin import StandinProcess
from booth.core.drop import Refusal
from booth.core.events import DropEvent
from booth.core.shop.codes import make_codes
from booth.core.shop.events import ShopSold, StallSaleConfirmed, StallSaleQueued, StallSaleRefused, SyncIncident
from booth.core.shop.settings import ShopCredentials, ShopSettings, ShopSku
from booth.core.shop.webhooks import Verdict, signature
from booth.devices.shopify import ShopifyClient
from booth.shop.sync import ShopSync
from tests.shop.conftest import CAP_ITEM, CAP_VARIANT, TEE_ITEM, TEE_VARIANT
from tests.waiting import wait_until

NAMES = {"tee": "TEE / BLACK", "cap": "CAP / RED"}
CODES_SECRET = b"c" * 32


class ListJournal:
    """The session log's part in this: events appended in order, readable back for a restart."""

    def __init__(self, events: list[DropEvent] | None = None) -> None:
        self.events: list[DropEvent] = list(events or [])
        self.lock = threading.Lock()

    def record(self, event: DropEvent) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type[DropEvent]) -> list[DropEvent]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]


def settings(standin: StandinProcess) -> ShopSettings:
    return ShopSettings(standin.domain, standin.location_id,
                        (ShopSku("tee", TEE_VARIANT, None, 50), ShopSku("cap", CAP_VARIANT, None, 5)),
                        poll_seconds=1.0, stale_alarm_seconds=5.0)  # fmt: skip


@pytest.fixture
def make_sync(standin: StandinProcess, credentials: ShopCredentials) -> Iterator[Callable[..., ShopSync]]:
    started: list[ShopSync] = []

    def make(journal: ListJournal | None = None, booth: str = "booth-a", start: bool = True,
             write_deadline_s: float = 3.0, timeout_s: float = 2.0) -> ShopSync:  # fmt: skip
        client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, timeout_s=timeout_s)
        shop = settings(standin)
        items = client.resolve(shop.skus, shop.location_id, NAMES)
        sync = ShopSync(shop, client, items, journal or ListJournal(), NAMES, webhook_secret=standin.client_secret,
                        codes_secret=CODES_SECRET, booth_name=booth, write_deadline_s=write_deadline_s,
                        poll_timeout_s=timeout_s)  # fmt: skip
        if journal is not None:
            sync.restore(journal.events)
        if start:
            sync.start()
            started.append(sync)
        return sync

    yield make
    for sync in started:
        sync.stop()


def test_online_orders_and_stall_sales_draw_down_one_counter(make_sync: Callable[..., ShopSync],
                                                             standin: StandinProcess) -> None:
    sync = make_sync()
    wait_until(lambda: sync.ledger.view("tee").shop_available == 400, 5, "the first poll")
    assert sync.ledger.left("tee") == 50  # 50 of the shop's 400
    standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 3}]})
    wait_until(lambda: sync.ledger.left("tee") == 47, 5, "the poll to see the online order")
    sale = sync.sell("tee", 2)
    assert isinstance(sale, StallSaleQueued) and sync.ledger.left("tee") == 45  # counted before the shop knows
    wait_until(lambda: standin.available(TEE_ITEM) == 395, 5, "the stall sale to reach the shop")
    wait_until(lambda: sync.ledger.view("tee").pending == 0, 5, "the confirmation")
    assert sync.ledger.left("tee") == 45  # the poll saw our own write: not counted twice
    assert standin.state()["adjustments"][-1]["reference"] == f"gid://booth/StallSale/{sale.sale_id}"


def test_stall_sales_wait_out_an_outage_and_reach_the_shop_once_in_order(make_sync: Callable[..., ShopSync],
                                                                        standin: StandinProcess) -> None:
    journal = ListJournal()
    sync = make_sync(journal, timeout_s=0.5, write_deadline_s=0.5)
    wait_until(lambda: sync.ledger.view("cap").shop_available == 30, 5, "the first poll")
    standin.faults(down=True)
    sales = [sync.sell("cap") for _ in range(3)]
    assert all(isinstance(s, StallSaleQueued) for s in sales) and sync.ledger.left("cap") == 2
    wait_until(lambda: any(i.what == "unreachable" for i in journal.of(SyncIncident)), 5, "the outage incident")
    assert sync.health.status_line(time.monotonic()).endswith(", 3 stall sale(s) waiting to reach it")
    standin.faults(down=False)
    wait_until(lambda: len(journal.of(StallSaleConfirmed)) == 3, 10, "the queue to drain")
    refs = [a["reference"] for a in standin.state()["adjustments"]]
    assert refs == [f"gid://booth/StallSale/{s.sale_id}" for s in sales]  # type: ignore[union-attr]
    assert standin.available(CAP_ITEM) == 27 and sync.ledger.left("cap") == 2
    assert any(i.what == "recovered" for i in journal.of(SyncIncident))


def test_a_sale_lost_in_a_crash_is_resent_with_its_key_and_applied_once(make_sync: Callable[..., ShopSync],
                                                                       standin: StandinProcess) -> None:
    journal = ListJournal()
    first = make_sync(journal, timeout_s=0.3, write_deadline_s=0.3)
    wait_until(lambda: first.ledger.view("tee").shop_available == 400, 5, "the first poll")
    standin.faults(slow_s=1.0)  # the shop applies the write but its answer never reaches this booth
    first.sell("tee")
    wait_until(lambda: len(standin.state()["adjustments"]) == 1, 5, "the shop to apply the write")
    first.stop()  # "crash": the sale is queued and its attempt journaled, the outcome unknown
    standin.faults(slow_s=0)
    wait_until(lambda: standin.state()["pending_slow"] == 0, 5, "the slow answer to be dropped")
    second = make_sync(ListJournal(journal.events))
    wait_until(lambda: second.ledger.view("tee").pending == 0, 5, "the replay to be confirmed")
    state = standin.state()
    assert state["items"][TEE_ITEM]["available"] == 399 and len(state["adjustments"]) == 1
    assert state["idempotent_replays"] >= 1 and second.ledger.left("tee") == 49


def test_a_stall_sale_the_shop_cannot_take_is_an_oversell_said_once(make_sync: Callable[..., ShopSync],
                                                                    standin: StandinProcess) -> None:
    journal = ListJournal()
    sync = make_sync(journal)
    wait_until(lambda: sync.ledger.view("cap").shop_available == 30, 5, "the first poll")
    standin.faults(race={CAP_ITEM: -30})  # online sells out just as the stall sells one
    assert isinstance(sync.sell("cap"), StallSaleQueued)
    wait_until(lambda: journal.of(StallSaleRefused), 5, "the refusal")
    oversold = [i for i in journal.of(SyncIncident) if i.what == "oversold"]
    assert len(oversold) == 1 and oversold[0].severity == "critical"  # type: ignore[attr-defined]
    assert oversold[0].message.startswith("OVERSOLD: 1 × CAP / RED sold at the stall")  # type: ignore[attr-defined]
    assert standin.available(CAP_ITEM) == 0 and sync.ledger.left("cap") == 0
    assert sync.sell("cap") == Refusal("CAP / RED is sold out (shop and quota).")


def test_two_booths_on_one_shop_see_each_other_and_share_the_quota(make_sync: Callable[..., ShopSync],
                                                                  standin: StandinProcess) -> None:
    a, b = make_sync(booth="booth-a"), make_sync(booth="booth-b")
    wait_until(lambda: a.ledger.view("cap").shop_available == 30 and b.ledger.view("cap").shop_available == 30, 5,
               "both booths' first poll")  # fmt: skip
    a.sell("cap", 2)
    b.sell("cap", 1)
    wait_until(lambda: standin.available(CAP_ITEM) == 27, 5, "both sales at the shop")
    wait_until(lambda: a.ledger.left("cap") == 2 and b.ledger.left("cap") == 2, 5, "each booth to see the other's")
    assert [type(e) for e in a.journal.of(ShopSold)] == [ShopSold]  # type: ignore[attr-defined]
    a.sell("cap", 2)
    wait_until(lambda: b.ledger.left("cap") == 0, 5, "booth b to see the quota spent")
    assert b.sell("cap") == Refusal("CAP / RED is sold out (shop and quota).")
    assert standin.available(CAP_ITEM) == 25  # 5 of the shop's 30, never more


def test_a_sticker_code_sells_once_across_booths(make_sync: Callable[..., ShopSync], standin: StandinProcess) -> None:
    a, b = make_sync(booth="booth-a"), make_sync(booth="booth-b")
    wait_until(lambda: a.ledger.view("tee").shop_available == 400, 5, "the first poll")
    code = make_codes(CODES_SECRET, "tee", "", 1, lambda n: bytes(range(n)))[0]
    sale = a.redeem(code.display, [("tee", ""), ("cap", "")])
    assert isinstance(sale, StallSaleQueued) and (sale.sku_id, sale.origin, sale.code) == ("tee", "code", code.code)
    assert a.redeem(code.display.lower(), [("tee", "")]) == Refusal(f"{code.display} was already used at this booth.")
    refused = b.redeem(code.display, [("tee", "")])
    assert isinstance(refused, Refusal) and refused.message.startswith(f"{code.display} was already used (booth-a ")
    wait_until(lambda: standin.available(TEE_ITEM) == 399, 5, "the code's sale at the shop")


def test_a_webhook_moves_the_counter_down_between_polls(make_sync: Callable[..., ShopSync],
                                                        standin: StandinProcess) -> None:
    sync = make_sync(start=False)
    sync.poll_once()
    body = json.dumps({"inventory_item_id": 2101, "location_id": 77, "available": 396,
                       "updated_at": "2099-01-01T00:00:00Z"}).encode()  # fmt: skip
    headers = {"X-Shopify-Topic": "inventory_levels/update", "X-Shopify-Hmac-Sha256": signature(
        standin.client_secret, body), "X-Shopify-Webhook-Id": "w-1", "X-Shopify-Triggered-At": "2099-01-01T00:00:00Z"}
    assert sync.webhook(headers, body).verdict is Verdict.ACCEPTED and sync.ledger.left("tee") == 46
    assert sync.webhook(headers, body).verdict is Verdict.DUPLICATE and sync.ledger.left("tee") == 46
    forged = {**headers, "X-Shopify-Hmac-Sha256": signature("nope", body), "X-Shopify-Webhook-Id": "w-2"}
    assert sync.webhook(forged, body).verdict is Verdict.FORGED and sync.ledger.left("tee") == 46
    sync.client.close()


def test_the_shop_going_quiet_while_live_raises_the_stale_alarm(make_sync: Callable[..., ShopSync],
                                                                standin: StandinProcess) -> None:
    sync = make_sync(start=False, timeout_s=0.3)
    sync.poll_once()
    synced_at = sync.health.last_news_at
    assert synced_at is not None
    standin.faults(down=True)
    sync.poll_once()
    failing_since = sync.health.failing_since
    assert failing_since is not None
    early = sync.health.alerts(failing_since + 1, live=True)
    assert [(a.what, a.severity) for a in early] == [("unreachable", "warn")]
    late = sync.health.alerts(failing_since + 6, live=True)  # past stale_alarm_seconds (5 s) while live
    assert {(a.what, a.severity) for a in late} == {("unreachable", "critical"), ("stale", "critical")}
    assert any(a.message.startswith("No stock news from the shop for") for a in late)
    sync.client.close()
