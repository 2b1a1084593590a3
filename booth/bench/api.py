"""Control API: sale round trip, sale → event, sustained sales with 8 clients, scrapes beside idle clients.

A real `booth serve` child process on 127.0.0.1 (its own data folder in a temporary directory) is
driven over HTTP with its token and an Idempotency-Key per sale, as a shop or a button would:

- `sale_ms_p50/p95`: POST /sale until the answer, which comes only once the sale is on disk
  (one client, one kept-alive connection);
- `event_ms_p95`: POST /sale sent → its `drop` delta read from GET /events (a second connection);
- `sales_per_s`: 8 clients on their own connections selling as fast as they are answered, more
  attempts than stock; `oversold` = acknowledged units beyond the stock (must be 0), and the stock
  left must be exactly what was not acknowledged;
- `scrape_ms_with_idle`: GET /metrics, new connection each, while 8 other connections are held open
  (and one of them trickles an unfinished request).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from booth.bench.store import ServeProcess, _free_port, _percentile

TARGET_SALE_MS_P95 = 15.0
TARGET_EVENT_MS_P95 = 50.0
TARGET_SALES_PER_S = 300.0
TARGET_SCRAPE_MS = 100.0
CLIENTS = 8
IDLE = 8
SKU = "bench-unit"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sales", type=int, default=300, metavar="N", help="timed single-client sales (300)")
    parser.add_argument("--stock", type=int, default=1500, metavar="N",
                        help="stock sold out by the 8 concurrent clients (1500)")  # fmt: skip
    parser.add_argument("--scrapes", type=int, default=30, metavar="N", help="timed /metrics scrapes (30)")


def drop_toml(stock: int) -> str:
    return (f'[drop]\ntitle = "API bench"\ntimer_seconds = 86400\n\n'
            f'[[sku]]\nid = "{SKU}"\nname = "BENCH UNIT"\nstock = {stock}\n')  # fmt: skip


def nodelay_connection(port: int) -> http.client.HTTPConnection:
    """http.client sends a request's headers and body in two writes; with Nagle on, the body waits
    for the server's delayed ACK (40 ms on Linux). Real clients (urllib3, Node, Companion) turn
    Nagle off; so does this one, or the bench would measure the client's TCP settings."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


class Connection:
    """One kept-alive HTTP/1.1 connection to the API, with the token on every request."""

    def __init__(self, port: int, token: str) -> None:
        self._conn = nodelay_connection(port)
        self._auth = f"Bearer {token}"

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": self._auth}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers.update({"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())})
        self._conn.request(method, path, body=data, headers=headers)
        response = self._conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw

    def sell(self, qty: int = 1) -> int:
        return self.request("POST", "/sale", {"sku": SKU, "qty": qty})[0]

    def left(self) -> int:
        status, state = self.request("GET", "/state")
        if status != 200:
            raise RuntimeError(f"GET /state answered {status}")
        return int(state["drop"]["skus"][SKU]["left"])

    def close(self) -> None:
        self._conn.close()


def measure_sales(port: int, token: str, count: int) -> list[float]:
    conn = Connection(port, token)
    try:
        conn.sell()  # warm: the connection, the first request's imports
        times = []
        for _ in range(count):
            start = time.perf_counter()
            status = conn.sell()
            times.append((time.perf_counter() - start) * 1000)
            if status != 200:
                raise RuntimeError(f"a bench sale was answered {status}")
        return times
    finally:
        conn.close()


class EventReader:
    """GET /events on its own connection; `wait_for(seq)` returns when a delta after `seq` arrived."""

    def __init__(self, port: int, token: str) -> None:
        self._conn = nodelay_connection(port)
        self._conn.request("GET", "/events", headers={"Authorization": f"Bearer {token}"})
        self._response = self._conn.getresponse()
        if self._response.status != 200:
            raise RuntimeError(f"GET /events answered {self._response.status}")
        self.last = self.next()["seq"]  # the snapshot

    def next(self) -> dict[str, Any]:
        data = []
        while True:
            line = self._response.readline().decode()
            if not line:
                raise RuntimeError("the event stream ended")
            if line.startswith("data:"):
                data.append(line[5:].strip())
            elif line.strip() == "" and data:
                return dict(json.loads("".join(data)))

    def next_drop(self) -> dict[str, Any]:
        while True:
            message = self.next()
            self.last = message["seq"]
            if message["type"] == "drop":
                return message

    def close(self) -> None:
        self._conn.close()


def measure_events(port: int, token: str, count: int) -> list[float]:
    reader = EventReader(port, token)
    conn = Connection(port, token)
    try:
        times = []
        for _ in range(count):
            start = time.perf_counter()
            conn.sell()
            reader.next_drop()
            times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        conn.close()
        reader.close()


