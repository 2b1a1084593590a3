"""The shop webhook in-process, over real HTTP on 127.0.0.1, against a real session log."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from booth.api.shop_webhook import ShopWebhook
from booth.core.clock import ManualClock
from booth.drop.session import DropSession, start_drop_session


@pytest.fixture
def session(data_dir: Path, config) -> Iterator[DropSession]:
    drop_session = start_drop_session(data_dir, config, clock=ManualClock())
    drop_session.controller.start_timer()
    yield drop_session
    drop_session.close()


@pytest.fixture
def webhook(session: DropSession) -> Iterator[ShopWebhook]:
    hook = ShopWebhook(session.controller, session.watch, commit_timeout_s=5.0).start()
    yield hook
    hook.close()


def request(hook: ShopWebhook, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(*hook.address, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def post_sale(hook: ShopWebhook, data: object) -> tuple[int, dict]:
    body = data if isinstance(data, bytes) else json.dumps(data).encode()
    return request(hook, "POST", "/sale", body, {"Content-Type": "application/json"})


def test_listens_on_localhost_only_by_default(webhook: ShopWebhook) -> None:
    assert webhook.address[0] == "127.0.0.1"


def test_a_sale_is_answered_once_committed_and_shows_in_state(webhook: ShopWebhook, session: DropSession) -> None:
    status, answer = post_sale(webhook, {"sku": "tee", "qty": 3})
    assert (status, answer) == (200, {"ok": True, "sku": "tee", "qty": 3, "left": 7})
    # 200 means on disk: the committed view already shows it, and the log holds it.
    assert session.controller.events()[-1].kind == "sale"
    status, state = request(webhook, "GET", "/state")
    assert status == 200
    assert state["skus"] == {
        "tee": {"name": "TEE / BLACK", "left": 7, "initial": 10},
        "cap": {"name": "CAP / RED", "left": 4, "initial": 4},
    }
    assert state["phase"] == "live" and state["units_sold"] == 3


def test_qty_defaults_to_one(webhook: ShopWebhook) -> None:
    assert post_sale(webhook, {"sku": "cap"}) == (200, {"ok": True, "sku": "cap", "qty": 1, "left": 3})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"sku": "hat"}, "Unknown product 'hat'."),
        ({"sku": "cap", "qty": 5}, "Only 4 of CAP / RED left, cannot sell 5."),
    ],
)
def test_refused_sales_get_409_with_the_reason(webhook: ShopWebhook, data: dict, expected: str) -> None:
    assert post_sale(webhook, data) == (409, {"ok": False, "error": expected})


def test_sold_out_and_ended_offers_are_refused(webhook: ShopWebhook, session: DropSession) -> None:
    assert post_sale(webhook, {"sku": "cap", "qty": 4})[0] == 200
    assert post_sale(webhook, {"sku": "cap"}) == (409, {"ok": False, "error": "CAP / RED is sold out."})
    session.controller.end_offer()
    assert session.log.flush()
    status, answer = post_sale(webhook, {"sku": "tee"})
    assert status == 409 and answer["error"].startswith("Offer ended: sales are closed.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{sku: tee}", "The body is not valid JSON"),
        (b"", "The body is not valid JSON"),
        (b"\xff\xfe", "The body is not valid JSON"),
        (b'["tee", 1]', "The body must be a JSON object"),
        (b'{"qty": 1}', '"sku" must be a non-empty string, got None.'),
        (b'{"sku": "  "}', '"sku" must be a non-empty string'),
        (b'{"sku": 7}', '"sku" must be a non-empty string, got 7.'),
        (b'{"sku": "tee", "qty": "2"}', "\"qty\" must be a whole number, got '2'."),
        (b'{"sku": "tee", "qty": 1.5}', '"qty" must be a whole number, got 1.5.'),
        (b'{"sku": "tee", "qty": true}', '"qty" must be a whole number, got True.'),
        (b'{"sku": "tee", "qty": 0}', '"qty" must be between 1 and 10000, got 0.'),
        (b'{"sku": "tee", "price": 20}', "Unknown field(s): price. Only sku and qty are accepted."),
    ],
)
def test_malformed_bodies_get_400_with_what_is_wrong(
    webhook: ShopWebhook, session: DropSession, body: bytes, message: str
) -> None:
    status, answer = post_sale(webhook, body)
    assert status == 400 and answer["ok"] is False
    assert message in answer["error"]
    assert session.controller.view().units_sold == 0


def test_unknown_paths_and_oversized_bodies(webhook: ShopWebhook) -> None:
    assert request(webhook, "GET", "/sale")[0] == 404
    assert request(webhook, "POST", "/state", b"{}")[0] == 404
    status, answer = post_sale(webhook, b"{" + b" " * 20_000 + b"}")
    assert status == 413 and "at most" in answer["error"]


def test_a_missing_content_length_is_refused(webhook: ShopWebhook) -> None:
    with socket.create_connection(webhook.address, timeout=10) as sock:
        sock.sendall(b"POST /sale HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 411")


def test_a_sale_the_log_cannot_store_gets_503_and_is_not_counted(
    webhook: ShopWebhook, session: DropSession
) -> None:
    session.log.call(lambda db: db.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.kind = 'sale' "
        "BEGIN SELECT RAISE(ABORT, 'simulated write error'); END"
    ))
    status, answer = post_sale(webhook, {"sku": "tee"})
    assert status == 503
    assert answer["error"] == (
        "Not recorded (the session log could not be written (simulated write error)): the sale was not counted."
    )
    assert request(webhook, "GET", "/state")[1]["skus"]["tee"]["left"] == 10


def test_a_sale_stuck_on_a_full_disk_gets_504_and_lands_once_space_is_back(
    session: DropSession,
) -> None:
    hook = ShopWebhook(session.controller, session.watch, commit_timeout_s=0.3).start()
    try:
        session.log.simulate_capacity(session.log.call(lambda db: db.execute("PRAGMA page_count").fetchone()[0]))
        for n in range(100):  # fill the last free pages
            session.log.record("alert", {"level": "info", "code": "filler", "message": "x" * 500, "n": n})
        status, answer = post_sale(hook, {"sku": "tee"})
        assert status == 504 and "check GET /state before sending it again" in answer["error"]
        session.log.simulate_capacity(None)
        assert session.log.flush()
        assert request(hook, "GET", "/state")[1]["skus"]["tee"]["left"] == 9
    finally:
        hook.close()
