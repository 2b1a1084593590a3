"""Shop sync under a burst, end to end: online orders, stall sales and sticker codes on two booths against
the Shopify stand-in, measured where viewers see the counter — the overlay the program compositor burns.

Booth A is the whole picture path (demo source → compositor with the overlay → program frames), its session
log, the shop part and the control API (whose webhook route takes the stand-in's deliveries); booth B is a
headless drop (`booth serve`'s parts) with its own session log on the same shop. Phases (bounded in count
and time):

1. polling only: online orders; `poll_to_overlay_ms` = order placed → the compositor burns the new count;
2. webhooks on (every delivery duplicated, reordered) to booth A's API: online orders;
   `webhook_to_overlay_ms`;
3. mixed: stall sales at both booths (some through A's control API, each sent twice with its key: a
   retry), sticker codes (each scanned again at the other booth), online orders in between;
   `stall_to_shop_ms` = stall sale on disk → confirmed by the shop (both from the session logs' times).

Then `double_counted`, `lost` and `oversold` from both booths' counters against the shop's own stock.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from booth.bench.shop_standin import StandinProcess
from booth.core.events import DropEvent, SaleRecorded
from booth.core.shop.codes import make_codes
from booth.core.shop.events import StallSaleConfirmed, SyncIncident

TEE_VARIANT, TEE_ITEM = "gid://shopify/ProductVariant/1101", "gid://shopify/InventoryItem/2101"
INITIAL = 1000
CODES_SECRET = "b" * 64
TARGETS = {"poll_to_overlay_ms_p95": 1500.0, "webhook_to_overlay_ms_p95": 300.0, "stall_to_shop_ms_p95": 1000.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=200, metavar="N", help="orders in the burst (default 200)")
    parser.add_argument("--seed", type=int, default=13, help="the burst's random seed")


class BurnedOverlay:
    """Wraps the overlay model the compositor asks for on every frame: when each stock figure was burned."""

    def __init__(self, model: Callable[[], Any]) -> None:
        self._model = model
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.text = ""
        self.changed_at = 0.0

    def __call__(self) -> Any:
        model = self._model()
        if model.stock_text != self.text:
            with self._cond:
                self.text, self.changed_at = model.stock_text, time.monotonic()
                self._cond.notify_all()
        return model

    def wait_for(self, left: int, timeout: float) -> float | None:
        """The monotonic time the compositor first burned `left` or fewer, or None after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while _left_of(self.text) > left:
                remaining = deadline - time.monotonic()
                if (remaining <= 0 or not self._cond.wait(remaining)) and _left_of(self.text) > left:
                    return None
            return self.changed_at


def _left_of(text: str) -> int:
    return 0 if text == "SOLD OUT" else int(text.split()[0]) if text else INITIAL + 1


def _drop_file(folder: Path, standin: StandinProcess) -> Path:
    standin.write_credentials(folder / "shop.toml", CODES_SECRET)
    path = folder / "drop.toml"
    path.write_text(f"""
[drop]
title = "Sync bench"
timer_seconds = 3600

[program]
size = "640x360"
fps = 30

[[sku]]
id = "tee"
name = "TEE / BLACK"
stock = {INITIAL}

{standin.shop_section(stale_alarm_seconds=10)}
[shop.sku.tee]
variant = "{TEE_VARIANT}"
""", encoding="utf-8")
    return path


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) < 2:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=20, method="inclusive")[18], 1)


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)  # bounded: waiting for a booth's counter or the shop
    return True


def measure(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])  # the overlay is drawn with Qt's painter
    rng = random.Random(args.seed)
    total = max(10, int(args.orders))
    n_poll, n_hook = total // 5, total // 5
    n_stall, n_codes = (total * 3) // 10, total // 5
    n_mixed_online = total - n_poll - n_hook - n_stall - n_codes
    with tempfile.TemporaryDirectory(prefix="booth-bench-sync-") as tmp:
        folder = Path(tmp)
        standin = StandinProcess(folder / "standin", [{"variant_id": TEE_VARIANT, "inventory_item_id": TEE_ITEM,
                                                       "sku": "TEE-BLK-M", "available": INITIAL}]).start()  # fmt: skip
        try:
            return _run(folder, standin, rng, n_poll, n_hook, n_stall, n_codes, n_mixed_online)
        finally:
            standin.stop()