def measure_throughput(port: int, token: str, stock: int) -> dict[str, Any]:
    """8 clients, more attempts than stock: acknowledged units never exceed it."""
    attempts = stock // CLIENTS + stock // (4 * CLIENTS) + 1  # 25 % more than there is
    acked = [0] * CLIENTS
    refused = [0] * CLIENTS
    last_ack = [0.0] * CLIENTS
    errors: list[str] = []
    go = threading.Event()

    def client(i: int) -> None:
        conn = Connection(port, token)
        try:
            go.wait(10)
            for _ in range(attempts):
                status = conn.sell()
                if status == 200:
                    acked[i] += 1
                    last_ack[i] = time.perf_counter()
                elif status == 409:
                    refused[i] += 1
                else:
                    errors.append(f"status {status}")
                    return
        except (OSError, http.client.HTTPException) as exc:
            errors.append(str(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), name=f"booth-bench-api-client-{i}", daemon=True)
               for i in range(CLIENTS)]  # fmt: skip
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join(120)
    if errors:
        raise RuntimeError(f"concurrent sales failed: {errors[:3]}")
    sold = sum(acked)
    conn = Connection(port, token)
    try:
        left = conn.left()
    finally:
        conn.close()
    elapsed = max(last_ack) - start if sold else float("nan")
    return {
        "sales_per_s": round(sold / elapsed, 1) if sold else 0.0,
        "concurrent_acked": sold,
        "concurrent_refused": sum(refused),
        "oversold": max(0, sold - stock),
        "stock_left_matches": left == stock - sold,
    }


def measure_scrapes(port: int, token: str, count: int) -> list[float]:
    idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(IDLE)]
    try:
        idle[0].sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        times = []
        for _ in range(count):
            conn = Connection(port, token)
            start = time.perf_counter()
            status, _ = conn.request("GET", "/metrics")
            times.append((time.perf_counter() - start) * 1000)
            conn.close()
            if status != 200:
                raise RuntimeError(f"/metrics answered {status}")
        return times
    finally:
        for sock in idle:
            sock.close()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="booth-bench-api-")))
        drop = folder / "drop.toml"
        drop.write_text(drop_toml(args.stock + args.sales * 2 + 1), encoding="utf-8")  # the timed sales, then `stock`
        serve = ServeProcess(folder / "data", drop, extra=[], port=_free_port())
        serve.start()
        stack.callback(serve.kill)
        token = serve.token or ""
        sales = measure_sales(serve.port, token, args.sales)
        events = measure_events(serve.port, token, args.sales)
        scrapes = measure_scrapes(serve.port, token, args.scrapes)
        # What is left now is the stock the concurrent clients sell out.
        conn = Connection(serve.port, token)
        left = conn.left()
        conn.close()
        throughput = measure_throughput(serve.port, token, left)
        code = serve.stop()
    result: dict[str, Any] = {
        "sale_ms_p50": round(statistics.median(sales), 2),
        "sale_ms_p95": round(_percentile(sales, 0.95), 2),
        "event_ms_p50": round(statistics.median(events), 2),
        "event_ms_p95": round(_percentile(events, 0.95), 2),
        **throughput,
        "scrape_ms_with_idle": round(_percentile(scrapes, 0.95), 2),
        "clean_exit": code == 0,
    }
    result["ok"] = (
        result["sale_ms_p95"] <= TARGET_SALE_MS_P95
        and result["event_ms_p95"] <= TARGET_EVENT_MS_P95
        and result["sales_per_s"] >= TARGET_SALES_PER_S
        and result["oversold"] == 0
        and result["stock_left_matches"]
        and result["scrape_ms_with_idle"] <= TARGET_SCRAPE_MS
    )
    return result


def format_table(result: dict[str, Any]) -> str:
    def row(name: str, value: Any, target: str) -> str:
        return f"{name:<34}{value!s:>10}   {target}"

    return "\n".join([
        row("sale round trip p50 (ms)", result["sale_ms_p50"], "POST /sale → answered, on disk"),
        row("sale round trip p95 (ms)", result["sale_ms_p95"], f"target ≤ {TARGET_SALE_MS_P95:g}"),
        row("sale → event p50 (ms)", result["event_ms_p50"], "POST /sale → its delta on GET /events"),
        row("sale → event p95 (ms)", result["event_ms_p95"], f"target ≤ {TARGET_EVENT_MS_P95:g}"),
        row(f"sales/s, {CLIENTS} clients", result["sales_per_s"], f"target ≥ {TARGET_SALES_PER_S:g}"),
        row("acknowledged / refused", f"{result['concurrent_acked']}/{result['concurrent_refused']}", "sold out"),
        row("oversold units", result["oversold"], "target 0"),
        row(f"/metrics p95, {IDLE} idle conns (ms)", result["scrape_ms_with_idle"], f"target ≤ {TARGET_SCRAPE_MS:g}"),
        "OK" if result["ok"] else "FAILED: see the targets above",
    ])
