"""The Admin GraphQL client against the stand-in process: every operation Booth makes, and every fault."""

from __future__ import annotations

import threading

import pytest

from booth.bench.shop_standin import StandinProcess
from booth.core.shop.settings import ShopCredentials, ShopSku
from booth.devices.shopify import (
    ShopAuthError,
    ShopContention,
    ShopifyClient,
    ShopRefused,
    ShopThrottled,
    ShopTimeout,
    ShopUnavailable,
    ShopUnknownItem,
    idempotency_key,
)
from tests.shop.conftest import CAP_ITEM, CAP_VARIANT, TEE_ITEM, TEE_VARIANT, UNTRACKED_VARIANT
from tests.waiting import wait_until

NAMES = {"tee": "TEE / BLACK", "cap": "CAP / RED"}


def test_resolves_skus_by_variant_id_and_by_sku_string(client: ShopifyClient, standin: StandinProcess) -> None:
    skus = [ShopSku("tee", TEE_VARIANT, None, 50), ShopSku("cap", None, "CAP-RED", 10)]
    resolved = client.resolve(skus, standin.location_id, NAMES)
    assert resolved["tee"].inventory_item_id == TEE_ITEM and resolved["tee"].shop_sku == "TEE-BLK-M"
    assert resolved["cap"].inventory_item_id == CAP_ITEM and resolved["cap"].variant_id == CAP_VARIANT


def test_unknown_variant_is_named_in_one_sentence(client: ShopifyClient, standin: StandinProcess) -> None:
    with pytest.raises(ShopUnknownItem) as err:
        client.resolve([ShopSku("tee", "gid://shopify/ProductVariant/999", None, 5)], standin.location_id, NAMES)
    assert str(err.value) == (
        "TEE / BLACK: booth-test.myshopify.com has no variant gid://shopify/ProductVariant/999 "
        "(check [shop.sku.tee] in the drop file)."
    )
    with pytest.raises(ShopUnknownItem, match="no variant SKU 'TEE-WHITE'"):
        client.resolve([ShopSku("tee", None, "TEE-WHITE", 5)], standin.location_id, NAMES)


def test_untracked_or_elsewhere_stocked_items_are_refused(client: ShopifyClient, standin: StandinProcess) -> None:
    with pytest.raises(ShopUnknownItem, match="does not track inventory"):
        client.resolve([ShopSku("tee", UNTRACKED_VARIANT, None, 5)], standin.location_id, NAMES)
    with pytest.raises(ShopUnknownItem, match="is not stocked at location 999"):
        client.resolve([ShopSku("tee", TEE_VARIANT, None, 5)], "gid://shopify/Location/999", NAMES)


def test_reads_every_item_in_one_query_and_reports_its_cost(client: ShopifyClient, standin: StandinProcess) -> None:
    calls_before = standin.state()["calls"]["graphql"]
    levels, cost = client.read_available([TEE_ITEM, CAP_ITEM], standin.location_id)
    assert {k: v.available for k, v in levels.items()} == {TEE_ITEM: 400, CAP_ITEM: 30}
    assert standin.state()["calls"]["graphql"] - calls_before == 1  # one call, both items (this read is not one)
    assert cost is not None and cost.actual == cost.requested and cost.actual > 0
    assert cost.maximum_available == 2000 and cost.restore_rate == 100
    assert client.points_used == cost.actual


def test_a_stall_sale_takes_one_off_the_shop_with_its_reference(client: ShopifyClient, standin: StandinProcess) -> None:
    done = client.sell(TEE_ITEM, standin.location_id, 1, "sale-1", expected=400)
    assert (done.before, done.after, done.attempts) == (400, 399, 1)
    assert standin.available(TEE_ITEM) == 399
    assert standin.state()["adjustments"][-1]["reference"] == "gid://booth/StallSale/sale-1"


def test_a_retried_adjustment_with_the_same_key_is_applied_once(client: ShopifyClient, standin: StandinProcess) -> None:
    key = idempotency_key("sale-7", 0)
    first = client.adjust(TEE_ITEM, standin.location_id, -2, 400, key, "gid://booth/StallSale/sale-7")
    again = client.adjust(TEE_ITEM, standin.location_id, -2, 400, key, "gid://booth/StallSale/sale-7")
    assert first.after == again.after == 398  # the original result, not a stale error
    state = standin.state()
    assert state["items"][TEE_ITEM]["available"] == 398 and state["idempotent_replays"] == 1


