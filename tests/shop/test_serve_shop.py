"""Real `booth serve` processes with `[shop]` on one stand-in process, over real HTTP: two booths on one
pool, Shopify's deliveries on the API's webhook route, an outage with a kill -9 in the middle, the shop's
faults, a rehearsal, `booth check` and `booth report`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from booth.bench.shop_standin import StandinProcess
from booth.bench.store import ServeProcess, http_json
from booth.reports.kpis import build_report
from booth.store.db import DB_FILENAME
from booth.store.reader import SessionReader
from tests.shop.conftest import CAP_ITEM, TEE_ITEM, write_drop
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def start_booth(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """`booth serve` processes; any still running at the end is killed by its own PID."""
    started: list[ServeProcess] = []

    def start(name: str, drop_file: Path, *flags: str) -> ServeProcess:
        serve = ServeProcess(tmp_path / name, drop_file, extra=["--resume", *flags])
        started.append(serve)
        serve.start()
        return serve

    yield start
    for serve in started:
        serve.kill()


def state(serve: ServeProcess) -> dict[str, Any]:
    status, answer = http_json(serve.port, "GET", "/state", token=serve.token, timeout=3)
    assert status == 200, answer
    return dict(answer)


def left(serve: ServeProcess, sku: str) -> int:
    return int(state(serve)["drop"]["skus"][sku]["left"])


def shop_has(serve: ServeProcess, sku: str) -> int | None:
    return state(serve)["drop"]["skus"][sku].get("shop_available")


def sell(serve: ServeProcess, sku: str, qty: int = 1, timeout: float = 10.0) -> tuple[int, Any]:
    """A stall sale over the control API; the answer comes once it is on disk, never after the shop."""
    body = json.dumps({"sku": sku, "qty": qty}).encode()
    return http_json(serve.port, "POST", "/sale", body, timeout=timeout, token=serve.token, key=str(uuid.uuid4()))


def alerts(serve: ServeProcess) -> list[str]:
    return [a["message"] for a in state(serve).get("shop", {}).get("alerts", [])]


def sync_events(data_dir: Path) -> list[dict[str, Any]]:
    with SessionReader(data_dir / DB_FILENAME) as reader:
        session = reader.session()
        return [e.payload for e in reader.events(session.id) if e.kind == "sync_incident"]


def deliver(port: int, secret: str, topic: str, payload: dict[str, Any], triggered_at: float,
            sign: bool = True, body: bytes | None = None) -> tuple[int, Any]:  # fmt: skip
    """A Shopify delivery as Shopify makes it: no bearer token, signed with the app's secret."""
    raw = body if body is not None else json.dumps(payload).encode()
    digest = base64.b64encode(hmac.new((secret if sign else "forged").encode(), raw, hashlib.sha256).digest())
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": digest.decode(),
               "X-Shopify-Webhook-Id": str(uuid.uuid4()), "Host": "booth.tunnel.example",
               "X-Shopify-Triggered-At": datetime.fromtimestamp(triggered_at, UTC).isoformat()}  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/webhooks/shopify", body=raw, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def test_two_booth_processes_see_each_other_and_never_oversell_a_shared_pool(
        tmp_path: Path, standin: StandinProcess, start_booth: Callable[..., ServeProcess]) -> None:  # fmt: skip
    # The booths wait up to 5 s for the shop to take a unit (1 s by default): on a loaded CI machine a
    # journal write plus a round trip can pass 1 s, and the sale would then be counted and queued (the
    # documented fallback, oversell alert and all) instead of proving the shop-first race below.
    drop = write_drop(tmp_path / "files", standin, quota_cap=6, pool="market", extra_shop="confirm_seconds = 5")
    a, b = start_booth("booth-a", drop), start_booth("booth-b", drop)
    wait_until(lambda: shop_has(a, "cap") == 30 and shop_has(b, "cap") == 30, 10, "both booths on the shop")
    assert left(a, "cap") == left(b, "cap") == 6  # 6 of the shop's 30, shared by both
    for sold in range(1, 5):
        seller, other = (a, b) if sold % 2 else (b, a)
        status, answer = sell(seller, "cap")
        assert status == 200 and answer["left"] == 6 - sold, answer
        # the other booth sees it within the poll interval (1 s): bounded here by 3 s
        wait_until(lambda o=other, n=sold: left(o, "cap") == 6 - n, 3, f"the other booth to see sale {sold}")
    retry = http_json(a.port, "POST", "/sale", json.dumps({"sku": "cap"}).encode(), timeout=10, token=a.token,
                      key="first-pooled-sale")  # fmt: skip
    assert retry[0] == 200 and retry[1]["left"] == 1, retry
    assert http_json(a.port, "POST", "/sale", json.dumps({"sku": "cap"}).encode(), timeout=10, token=a.token,
                     key="first-pooled-sale") == retry  # a retry: the first answer, the shop asked once
    wait_until(lambda: left(b, "cap") == 1, 3, "booth b to see the fifth sale")
    answers: list[tuple[int, Any]] = []
    racers = [threading.Thread(target=lambda s=serve: answers.append(sell(s, "cap")), name=f"test-racer-{i}")
              for i, serve in enumerate([a, b, a, b, a, b])]  # both booths at once, for the last unit
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(20)
    assert sorted(status for status, _ in answers) == [200, 409, 409, 409, 409, 409], answers
    assert all("sold out" in answer["error"] for status, answer in answers if status == 409), answers
    wait_until(lambda: standin.available(CAP_ITEM) == 24, 5, "every stall sale at the shop")
    wait_until(lambda: left(a, "cap") == 0 and left(b, "cap") == 0, 3, "both counters at zero")
    for serve in (a, b):
        status, answer = sell(serve, "cap")
        assert status == 409 and "sold out" in answer["error"], answer
    assert standin.available(CAP_ITEM) == 24  # the pool's floor: never below it
    for name in ("booth-a", "booth-b"):
        assert not [e for e in sync_events(tmp_path / name) if e["what"] == "oversold"]
    assert a.stop() == 0 and b.stop() == 0


