"""A retried request never applies twice: the same key gets the first answer — after a 504, after a
refusal, after a log error, after a restart — and a reused key for another request is 422."""

from __future__ import annotations

import sqlite3

from booth.store.db import DB_FILENAME
from tests.api.client import Client


def sales_in_log(data_dir) -> list[tuple[str, str]]:
    with sqlite3.connect(data_dir / DB_FILENAME) as db:
        return db.execute("SELECT kind, request_key FROM events WHERE kind = 'sale'").fetchall()


def test_a_retried_sale_counts_once_and_gets_the_same_answer(api: Client, data_dir) -> None:
    first = api.post("/sale", {"sku": "tee", "qty": 2}, key="order-1001")
    again = api.post("/sale", {"sku": "tee", "qty": 2}, key="order-1001")
    assert first.status == again.status == 200
    assert first.body == again.body == {"ok": True, "sku": "tee", "qty": 2, "left": 8}
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert api.left("tee") == 8
    assert sales_in_log(data_dir) == [("sale", "order-1001")]  # the key is stored with its event


def test_the_same_key_for_another_request_is_422_and_changes_nothing(api: Client) -> None:
    assert api.post("/sale", {"sku": "tee"}, key="k-1").status == 200
    reused = api.post("/sale", {"sku": "tee", "qty": 3}, key="k-1")
    assert reused.status == 422 and "already used" in reused.error
    assert api.post("/undo", key="k-1").status == 422
    assert api.post("/feature", {"sku": "cap"}, key="k-1").status == 422
    assert api.left("tee") == 9 and api.state()["drop"]["featured"] == "tee"


def test_a_state_changing_call_without_a_key_is_400(api: Client) -> None:
    answer = api.post("/sale", {"sku": "tee"}, key=None)
    assert answer.status == 400 and "Idempotency-Key" in answer.error
    assert api.post("/sale", {"sku": "tee"}, key="x" * 201).status == 400
    assert api.left("tee") == 10


def test_a_refusal_is_the_answer_a_retry_gets(api: Client, served) -> None:
    assert api.post("/sale", {"sku": "cap", "qty": 4}).status == 200
    refused = api.post("/sale", {"sku": "cap"}, key="late")
    assert refused.status == 409 and refused.error == "CAP / RED is sold out."
    served.session.controller.adjust_stock("cap", 2)  # the host finds two more
    assert served.session.log.flush()
    again = api.post("/sale", {"sku": "cap"}, key="late")
    assert (again.status, again.error) == (409, "CAP / RED is sold out.")
    assert api.left("cap") == 2


def test_a_sale_stuck_on_a_full_disk_gets_504_and_its_retry_counts_it_once(serve, data_dir) -> None:
    served = serve(commit_timeout_s=0.3)
    log = served.session.log
    api = served.client
    log.simulate_capacity(log.call(lambda db: db.execute("PRAGMA page_count").fetchone()[0]))
    for n in range(100):  # fill the last free pages
        log.record("alert", {"level": "info", "code": "filler", "message": "x" * 500, "n": n})
    stuck = api.post("/sale", {"sku": "tee"}, key="full-disk")
    assert stuck.status == 504 and "same key" in stuck.error
    retry_while_full = api.post("/sale", {"sku": "tee"}, key="full-disk")
    assert retry_while_full.status == 504  # still waiting for the disk: still not sold twice
    log.simulate_capacity(None)
    assert log.flush()
    retry = api.post("/sale", {"sku": "tee"}, key="full-disk")
    assert retry.status == 200 and retry.body["left"] == 9
    assert api.left("tee") == 9
    assert sales_in_log(data_dir) == [("sale", "full-disk")]


def test_a_sale_the_log_could_not_store_is_503_uncounted_and_its_retry_sells(api: Client, served) -> None:
    log = served.session.log
    log.call(lambda db: db.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.kind = 'sale' "
        "BEGIN SELECT RAISE(ABORT, 'simulated write error'); END"
    ))  # fmt: skip
    failed = api.post("/sale", {"sku": "tee"}, key="retry-me")
    assert failed.status == 503 and "nothing was counted" in failed.error
    assert api.left("tee") == 10
    log.call(lambda db: db.execute("DROP TRIGGER poison"))
    retried = api.post("/sale", {"sku": "tee"}, key="retry-me")
    assert retried.status == 200 and api.left("tee") == 9


def test_after_a_restart_a_retry_gets_the_original_answer_and_sells_nothing(serve, data_dir) -> None:
    first = serve()
    sold = first.client.post("/sale", {"sku": "tee", "qty": 3}, key="before-restart")
    featured = first.client.post("/feature", {"sku": "cap"}, key="feature-before")
    assert (sold.status, featured.status) == (200, 200)
    assert first.session.log.flush()
    first.stop()

    second = serve()
    api = second.client
    again = api.post("/sale", {"sku": "tee", "qty": 3}, key="before-restart")
    assert again.status == 200 and again.body == sold.body and again.headers["idempotent-replayed"] == "true"
    assert api.post("/sale", {"sku": "tee", "qty": 1}, key="before-restart").status == 422
    replayed = api.post("/feature", {"sku": "cap"}, key="feature-before")
    assert replayed.body == featured.body and replayed.headers["idempotent-replayed"] == "true"
    assert api.left("tee") == 7
    assert sales_in_log(data_dir) == [("sale", "before-restart")]