def test_a_timed_out_write_is_resent_with_its_key_and_counted_once(standin: StandinProcess,
                                                                   credentials: ShopCredentials) -> None:
    slow = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, timeout_s=0.3)
    slow.shop_name()  # token first, so the slow answers below are the write's
    standin.faults(slow_s=0.5)
    with pytest.raises(ShopTimeout):
        slow.adjust(TEE_ITEM, standin.location_id, -1, 400, idempotency_key("sale-8", 0), "gid://booth/StallSale/8",
                    deadline_s=0.3)  # fmt: skip
    wait_until(lambda: standin.state()["pending_slow"] == 0, 5, "the shop to finish the slow write")
    standin.faults(slow_s=0)
    done = slow.adjust(TEE_ITEM, standin.location_id, -1, 400, idempotency_key("sale-8", 0), "gid://booth/StallSale/8")
    assert done.after == 399 and standin.available(TEE_ITEM) == 399  # applied by the lost call, never twice
    assert standin.state()["idempotent_replays"] == 1


def test_stale_compare_and_set_re_reads_and_retries(client: ShopifyClient, standin: StandinProcess) -> None:
    standin.faults(race={TEE_ITEM: -3})  # an online order lands between our read and our write
    attempts: list[tuple[int, str, int]] = []
    done = client.sell(TEE_ITEM, standin.location_id, 1, "sale-2", expected=400,
                       on_attempt=lambda n, key, level: attempts.append((n, key, level)))  # fmt: skip
    assert [(n, level) for n, _key, level in attempts] == [(0, 400), (1, 397)]
    assert attempts[0][1] != attempts[1][1]  # each attempt its own key: a retry of attempt 1 replays attempt 1
    assert (done.before, done.after, done.attempts) == (397, 396, 2)
    assert standin.available(TEE_ITEM) == 396


def test_compare_and_set_never_drives_the_shop_below_zero(client: ShopifyClient, standin: StandinProcess) -> None:
    standin.faults(race={CAP_ITEM: -30})  # online sells the last 30 while the stall sells one
    with pytest.raises(ShopRefused) as err:
        client.sell(CAP_ITEM, standin.location_id, 1, "sale-3", expected=30)
    assert err.value.available == 0 and "has 0 left" in str(err.value)
    assert standin.available(CAP_ITEM) == 0


def test_the_stale_retries_are_bounded(client: ShopifyClient, standin: StandinProcess) -> None:
    standin.faults(race_always={TEE_ITEM: -1})  # someone else sells one just before each of our writes
    with pytest.raises(ShopContention, match="2 compare-and-set attempts were all stale"):
        client.sell(TEE_ITEM, standin.location_id, 1, "sale-4", expected=400, max_attempts=2)
    assert standin.available(TEE_ITEM) == 398  # theirs landed, ours did not


def test_wrong_credentials_say_what_to_check_and_never_show_the_secret(standin: StandinProcess) -> None:
    secret = "shpss_this-is-the-wrong-secret"
    wrong = ShopifyClient(standin.domain, ShopCredentials(standin.client_id, secret), "2026-04", base_url=standin.url)
    with pytest.raises(ShopAuthError) as err:
        wrong.shop_name()
    message = str(err.value)
    assert "refused Booth's app credentials (HTTP 401)" in message and "client_secret" in message
    assert secret not in message and secret not in repr(ShopCredentials(standin.client_id, secret))


def test_a_revoked_token_is_replaced_once(client: ShopifyClient, standin: StandinProcess) -> None:
    client.shop_name()
    standin.control("revoke-tokens", {})
    assert client.shop_name() == "Stand-in shop"
    assert standin.state()["calls"]["token"] == 2


def test_throttled_calls_wait_for_the_bucket_and_succeed(standin: StandinProcess, credentials: ShopCredentials) -> None:
    client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url)
    client.shop_name()
    standin.faults(throttle=True)
    stop = threading.Timer(0.3, lambda: standin.faults(throttle=False))
    stop.start()
    try:
        levels, _ = client.read_available([TEE_ITEM], standin.location_id, deadline_s=5)
    finally:
        stop.join()
    assert levels[TEE_ITEM].available == 400
    assert client.throttled >= 1 and standin.state()["calls"]["throttled"] >= 1