def test_shopify_deliveries_on_the_webhook_route(tmp_path: Path, standin: StandinProcess,
                                                 start_booth: Callable[..., ServeProcess]) -> None:  # fmt: skip
    serve = start_booth("booth", write_drop(tmp_path / "files", standin))
    wait_until(lambda: shop_has(serve, "tee") == 400, 10, "the first poll")
    url = f"http://127.0.0.1:{serve.port}/webhooks/shopify"
    standin.control("webhooks", {"url": url, "duplicate": 2, "shuffle_s": 0.1, "retry_base_s": 0.2})
    for _ in range(5):
        standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})
    wait_until(lambda: left(serve, "tee") == 45, 5, "five online orders, each delivered three times")
    wait_until(lambda: standin.state()["webhooks"]["queued"] == 0, 5, "every copy delivered")
    assert standin.state()["webhooks"]["failed_attempts"] == 0  # every delivery answered 2xx
    assert left(serve, "tee") == 45  # counted once each
    item = int(TEE_ITEM.rsplit("/", 1)[1])
    late = {"inventory_item_id": item, "location_id": 77, "available": 300, "updated_at": "2020-01-01T00:00:00Z"}
    status, answer = deliver(serve.port, standin.client_secret, "inventory_levels/update", late, time.time() - 30)
    assert (status, answer["verdict"]) == (200, "stale") and left(serve, "tee") == 45  # 30 s late: older news
    status, answer = deliver(serve.port, standin.client_secret, "inventory_levels/update", late, time.time(),
                             sign=False)  # fmt: skip
    assert status == 401 and answer["verdict"] == "forged" and left(serve, "tee") == 45
    status, _ = deliver(serve.port, standin.client_secret, "orders/create", {}, time.time(),
                        body=b"{" + b" " * 600_000 + b"}")  # fmt: skip
    assert status == 413
    status, answer = http_json(serve.port, "POST", "/sale", b"{}", token=None, key="x")
    assert status == 401  # the rest of the API still needs the token


