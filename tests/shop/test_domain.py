"""The pure shop domain: [shop] settings, credentials, the quota ledger and sync health (time injected)."""

from __future__ import annotations

import pytest

from booth.core.clock import ManualClock
from booth.core.config import ConfigError, parse_config
from booth.core.drop import Drop, DropSpec, Refusal, Sku
from booth.core.event_kinds import event_from_dict
from booth.core.events import DropEvent, SaleRecorded, SaleUndone, StockAdjusted, TimerStarted
from booth.core.shop.events import ShopBaseline, ShopReturned, ShopSold, StallSaleConfirmed, SyncIncident
from booth.core.shop.health import SyncHealth
from booth.core.shop.ledger import ShopLedger
from booth.core.shop.settings import CredentialsError, parse_credentials, permission_problem

DROP = {
    "drop": {"title": "Tee drop"},
    "sku": [{"id": "tee", "name": "TEE / BLACK", "stock": 50}, {"id": "cap", "name": "CAP / RED", "stock": 4}],
}
SHOP = {"domain": "night-market.myshopify.com", "location": 77,
        "sku": {"tee": {"variant": "gid://shopify/ProductVariant/1101", "quota": 50}, "cap": {"sku": "CAP-RED"}}}


def parse(shop: dict) -> object:
    return parse_config({**DROP, "shop": shop}, "drop.toml", None).shop


def stall(at: float, sale_id: str, qty: int = 1) -> SaleRecorded:
    """A stall sale as the drop controller records it for a shop product."""
    return SaleRecorded(at, "tee", qty, ref=sale_id)


def test_the_shop_section_parses_into_settings() -> None:
    shop = parse(SHOP)
    assert shop is not None
    assert shop.location_id == "gid://shopify/Location/77" and shop.api_version == "2026-04"
    assert shop.sku("tee").variant_id == "gid://shopify/ProductVariant/1101" and shop.sku("tee").quota == 50
    assert shop.sku("cap").shop_sku == "CAP-RED" and shop.sku("cap").quota == 4  # quota defaults to the stock


def test_no_shop_section_means_no_shop() -> None:
    config = parse_config(DROP, "drop.toml", None)
    assert config.shop is None and config.drop.shop_skus == ()


def test_a_shop_products_stock_is_its_quota_of_the_shop() -> None:
    config = parse_config({**DROP, "shop": {**SHOP, "sku": {"tee": {"sku": "TEE", "quota": 30}}}}, "drop.toml", None)
    assert config.drop.shop_skus == ("tee",)
    assert [(s.id, s.stock) for s in config.drop.skus] == [("tee", 30), ("cap", 4)]  # cap: not sold by the shop


def test_problems_in_the_drop_and_in_the_shop_are_listed_together() -> None:
    bad = {**DROP, "drop": {"title": "Tee drop", "timer_seconds": -5}, "shop": {**SHOP, "domain": "x.example.com"}}
    with pytest.raises(ConfigError) as err:
        parse_config(bad, "drop.toml", None)
    text = str(err.value)
    assert "drop.timer_seconds" in text and "shop.domain" in text