def test_throttling_longer_than_the_caller_can_wait_raises(client: ShopifyClient, standin: StandinProcess) -> None:
    client.shop_name()
    standin.faults(throttle=True)
    with pytest.raises(ShopThrottled, match="throttled Booth"):
        client.read_available([TEE_ITEM], standin.location_id, deadline_s=0.2)


def test_http_429_is_retried_after_retry_after(client: ShopifyClient, standin: StandinProcess) -> None:
    client.shop_name()
    standin.faults(status_429=1, retry_after_s=0.1)
    levels, _ = client.read_available([CAP_ITEM], standin.location_id, deadline_s=3)
    assert levels[CAP_ITEM].available == 30 and client.throttled == 1


def test_5xx_is_retried_then_reported(client: ShopifyClient, standin: StandinProcess) -> None:
    client.shop_name()
    standin.faults(errors_500=1)
    assert client.read_available([CAP_ITEM], standin.location_id, deadline_s=3)[0][CAP_ITEM].available == 30
    standin.faults(errors_500=100)
    with pytest.raises(ShopUnavailable, match=r"is having trouble \(HTTP 500\)"):
        client.read_available([CAP_ITEM], standin.location_id, deadline_s=0.3)


def test_a_shop_that_is_down_is_reported(client: ShopifyClient, standin: StandinProcess) -> None:
    standin.faults(down=True)
    with pytest.raises(ShopUnavailable, match="could not issue a token"):
        client.shop_name()


def test_a_10_s_answer_costs_the_caller_only_its_timeout(standin: StandinProcess, credentials: ShopCredentials) -> None:
    client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, timeout_s=0.5)
    client.shop_name()
    standin.faults(slow_s=10)
    with pytest.raises(ShopTimeout, match=r"did not answer within 0\.5 s"):
        client.read_available([TEE_ITEM], standin.location_id)
    # The caller is free again while the shop is still sitting on the answer.
    assert standin.state()["pending_slow"] == 1


def test_a_closed_port_is_unreachable_not_a_crash(credentials: ShopCredentials) -> None:
    client = ShopifyClient("gone.myshopify.com", credentials, "2026-04", base_url="http://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(ShopUnavailable, match=r"Cannot reach gone.myshopify.com for a token \(connection refused\)"):
        client.shop_name()


def test_a_code_is_claimed_once_across_clients(client: ShopifyClient, standin: StandinProcess,
                                               credentials: ShopCredentials) -> None:
    other = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url)  # another booth
    first = client.claim_code("code-abc", "booth-a sale-1")
    second = other.claim_code("code-abc", "booth-b sale-9")
    assert first.claimed and not second.claimed and second.holder == "booth-a sale-1"
    assert standin.state()["metafields"] == {"booth_codes.code-abc": "booth-a sale-1"}


def test_the_token_is_renewed_before_it_expires(standin: StandinProcess, credentials: ShopCredentials) -> None:
    now = [1000.0]
    client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, monotonic=lambda: now[0])
    client.shop_name()
    now[0] += 86399 - 400  # still valid for 400 s: more than the 300 s margin, kept
    client.shop_name()
    assert standin.state()["calls"]["token"] == 1
    now[0] += 200  # 200 s left: renewed before the shop would refuse it
    client.shop_name()
    assert standin.state()["calls"]["token"] == 2 and standin.state()["calls"]["unauthorized"] == 0


def test_a_key_reused_for_another_sale_is_refused_not_applied(client: ShopifyClient, standin: StandinProcess) -> None:
    key = idempotency_key("sale-9", 0)
    client.adjust(TEE_ITEM, standin.location_id, -1, 400, key, "gid://booth/StallSale/9")
    with pytest.raises(ShopRefused) as err:
        client.adjust(CAP_ITEM, standin.location_id, -1, 30, key, "gid://booth/StallSale/10")
    assert err.value.code == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert standin.available(CAP_ITEM) == 30 and standin.available(TEE_ITEM) == 399
