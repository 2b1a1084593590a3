"""Shop sync under a burst: online orders, stall sales and sticker codes on two booths against the stand-in.

Phases (bounded in count and time):
1. polling only: online orders; `poll_to_counter_ms` = order placed → booth A's counter shows it;
2. webhooks on (duplicated, reordered): online orders; `webhook_to_counter_ms`;
3. mixed: stall sales on both booths, sticker codes (each also scanned again at the other booth),
   online orders in between; `stall_to_shop_ms` = stall sale → confirmed by the shop.
Then `double_counted`, `lost` and `oversold` from both booths' ledgers against the shop's own stock.

The counter measured is the ledger the overlay is drawn from (the overlay wiring comes with the
drop-controller integration); the program-frame figure adds one overlay redraw (≈ 1 frame).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from booth.bench.shop_standin import StandinProcess
from booth.core.events import DropEvent
from booth.core.shop.codes import make_codes
from booth.core.shop.events import StallSaleConfirmed, StallSaleQueued, SyncIncident
from booth.core.shop.settings import ShopCredentials, ShopSettings, ShopSku
from booth.devices.shopify import ShopifyClient
from booth.shop.sync import ShopSync

TEE_VARIANT, TEE_ITEM = "gid://shopify/ProductVariant/1101", "gid://shopify/InventoryItem/2101"
INITIAL = 1000
TARGETS = {"poll_to_counter_ms_p95": 1500.0, "webhook_to_counter_ms_p95": 300.0, "stall_to_shop_ms_p95": 1000.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=200, metavar="N", help="orders in the burst (default 200)")
    parser.add_argument("--seed", type=int, default=13, help="the burst's random seed")


class _Journal:
    def __init__(self) -> None:
        self.events: list[DropEvent] = []
        self.lock = threading.Lock()

    def record(self, event: DropEvent) -> None:
        with self.lock:
            self.events.append(event)


class _Receiver:
    """The webhook route as the API server will host it: Starlette on uvicorn, 127.0.0.1, a named thread."""

    def __init__(self, syncs: list[ShopSync]) -> None:
        import socket

        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def hook(request: Request) -> Response:
            body = await request.body()
            statuses = [sync.webhook(dict(request.headers), body).http_status for sync in syncs]
            return Response(status_code=max(statuses))

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/webhooks/shopify"
        config = uvicorn.Config(Starlette(routes=[Route("/webhooks/shopify", hook, methods=["POST"])]),
                                log_level="warning", access_log=False, lifespan="off")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="booth-bench-webhooks", daemon=True)  # fmt: skip

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.sock.close()


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) < 2:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=20, method="inclusive")[18], 1)


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)  # bounded: sampling the counter for the latency figure
    return True


def measure(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    total = max(10, int(args.orders))
    n_poll, n_hook = total // 5, total // 5
    n_stall, n_codes = (total * 3) // 10, total // 5
    n_mixed_online = total - n_poll - n_hook - n_stall - n_codes
    with tempfile.TemporaryDirectory(prefix="booth-bench-sync-") as tmp:
        standin = StandinProcess(Path(tmp), [{"variant_id": TEE_VARIANT, "inventory_item_id": TEE_ITEM,
                                               "sku": "TEE-BLK-M", "available": INITIAL}]).start()  # fmt: skip
        syncs: list[ShopSync] = []
        receiver: _Receiver | None = None
        try:
            credentials = ShopCredentials(standin.client_id, standin.client_secret)
            settings = ShopSettings(standin.domain, standin.location_id, (ShopSku("tee", TEE_VARIANT, None, INITIAL),),
                                    poll_seconds=1.0, stale_alarm_seconds=10.0)  # fmt: skip
            codes_secret = b"bench-codes-secret-" + bytes(16)
            journals = [_Journal(), _Journal()]
            for index, journal in enumerate(journals):
                client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, timeout_s=2.0)
                items = client.resolve(settings.skus, settings.location_id)
                syncs.append(ShopSync(settings, client, items, journal, {"tee": "TEE / BLACK"},
                                      webhook_secret=standin.client_secret, codes_secret=codes_secret,
                                      booth_name=f"booth-{'ab'[index]}"))  # fmt: skip
            a = syncs[0]
            for sync in syncs:
                sync.start()
            _wait(lambda: all(s.ledger.view("tee").shop_available == INITIAL for s in syncs), 10)
            online = 0

            def order() -> tuple[float, int]:
                nonlocal online
                placed = time.monotonic()
                result = standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})
                online += 1
                return placed, int(result["id"])

            def counter_latency(level: int, placed: float) -> float | None:
                """From the order being placed (before the shop took it) to booth A's counter showing it."""
                ok = _wait(lambda: (a.ledger.view("tee").shop_available or INITIAL) <= level, 5)
                return (time.monotonic() - placed) * 1000 if ok else None

            # 1. polling only
            poll_ms: list[float] = []
            for _ in range(n_poll):
                time.sleep(rng.uniform(0.0, 0.25))  # orders land at random points of the poll cycle
                placed, _ = order()
                waited = counter_latency(INITIAL - online, placed)
                if waited is not None:
                    poll_ms.append(waited)
            # 2. webhooks, duplicated and reordered
            receiver = _Receiver(syncs)
            receiver.start()
            standin.control("webhooks", {"url": receiver.url, "duplicate": 1, "shuffle_s": 0.05,
                                         "retry_base_s": 0.2})  # fmt: skip
            hook_ms: list[float] = []
            for _ in range(n_hook):
                time.sleep(rng.uniform(0.05, 0.15))
                placed, _ = order()
                waited = counter_latency(INITIAL - online, placed)
                if waited is not None:
                    hook_ms.append(waited)
            # 3. mixed: stall sales, codes (each scanned twice, at both booths), online orders
            codes = make_codes(codes_secret, "tee", "", n_codes, lambda n: bytes(rng.randrange(256) for _ in range(n)))
            queued_at: dict[str, float] = {}
            stall_units = code_units = refused_rescans = 0
            plan = ["stall"] * n_stall + ["code"] * n_codes + ["online"] * n_mixed_online
            rng.shuffle(plan)
            code_iter = iter(codes)
            for step, kind in enumerate(plan):
                booth = syncs[step % 2]
                if kind == "stall":
                    sale = booth.sell("tee")
                    if isinstance(sale, StallSaleQueued):
                        queued_at[sale.sale_id] = time.monotonic()
                        stall_units += 1
                elif kind == "code":
                    code = next(code_iter)
                    sale = booth.redeem(code.display, [("tee", "")])
                    if isinstance(sale, StallSaleQueued):
                        queued_at[sale.sale_id] = time.monotonic()
                        code_units += 1
                    again = syncs[(step + 1) % 2].redeem(code.display, [("tee", "")])
                    refused_rescans += not isinstance(again, StallSaleQueued)
                else:
                    order()
                time.sleep(rng.uniform(0.02, 0.2))  # a busy stall pair: ≈ 9 sales a second between them
            sold = online + stall_units + code_units
            _wait(lambda: standin.available(TEE_ITEM) == INITIAL - sold and all(
                s.health.queued_writes == 0 for s in syncs), 20)
            _wait(lambda: all(s.ledger.view("tee").shop_available == INITIAL - sold for s in syncs), 5)
            stall_ms = _stall_latencies(journals, queued_at)
            shop_left = standin.available(TEE_ITEM)
            views = [s.ledger.view("tee") for s in syncs]
            oversold = sum(1 for j in journals for e in j.events
                           if isinstance(e, SyncIncident) and e.what == "oversold")
            drawn = [v.drawn for v in views]
            result: dict[str, Any] = {
                "orders": {"online": online, "stall": stall_units, "codes": code_units,
                           "code_rescans_refused": refused_rescans},
                "poll_to_counter_ms_p95": _p95(poll_ms),
                "webhook_to_counter_ms_p95": _p95(hook_ms),
                "stall_to_shop_ms_p95": _p95(stall_ms),
                "double_counted": max(0, max(drawn) - sold),
                "lost": max(0, sold - min(drawn)) + abs((INITIAL - sold) - shop_left),
                "oversold": oversold + max(0, -shop_left),
                "shop_available": shop_left,
                "poll_cost_points": syncs[0].health.budget_used_per_poll,
                "shop_calls": standin.state()["calls"],
            }
        finally:
            for sync in syncs:
                sync.stop()
            if receiver is not None:
                receiver.stop()
            standin.stop()
    result["ok"] = (
        result["double_counted"] == 0 and result["lost"] == 0 and result["oversold"] == 0
        and all(result[k] is not None and result[k] <= v for k, v in TARGETS.items())
    )  # fmt: skip
    return result