def _run(folder: Path, standin: StandinProcess, rng: random.Random, n_poll: int, n_hook: int, n_stall: int,
         n_codes: int, n_mixed_online: int) -> dict[str, Any]:  # fmt: skip
    from booth.app.control_api import add_control_api
    from booth.app.drop_parts import add_drop_clock, add_drop_shop, build_drop
    from booth.app.lifecycle import Lifecycle
    from booth.app.options import Options
    from booth.app.root import build_booth
    from booth.app.shop_part import add_shop
    from booth.bench.store import http_json
    from booth.core.config import load_config
    from booth.drop.session import start_drop_session
    from booth.ops.metrics import MetricsSources

    config = load_config(_drop_file(folder, standin))
    session_a = start_drop_session(folder / "booth-a", config)
    booth = build_booth(config, session=session_a)
    burned = BurnedOverlay(booth.overlay_model)
    booth.overlay_model = burned  # type: ignore[method-assign]  # the compositor asks through it
    options_a = Options(api_port=0, data_dir=folder / "booth-a")
    booth.shop = add_shop(booth.lifecycle, config, options_a, booth.controller, session_a)
    booth.api = add_control_api(booth.lifecycle, booth.problems, options_a, booth.controller, session_a,
                                MetricsSources(drop=booth.controller.view), shop=booth.shop)  # fmt: skip
    session_b = start_drop_session(folder / "booth-b", config)
    other = build_drop(config, Lifecycle(), session=session_b)
    add_drop_clock(other)
    add_drop_shop(other, config, Options(data_dir=folder / "booth-b"))
    for drop in (booth.controller, other.controller):
        drop.start_timer()
    booth.start()
    other.start()
    a, b = booth.controller, other.controller
    try:
        assert booth.shop is not None and other.shop is not None and booth.api is not None
        _wait(lambda: all(c.view().sku("tee").shop_available == INITIAL for c in (a, b)), 15)
        online = 0

        def order() -> float:
            nonlocal online
            placed = time.monotonic()
            standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})
            online += 1
            return placed

        def to_overlay(placed: float) -> float | None:
            burned_at = burned.wait_for(INITIAL - online, 5.0)
            return (burned_at - placed) * 1000 if burned_at is not None else None

        poll_ms = [ms for _ in range(n_poll) if (ms := _after(rng.uniform(0.0, 0.25), lambda: to_overlay(order())))
                   is not None]  # fmt: skip
        url = f"http://127.0.0.1:{booth.api.port}/webhooks/shopify"
        standin.control("webhooks", {"url": url, "duplicate": 1, "shuffle_s": 0.05, "retry_base_s": 0.2})
        hook_ms = [ms for _ in range(n_hook) if (ms := _after(rng.uniform(0.05, 0.15), lambda: to_overlay(order())))
                   is not None]  # fmt: skip

        codes = make_codes(CODES_SECRET.encode(), "tee", "", n_codes, lambda n: bytes(rng.randrange(256)
                                                                                   for _ in range(n)))  # fmt: skip
        stall = code_units = rescans_refused = api_retries_counted_once = 0
        plan = ["stall"] * n_stall + ["code"] * n_codes + ["online"] * n_mixed_online
        rng.shuffle(plan)
        code_iter = iter(codes)
        parts = [booth.shop, other.shop]
        for step, kind in enumerate(plan):
            here = step % 2
            if kind == "stall" and here == 0 and step % 4 == 0:  # through the control API, and retried
                key, body = str(uuid.uuid4()), json.dumps({"sku": "tee"}).encode()
                first = http_json(booth.api.port, "POST", "/sale", body, token=booth.api.token, key=key)
                again = http_json(booth.api.port, "POST", "/sale", body, token=booth.api.token, key=key)
                if first[0] == 200:
                    stall += 1
                    api_retries_counted_once += again[0] == 200 and again[1] == first[1]
            elif kind == "stall":
                stall += (a if here == 0 else b).sell("tee").accepted
            elif kind == "code":
                code = next(code_iter)
                code_units += parts[here].redeem(code.display).sale is not None
                rescans_refused += parts[1 - here].redeem(code.display).sale is None
            else:
                order()
            time.sleep(rng.uniform(0.02, 0.2))  # a busy stall pair: ≈ 9 sales a second between them
        sold = online + stall + code_units
        _wait(lambda: standin.available(TEE_ITEM) == INITIAL - sold and all(
            p.status() is not None and p.status().queued == 0 for p in parts), 30)  # type: ignore[union-attr]
        _wait(lambda: all(c.view().sku("tee").shop_available == INITIAL - sold for c in (a, b)), 10)
        stall_ms = _stall_latencies([a.events(), b.events()])
        shop_left = standin.available(TEE_ITEM)
        views = [p.sync.ledger.view("tee") for p in parts if p.sync is not None]
        drawn = [v.drawn for v in views]
        shown = [c.view().sku("tee").left for c in (a, b)]
        oversold = sum(1 for c in (a, b) for e in c.events() if isinstance(e, SyncIncident) and e.what == "oversold")
        status = booth.shop.status()
        result: dict[str, Any] = {
            "orders": {"online": online, "stall": stall, "codes": code_units, "code_rescans_refused": rescans_refused,
                       "api_retries_counted_once": api_retries_counted_once},
            "poll_to_overlay_ms_p95": _p95(poll_ms),
            "webhook_to_overlay_ms_p95": _p95(hook_ms),
            "stall_to_shop_ms_p95": _p95(stall_ms),
            "measured": {"poll": len(poll_ms), "webhook": len(hook_ms), "stall": len(stall_ms)},
            "double_counted": max(0, max(drawn) - sold) + max(0, (INITIAL - sold) - min(shown)),
            "lost": max(0, sold - min(drawn)) + abs((INITIAL - sold) - shop_left)
            + max(0, max(shown) - (INITIAL - sold)),
            "oversold": oversold + max(0, -shop_left),
            "shop_available": shop_left,
            "counters": shown,
            "poll_cost_points": status.poll_cost_points if status else None,
            "budget_share": round(status.budget_share, 4) if status and status.budget_share is not None else None,
            "shop_calls": standin.state()["calls"],
            "webhooks": standin.state()["webhooks"],
        }
    finally:
        other.stop()
        booth.stop()
    result["ok"] = (
        result["double_counted"] == 0 and result["lost"] == 0 and result["oversold"] == 0
        and all(result[k] is not None and result[k] <= v for k, v in TARGETS.items())
    )  # fmt: skip
    return result