@pytest.mark.parametrize(("change", "message"), [
    ({"client_secret": "shpss_x"}, "drop.toml: shop.client_secret: credentials never go in the drop file"),
    ({"domain": "shop.example.com"}, "shop.domain: must be the store's myshopify.com domain"),
    ({"api_version": "2025-10"}, "shop.api_version: must be 2026-04 or newer"),
    ({"poll_seconds": 0.5}, "shop.poll_seconds: must be between 1 and 60, got 0.5"),
    ({"confirm_seconds": 30}, "shop.confirm_seconds: must be between 0.2 and 10, got 30"),
    ({"location": "Main street"}, "shop.location: must be a Location id like gid://shopify/Location/1234"),
    ({"sku": {"hat": {"sku": "HAT"}}}, "shop.sku.hat: no [[sku]] with id 'hat' in this drop"),
    ({"sku": {"tee": {"sku": "T", "variant": 5}}}, "shop.sku.tee.variant: give exactly one of variant"),
    ({"sku": {"tee": {"sku": "T", "quota": -1}}}, "shop.sku.tee.quota: must be a whole number ≥ 0, got -1"),
    ({"poll_secs": 2}, "shop.poll_secs: unknown key (did you mean 'poll_seconds'?)"),
])  # fmt: skip
def test_bad_shop_settings_name_the_key_and_the_problem(change: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse({**SHOP, **change})
    assert message in str(err.value)


def test_credentials_file_text_and_permissions() -> None:
    creds = parse_credentials('client_id = "abc123"\nclient_secret = "shpss_very_secret"\n', "shop.toml")
    assert creds.client_secret == "shpss_very_secret" and "shpss_very_secret" not in repr(creds)
    with pytest.raises(CredentialsError, match="client_secret is missing"):
        parse_credentials('client_id = "abc"', "shop.toml")
    assert permission_problem(0o100600, "shop.toml") is None
    assert permission_problem(0o100644, "shop.toml") == (
        "shop.toml can be read by other users (mode 644); run: chmod 600 shop.toml")


def ledger() -> ShopLedger:
    return ShopLedger({"tee": 50}, {"tee": "TEE / BLACK"})


def fold(book: ShopLedger, events: list[DropEvent]) -> list[DropEvent]:
    for event in events:
        book.apply(event)
    return events


def test_the_counter_is_the_quota_drawn_down_by_every_channel() -> None:
    book = ledger()
    assert fold(book, book.observe_reading(1.0, "tee", 400, book.epochs()["tee"])) == [
        ShopBaseline(1.0, "tee", 400, 50)]
    assert book.left("tee") == 50  # 50 of the shop's 400
    fold(book, [stall(2.0, "s1", 2)])
    assert book.left("tee") == 48  # a stall sale counts at once, before the shop confirms it
    events = fold(book, book.observe_reading(3.0, "tee", 397, book.epochs()["tee"]))  # 3 sold online meanwhile
    assert events == [ShopSold(3.0, "tee", 3, 397)] and book.left("tee") == 45
    book.write_started("tee")
    book.write_finished("tee")
    fold(book, book.observe_confirmed(4.0, "s1", "tee", 2, 396, 394))  # one more sold online before our write
    assert book.left("tee") == 44 and book.view("tee").pending == 0


def test_a_poll_that_crossed_our_write_is_not_trusted() -> None:
    book = ledger()
    fold(book, book.observe_reading(1.0, "tee", 400, book.epochs()["tee"]))
    fold(book, [stall(2.0, "s1")])
    epoch = book.epochs()["tee"]  # a poll leaves…
    book.write_started("tee")
    fold(book, book.observe_confirmed(2.5, "s1", "tee", 1, 400, 399))
    book.write_finished("tee")
    assert book.observe_reading(3.0, "tee", 400, epoch) == []  # …and answers with the level before our write
    assert book.left("tee") == 49


def test_it_counts_up_only_for_a_real_return_and_never_past_the_quota() -> None:
    book = ledger()
    fold(book, book.observe_reading(1.0, "tee", 400))
    fold(book, book.observe_reading(2.0, "tee", 390))
    assert book.left("tee") == 40
    events = fold(book, book.observe_reading(3.0, "tee", 392))  # a cancellation: 2 back
    assert events == [ShopReturned(3.0, "tee", 2, 2, 392)] and book.left("tee") == 42
    events = fold(book, book.observe_reading(4.0, "tee", 600))  # the merchant restocks 208
    assert events == [ShopReturned(4.0, "tee", 8, 208, 600)] and book.left("tee") == 50
    assert book.observe_reading(5.0, "tee", 600) == []  # nothing changed, nothing logged


def test_a_webhook_can_only_move_the_counter_down() -> None:
    book = ledger()
    fold(book, book.observe_reading(1.0, "tee", 400))
    assert book.observe_reading(2.0, "tee", 401, source="webhook") == []  # a rise waits for the poll
    assert fold(book, book.observe_reading(2.0, "tee", 399, source="webhook")) == [ShopSold(2.0, "tee", 1, 399)]
    fold(book, [stall(3.0, "s1")])
    assert book.observe_reading(3.5, "tee", 398, source="webhook") == []  # ours may be pending: poll instead


def test_a_poll_that_crossed_a_webhook_cannot_count_back_up() -> None:
    book = ledger()
    fold(book, book.observe_reading(1.0, "tee", 400))
    epoch = book.epochs()["tee"]  # a poll leaves; an online order's webhook lands first
    fold(book, book.observe_reading(2.0, "tee", 399, source="webhook"))
    assert book.observe_reading(2.1, "tee", 400, epoch) == []  # the poll's older level is no "return"
    assert book.left("tee") == 49


def test_the_counter_never_promises_more_than_the_shop_has() -> None:
    book = ledger()
    fold(book, book.observe_reading(1.0, "tee", 3))  # the shop only has 3 of the 50
    assert book.left("tee") == 3


def test_an_oversell_raises_one_critical_sentence() -> None:
    book = ledger()
    fold(book, book.observe_reading(1.0, "tee", 1))
    fold(book, [stall(2.0, "s1")])
    events = fold(book, book.observe_refused(3.0, "s1", "tee", 1, 0, "The shop has 0 left"))
    incidents = [e for e in events if isinstance(e, SyncIncident)]
    assert [(i.severity, i.what) for i in incidents] == [("critical", "oversold")]
    assert incidents[0].message.startswith("OVERSOLD: 1 × TEE / BLACK sold at the stall could not be taken off")
    assert book.view("tee").oversold and book.left("tee") == 0
    book2 = ledger()
    fold(book2, book2.observe_reading(1.0, "tee", 2))
    events = fold(book2, book2.observe_reading(2.0, "tee", -1))
    assert [type(e) for e in events] == [ShopSold, SyncIncident]
    assert "the shop shows -1 × TEE / BLACK available" in events[1].message  # type: ignore[attr-defined]
    assert fold(book2, book2.observe_reading(3.0, "tee", -2)) == [ShopSold(3.0, "tee", 1, -2)]  # said once


def test_replaying_the_logged_events_rebuilds_the_counter() -> None:
    book = ledger()
    log: list[DropEvent] = []
    log += fold(book, book.observe_reading(1.0, "tee", 400))
    log += fold(book, [stall(2.0, "s1")])
    log += fold(book, book.observe_confirmed(3.0, "s1", "tee", 1, 398, 397))
    replayed = ledger()
    fold(replayed, log)
    assert replayed.view("tee") == book.view("tee") and replayed.left("tee") == 47
    assert any(isinstance(e, StallSaleConfirmed) for e in log)


def test_sync_health_alarms_when_the_shop_goes_quiet_while_live() -> None:
    health = SyncHealth(stale_after_s=10, started_at=100.0)
    health.news(101.0)
    assert health.alerts(105.0, live=True) == [] and health.status_line(105.0) == "shop synced 4 s ago"
    stale = health.alerts(112.0, live=True)
    assert [(a.severity, a.what) for a in stale] == [("critical", "stale")]
    assert stale[0].message == "No stock news from the shop for 11 s: the counter may be behind online sales."
    assert health.alerts(112.0, live=False) == []  # before and after the offer, silence is fine


def test_sync_health_reports_failures_queued_sales_and_discrepancies() -> None:
    health = SyncHealth(stale_after_s=10, started_at=0.0)
    health.news(1.0)
    health.queued_writes = 2
    health.failed(2.0, "unreachable", "Cannot reach night-market.myshopify.com (connection refused)")
    alerts = health.alerts(5.0, live=True, displayed={"tee": 12}, shop_left={"tee": 9}, names={"tee": "TEE / BLACK"})
    assert [(a.severity, a.what) for a in alerts] == [("warn", "unreachable"), ("warn", "discrepancy")]
    assert alerts[0].message == ("Cannot reach night-market.myshopify.com (connection refused) (for 3 s; "
                                 "2 stall sale(s) queued).")  # fmt: skip
    assert alerts[1].message == "The counter shows 12 × TEE / BLACK, the shop can sell 9."
    assert health.status_line(5.0) == "shop synced 4 s ago, 2 stall sale(s) waiting to reach it"
    health.synced(6.0)
    assert health.failing_since is None


# -- the drop folds the shop ledger: one counter for the overlay, the report and recovery -----------------

def shop_drop() -> Drop:
    spec = DropSpec("Tee drop", (Sku("tee", "TEE / BLACK", 50), Sku("cap", "CAP / RED", 4)), pre_sale=True,
                    shop_skus=("tee",))  # fmt: skip
    return Drop(spec, ManualClock())


def test_the_drops_counter_is_the_shop_ledgers_for_every_channel() -> None:
    drop = shop_drop()
    drop.apply(ShopBaseline(1.0, "tee", 400, 50))
    assert drop.view().sku("tee").left == 50 and drop.view().sku("tee").shop_available == 400
    drop.apply(stall(2.0, "s1", 2))
    drop.apply(ShopSold(3.0, "tee", 3, 397))  # online orders
    assert drop.view().sku("tee").left == 45 and drop.units_sold() == 2
    drop.apply(StallSaleConfirmed(4.0, "s1", "tee", 2, 397, 395))
    assert drop.view().sku("tee").left == 45 and drop.view().sku("tee").shop_available == 395
    drop.apply(SaleRecorded(5.0, "cap", 1))  # not a shop product: plain stock as before
    assert drop.view().sku("cap").left == 3 and drop.view().sku("cap").shop_available is None


def test_the_drop_refuses_what_the_shop_cannot_sell_and_a_code_twice() -> None:
    drop = shop_drop()
    drop.apply(ShopBaseline(1.0, "tee", 3, 50))  # the shop has only 3 of the quota's 50
    assert drop.view().sku("tee").left == 3
    assert drop.decide_sale("tee", 4) == Refusal("Only 3 of TEE / BLACK left, cannot sell 4.")
    sale = drop.decide_sale("tee", 1, "code", code="K7QM2XD9P4TRHB6C")
    assert isinstance(sale, SaleRecorded) and sale.code == "K7QM2XD9P4TRHB6C"
    drop.apply(sale)
    assert drop.decide_sale("tee", 1, "code", code="K7QM2XD9P4TRHB6C") == Refusal(
        "This sticker code was already used in this drop.")
    refused = drop.decide_adjust("tee", 10)  # the host cannot promise more than the shop has
    assert refused == Refusal("The shop can sell only 2 more TEE / BLACK: the counter cannot show 10.")
    assert isinstance(drop.decide_adjust("tee", 1), StockAdjusted)  # holding units back is fine


def test_an_undo_gives_the_units_back_and_a_pool_floor_caps_the_counter() -> None:
    drop = shop_drop()
    drop.apply(ShopBaseline(1.0, "tee", 400, 50, floor=380, pool="market"))  # the pool has 20 left for the booths
    assert drop.view().sku("tee").left == 20
    drop.apply(stall(2.0, "s1"))
    drop.apply(SaleUndone(3.0, "tee", 1, ref="u1"))
    assert drop.view().sku("tee").left == 20 and drop.units_sold() == 0
    assert drop.shop is not None and drop.shop.view("tee").pending == 0  # sold and given back: nothing owed


def test_shop_events_round_trip_through_the_journal_payload() -> None:
    events: list[DropEvent] = [TimerStarted(1.0, 91.0), ShopBaseline(1.0, "tee", 400, 50), stall(2.0, "s1"),
                               StallSaleConfirmed(3.0, "s1", "tee", 1, 400, 399),
                               SyncIncident(4.0, "warn", "unreachable", "Cannot reach the shop.")]  # fmt: skip
    assert [event_from_dict(e.to_dict()) for e in events] == events
    assert "ref" not in SaleRecorded(1.0, "cap").to_dict()  # a drop without a shop writes what it always wrote