def _stall_latencies(journals: list[_Journal], queued_at: dict[str, float]) -> list[float]:
    """Queued → confirmed, both read from the journals' wall times (one clock)."""
    queued: dict[str, float] = {}
    confirmed: dict[str, float] = {}
    for journal in journals:
        with journal.lock:
            for event in journal.events:
                if isinstance(event, StallSaleQueued) and event.sale_id in queued_at:
                    queued[event.sale_id] = event.at_wall
                elif isinstance(event, StallSaleConfirmed):
                    confirmed[event.sale_id] = event.at_wall
    return [(confirmed[s] - queued[s]) * 1000 for s in queued if s in confirmed]


def format_table(result: dict[str, Any]) -> str:
    lines = ["figure                      measured   target"]
    for key, target in TARGETS.items():
        lines.append(f"{key:<27} {result[key]!s:>8}   ≤ {target:g}")
    for key in ("double_counted", "lost", "oversold"):
        lines.append(f"{key:<27} {result[key]!s:>8}   0")
    lines.append(f"orders: {result['orders']}; shop left {result['shop_available']}; "
                 f"poll cost {result['poll_cost_points']} points")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import json

    parser = argparse.ArgumentParser(prog="booth bench sync", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--json", action="store_true")
    add_arguments(parser)
    args = parser.parse_args(argv)
    result = measure(args)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
