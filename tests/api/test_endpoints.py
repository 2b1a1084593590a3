"""Each endpoint does what its name says, with the documented answer and code (`booth serve`'s parts)."""

from __future__ import annotations

import sqlite3

import pytest

from booth.store.db import DB_FILENAME
from tests.api.client import Client


def test_state_is_one_snapshot_of_the_drop(api: Client) -> None:
    state = api.state()
    assert state["drop"]["phase"] == "live" and state["drop"]["featured"] == "tee"
    assert state["drop"]["skus"]["cap"] == {"name": "CAP / RED", "left": 4, "initial": 4, "level": "low"}
    assert state["sources"] is None and state["output"] is None  # `booth serve` has no picture
    assert state["drop"]["deadline_wall"] - state["server_wall"] == pytest.approx(60, abs=2)


def test_a_sale_is_answered_once_committed_and_defaults_to_one_of_the_featured(api: Client, served) -> None:
    answer = api.post("/sale", {})
    assert (answer.status, answer.body) == (200, {"ok": True, "sku": "tee", "qty": 1, "left": 9})
    assert served.session.controller.events()[-1].kind == "sale"  # 200 means it is on disk
    assert api.post("/sale", {"sku": "cap", "qty": 5}).error == "Only 4 of CAP / RED left, cannot sell 5."
    unknown = api.post("/sale", {"sku": "hat"})
    assert unknown.status == 404 and unknown.error.startswith("Unknown product 'hat'")


def test_undo_takes_back_the_most_recent_sale(api: Client) -> None:
    assert api.post("/undo").status == 409  # nothing to undo yet
    api.post("/sale", {"sku": "cap", "qty": 2})
    answer = api.post("/undo")
    assert (answer.status, answer.body) == (200, {"ok": True, "sku": "cap", "qty": 2, "left": 4})


def test_the_timer_ends_extends_and_reopens_the_offer(api: Client) -> None:
    assert api.post("/timer/start").error == "The timer is already running."
    ended = api.post("/timer/end")
    assert ended.status == 200 and api.state()["drop"]["phase"] == "ended"
    assert api.post("/sale", {"sku": "tee"}).error.startswith("Offer ended: sales are closed.")
    extended = api.post("/timer/extend", {"seconds": 45})
    assert extended.status == 200 and api.state()["drop"]["phase"] == "live"
    assert api.state()["drop"]["remaining_s"] == pytest.approx(45, abs=2)
    assert api.post("/timer/extend", {"seconds": -5}).status == 400


def test_a_timer_start_from_the_api(serve) -> None:
    api = serve(start_timer=False).client
    assert api.state()["drop"]["phase"] == "ready"
    started = api.post("/timer/start")
    assert started.status == 200 and started.body["event"] == "timer_start"
    assert api.state()["drop"]["phase"] == "live"


def test_stock_is_set_only_if_it_still_is_what_the_caller_read(api: Client) -> None:
    api.post("/sale", {"sku": "tee"})  # someone sells after the caller read 10
    stale = api.post("/stock", {"sku": "tee", "stock": 20, "expected": 10})
    assert stale.status == 409 and "has 9 left, not 10" in stale.error
    fresh = api.post("/stock", {"sku": "tee", "stock": 20, "expected": 9})
    assert (fresh.status, fresh.body) == (200, {"ok": True, "sku": "tee", "left": 20})
    assert api.post("/stock", {"sku": "tee", "stock": 5}).status == 400  # `expected` is required


def test_featuring_a_product_changes_what_the_overlay_shows(api: Client) -> None:
    assert api.post("/feature", {"sku": "cap"}).status == 200
    assert api.state()["drop"]["featured"] == "cap"
    assert api.post("/sale", {}).body["sku"] == "cap"
    assert api.post("/feature", {"sku": "hat"}).status == 404


def test_viewer_counts_go_to_the_session_log(api: Client, served, data_dir) -> None:
    assert api.post("/viewers", {"count": 240}).status == 200
    assert served.session.log.flush()
    with sqlite3.connect(data_dir / DB_FILENAME) as db:
        payloads = [row[0] for row in db.execute("SELECT payload FROM events WHERE kind = 'viewers'")]
    assert payloads == ['{"count": 240, "origin": "api"}']


@pytest.mark.parametrize("path", ["/sources/lock", "/sources/reconnect", "/clip", "/moments"])
def test_picture_calls_without_a_picture_are_503_with_a_reason(api: Client, path: str) -> None:
    answer = api.post(path, {"lock": "auto"} if path == "/sources/lock" else {})
    assert answer.status == 503 and answer.error


def test_without_a_shop_codes_are_503_and_the_webhook_route_is_404(api: Client) -> None:
    answer = api.post("/code", {"code": "K7QM-2XD9-P4TR-HB6C"})
    assert answer.status == 503 and answer.error == "Sticker codes need a shop: this drop has no [shop] section."
    hook = api.request("POST", "/webhooks/shopify", b"{}", token=False, headers={"Content-Type": "application/json"})
    assert hook.status == 404 and "no [shop] section" in hook.error


def test_the_schema_lists_every_endpoint(api: Client) -> None:
    paths = api.get("/openapi.json").body["paths"]
    assert set(paths) == {"/state", "/events", "/sale", "/undo", "/timer/start", "/timer/end", "/timer/extend",
                          "/stock", "/feature", "/sources/lock", "/sources/reconnect", "/clip", "/moments",
                          "/viewers", "/code"}  # fmt: skip
    assert "Idempotency-Key" in str(paths["/sale"]["post"]["parameters"])