def test_an_outage_with_a_kill_in_the_middle_loses_and_doubles_nothing(
        tmp_path: Path, standin: StandinProcess, start_booth: Callable[..., ServeProcess]) -> None:  # fmt: skip
    drop = write_drop(tmp_path / "files", standin)
    serve = start_booth("booth", drop)
    wait_until(lambda: shop_has(serve, "tee") == 400, 10, "the first poll")
    standin.faults(down=True)
    for _ in range(3):
        status, answer = sell(serve, "tee")  # answered once on disk, the shop is not waited for
        assert status == 200, answer
    assert left(serve, "tee") == 47
    wait_until(lambda: any("Cannot reach" in m or "trouble" in m for m in alerts(serve)), 5, "the outage alert")
    wait_until(lambda: state(serve)["shop"]["queued"] == 3, 3, "three sales waiting")
    serve.kill()  # SIGKILL while they wait
    standin.faults(down=False)
    serve = start_booth("booth", drop)
    wait_until(lambda: standin.available(TEE_ITEM) == 397, 10, "the queued sales at the shop after the restart")
    wait_until(lambda: state(serve)["shop"]["queued"] == 0, 5, "the queue drained")
    assert left(serve, "tee") == 47 and len(standin.state()["adjustments"]) == 3
    assert serve.stop() == 0
    report = subprocess.run([sys.executable, "-m", "booth", "report", "--data-dir", str(tmp_path / "booth"),
                             "--format", "json"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert report.returncode == 0, report.stderr
    shop = json.loads(report.stdout)["shop"]
    assert shop["channels"] == {"api": 3} and shop["stall_confirmed"] == 3 and shop["stall_waiting"] == 0
    assert {"unreachable", "recovered"} <= {i["what"] for i in shop["sync_incidents"]}


@pytest.mark.parametrize(("fault", "words"), [
    ({"throttle": True}, "throttled"),
    ({"errors_500": 1000}, "having trouble (HTTP 500)"),
])  # fmt: skip
def test_a_throttled_or_failing_shop_is_said_and_caught_up(tmp_path: Path, standin: StandinProcess,
                                                           start_booth: Callable[..., ServeProcess],
                                                           fault: dict[str, Any], words: str) -> None:  # fmt: skip
    serve = start_booth("booth", write_drop(tmp_path / "files", standin))
    wait_until(lambda: shop_has(serve, "tee") == 400, 10, "the first poll")
    standin.faults(**fault)
    status, _ = sell(serve, "tee", 2)
    assert status == 200 and left(serve, "tee") == 48
    wait_until(lambda: any(words in m for m in alerts(serve)), 8, f"the host told: {words}")
    standin.faults(throttle=False, errors_500=0)
    wait_until(lambda: standin.available(TEE_ITEM) == 398, 10, "the sale at the shop once it answers")
    wait_until(lambda: not alerts(serve), 5, "the alert to clear")


def test_wrong_credentials_and_an_unknown_variant_are_one_sentence_each(
        tmp_path: Path, standin: StandinProcess, start_booth: Callable[..., ServeProcess]) -> None:  # fmt: skip
    wrong = start_booth("wrong", write_drop(tmp_path / "wrong", standin, secret="shpss_not_the_secret"))
    unknown = start_booth("unknown", write_drop(tmp_path / "unknown", standin,
                                                variant_tee="gid://shopify/ProductVariant/404"))  # fmt: skip
    wait_until(lambda: any("refused Booth's app credentials" in m for m in alerts(wrong)), 10, "the credentials")
    assert all("shpss_not_the_secret" not in m for m in alerts(wrong))
    wait_until(lambda: any("has no variant gid://shopify/ProductVariant/404" in m for m in alerts(unknown)), 10,
               "the unknown variant")  # fmt: skip
    for serve in (wrong, unknown):  # Booth keeps selling from the quota; nothing reaches the shop
        status, _ = sell(serve, "cap")
        assert status == 200 and left(serve, "cap") == 4
    assert standin.state()["adjustments"] == []


def test_a_rehearsal_process_never_writes_to_the_shop(tmp_path: Path, standin: StandinProcess,
                                                      start_booth: Callable[..., ServeProcess]) -> None:  # fmt: skip
    serve = start_booth("booth", write_drop(tmp_path / "files", standin, pool="market"), "--rehearsal")
    wait_until(lambda: shop_has(serve, "tee") == 400, 10, "the first poll")
    for _ in range(4):
        assert sell(serve, "tee")[0] == 200
    standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})
    wait_until(lambda: left(serve, "tee") == 45, 5, "the online order in the shadow counter")  # a poll after
    shop = standin.state()
    assert shop["items"][TEE_ITEM]["available"] == 399 and [a["origin"] for a in shop["adjustments"]] == [
        "online order"] and shop["metafields"] == {}  # fmt: skip
    assert state(serve)["shop"]["rehearsal"] is True
    assert serve.stop() == 0
    with SessionReader(tmp_path / "booth" / DB_FILENAME) as reader:
        session = reader.session()
        report = build_report(session, reader.events(session.id), [])
    assert report.kind == "rehearsal" and report.shop is not None and report.shop.rehearsal
    assert report.shop.stall_waiting == 4 and report.shop.stall_confirmed == 0


