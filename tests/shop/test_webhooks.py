"""Webhooks from the stand-in process, over real HTTP, judged by the WebhookGate: HMAC, duplicates,
late and reordered deliveries, retries, and Booth's own writes coming back as echoes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from booth.bench.shop_standin import StandinProcess
from booth.core.shop.webhooks import Decision, Verdict, WebhookGate, signature
from booth.devices.shopify import ShopifyClient
from tests.shop.conftest import CAP_ITEM, TEE_ITEM
from tests.waiting import wait_until


class Receiver:
    """A plain HTTP endpoint on 127.0.0.1 that hands each delivery to the gate, as the API server will."""

    def __init__(self, gate: WebhookGate, fail_first: int = 0) -> None:
        self.gate = gate
        self.decisions: list[Decision] = []
        self.fail_first = fail_first  # answer 503 to this many deliveries first: Shopify must retry
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        status = 503
                    else:
                        decision = receiver.gate.decide(dict(self.headers.items()), body)
                        receiver.decisions.append(decision)
                        status = decision.http_status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="test-webhook-receiver", daemon=True)  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/shopify"

    def verdicts(self) -> list[Verdict]:
        with self.lock:
            return [d.verdict for d in self.decisions]

    def accepted(self) -> list[Decision]:
        with self.lock:
            return [d for d in self.decisions if d.verdict is Verdict.ACCEPTED]


@pytest.fixture
def gate(standin: StandinProcess) -> WebhookGate:
    return WebhookGate(standin.client_secret, {2101, 2102}, 77)


@pytest.fixture
def receiver(gate: WebhookGate, standin: StandinProcess) -> Iterator[Receiver]:
    hook = Receiver(gate)
    hook.thread.start()
    standin.control("webhooks", {"url": hook.url, "retry_base_s": 0.05})
    yield hook
    hook.server.shutdown()
    hook.server.server_close()
    hook.thread.join(5)


def test_an_online_order_arrives_signed_with_the_documented_headers(standin: StandinProcess,
                                                                    receiver: Receiver) -> None:
    standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 2}]})
    wait_until(lambda: len(receiver.accepted()) == 2, 5, "orders/create and inventory_levels/update")
    by_topic = {d.topic: d for d in receiver.accepted()}
    order, level = by_topic["orders/create"].news, by_topic["inventory_levels/update"].news
    assert order is not None and [(line.sku, line.quantity) for line in order.lines] == [("TEE-BLK-M", 2)]
    assert level is not None and (level.inventory_item_id, level.location_id, level.available) == (2101, 77, 398)


def test_a_forged_or_tampered_delivery_is_refused_before_parsing(gate: WebhookGate, receiver: Receiver,
                                                                 standin: StandinProcess) -> None:
    body = json.dumps({"inventory_item_id": 2101, "location_id": 77, "available": 1000}).encode()
    headers = {"X-Shopify-Topic": "inventory_levels/update", "X-Shopify-Webhook-Id": "w-1",
               "X-Shopify-Triggered-At": "2026-12-01T20:00:00.000Z"}  # fmt: skip
    wrong = requests.post(receiver.url, data=body, timeout=5,
                          headers={**headers, "X-Shopify-Hmac-Sha256": signature("not-the-secret", body)})
    unsigned = requests.post(receiver.url, data=body, headers=headers, timeout=5)
    tampered = requests.post(receiver.url, data=body.replace(b"1000", b"9999"), timeout=5,
                             headers={**headers, "X-Shopify-Hmac-Sha256": signature(standin.client_secret, body)})
    garbage = b"not json at all"
    signed_garbage = requests.post(receiver.url, data=garbage, timeout=5,
                                   headers={**headers, "X-Shopify-Hmac-Sha256": signature(standin.client_secret,
                                                                                          garbage)})  # fmt: skip
    assert [wrong.status_code, unsigned.status_code, tampered.status_code] == [401, 401, 401]
    assert signed_garbage.status_code == 400
    assert receiver.verdicts() == [Verdict.FORGED, Verdict.FORGED, Verdict.FORGED, Verdict.MALFORMED]


def test_duplicate_deliveries_are_counted_once(standin: StandinProcess, receiver: Receiver) -> None:
    standin.control("webhooks", {"duplicate": 2})
    standin.control("adjust", {"item": CAP_ITEM, "delta": -1, "origin": "another booth"})
    wait_until(lambda: len(receiver.verdicts()) == 3, 5, "three copies of one delivery")
    assert sorted(receiver.verdicts()) == sorted([Verdict.ACCEPTED, Verdict.DUPLICATE, Verdict.DUPLICATE])


def test_a_failed_delivery_is_retried_and_counted_once(standin: StandinProcess, receiver: Receiver) -> None:
    receiver.fail_first = 2
    standin.control("adjust", {"item": CAP_ITEM, "delta": -1})
    wait_until(lambda: receiver.verdicts() == [Verdict.ACCEPTED], 5, "the third attempt to be accepted")
    assert standin.state()["webhooks"]["failed_attempts"] == 2


def test_a_late_delivery_older_than_what_was_seen_is_ignored(standin: StandinProcess, receiver: Receiver) -> None:
    standin.control("webhooks", {"late_s": 0.6})  # Shopify: up to hours; compressed here
    standin.control("adjust", {"item": TEE_ITEM, "delta": -1})  # level 399, delivered late
    standin.control("webhooks", {"late_s": 0})
    standin.control("adjust", {"item": TEE_ITEM, "delta": -1})  # level 398, delivered now
    wait_until(lambda: len(receiver.verdicts()) == 2, 5, "both deliveries")
    assert receiver.verdicts() == [Verdict.ACCEPTED, Verdict.STALE]
    news = receiver.accepted()[0].news
    assert news is not None and getattr(news, "available", None) == 398


def test_a_delivery_older_than_the_last_poll_is_ignored(gate: WebhookGate, standin: StandinProcess,
                                                        receiver: Receiver, client: ShopifyClient) -> None:
    standin.control("webhooks", {"late_s": 0.5})
    standin.control("adjust", {"item": TEE_ITEM, "delta": -1})
    levels, _ = client.read_available([TEE_ITEM], standin.location_id)  # the poll already saw 399
    from booth.core.shop.webhooks import parse_time

    gate.saw_level(2101, parse_time(levels[TEE_ITEM].updated_at or "") + 1)
    wait_until(lambda: len(receiver.verdicts()) == 1, 5, "the late delivery")
    assert receiver.verdicts() == [Verdict.STALE]


def test_booths_own_stall_sale_comes_back_as_an_echo(gate: WebhookGate, standin: StandinProcess,
                                                      receiver: Receiver, client: ShopifyClient) -> None:
    standin.control("webhooks", {"late_s": 0.3})  # the write's answer reaches Booth before its webhook
    done = client.sell(TEE_ITEM, standin.location_id, 1, "sale-echo", expected=400)
    gate.own_write(2101, done.after)
    wait_until(lambda: len(receiver.verdicts()) == 1, 5, "the echo")
    standin.control("webhooks", {"late_s": 0})
    standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})  # then a real online sale
    wait_until(lambda: len(receiver.verdicts()) == 3, 5, "the order and its level")
    levels = [(d.verdict, getattr(d.news, "available", None)) for d in receiver.decisions
              if d.topic == "inventory_levels/update"]  # fmt: skip
    assert levels == [(Verdict.ECHO, None), (Verdict.ACCEPTED, 398)]