def _after(pause_s: float, work: Callable[[], float | None]) -> float | None:
    time.sleep(pause_s)  # orders land at random points of the poll cycle
    return work()


def _stall_latencies(journals: list[list[DropEvent]]) -> list[float]:
    """On disk → confirmed by the shop, both read from the session logs' wall times (one clock)."""
    queued: dict[str, float] = {}
    confirmed: dict[str, float] = {}
    for events in journals:
        for event in events:
            if isinstance(event, SaleRecorded) and event.ref:
                queued[event.ref] = event.at_wall
            elif isinstance(event, StallSaleConfirmed):
                confirmed[event.sale_id] = event.at_wall
    return [(confirmed[s] - queued[s]) * 1000 for s in queued if s in confirmed]


def format_table(result: dict[str, Any]) -> str:
    lines = ["figure                       measured   target"]
    for key, target in TARGETS.items():
        lines.append(f"{key:<28} {result[key]!s:>8}   ≤ {target:g}")
    for key in ("double_counted", "lost", "oversold"):
        lines.append(f"{key:<28} {result[key]!s:>8}   0")
    share = result.get("budget_share")
    lines.append(f"orders: {result['orders']}; shop left {result['shop_available']}; one poll costs "
                 f"{result['poll_cost_points']} points ({share:.1%} of the restore rate)" if share is not None
                 else f"orders: {result['orders']}; shop left {result['shop_available']}")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="booth bench sync", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--json", action="store_true")
    add_arguments(parser)
    args = parser.parse_args(argv)
    result = measure(args)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