def test_booth_check_proves_the_shop(tmp_path: Path, standin: StandinProcess) -> None:
    drop = write_drop(tmp_path, standin, quota_cap=40)
    done = subprocess.run([sys.executable, "-m", "booth", "check", "--json", "--drop", str(drop), "--probes", "1"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    items = {i["name"]: i for i in json.loads(done.stdout)["items"] if i["group"] == "shop"}
    assert items["shop credentials"]["status"] == "ok" and items["shop"]["status"] == "ok"
    assert items["shop tee"]["summary"] == "TEE / BLACK: 400 available at location 77, quota 50"
    assert items["shop cap"]["status"] == "warn"  # 30 at the shop, a quota of 40
    assert "one poll costs" in items["shop budget"]["summary"]


def test_a_sticker_code_over_the_api_sells_once_and_a_retry_gets_the_first_answer(
        tmp_path: Path, standin: StandinProcess, start_booth: Callable[..., ServeProcess]) -> None:  # fmt: skip
    from booth.core.shop.codes import make_codes
    from tests.shop.conftest import CODES_SECRET_TEXT

    serve = start_booth("booth", write_drop(tmp_path / "files", standin))
    wait_until(lambda: shop_has(serve, "tee") == 400, 10, "the first poll")
    code = make_codes(CODES_SECRET_TEXT.encode(), "tee", "", 1, lambda n: bytes(range(n)))[0]
    body = json.dumps({"code": code.display}).encode()
    first = http_json(serve.port, "POST", "/code", body, token=serve.token, key="scan-1")
    assert first == (200, {"ok": True, "sku": "tee", "qty": 1, "left": 49, "offline": False})
    again = http_json(serve.port, "POST", "/code", body, token=serve.token, key="scan-1")  # a retried request
    assert again[0] == 200 and again[1]["left"] == 49 and left(serve, "tee") == 49
    second = http_json(serve.port, "POST", "/code", body, token=serve.token, key="scan-2")  # the sticker again
    assert second == (409, {"ok": False, "error": f"{code.display} was already used at this booth."})
    typo = code.display[:-1] + ("2" if code.display[-1] != "2" else "3")
    status, answer = http_json(serve.port, "POST", "/code", json.dumps({"code": typo}).encode(), token=serve.token,
                               key="scan-3")  # fmt: skip
    assert status == 409 and "typo" in answer["error"]
    wait_until(lambda: standin.available(TEE_ITEM) == 399, 5, "the code's sale at the shop")
    assert f"booth_codes.{code.redemption_key}" in standin.state()["metafields"]
