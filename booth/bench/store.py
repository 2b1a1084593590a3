"""Session log: commit latency, and sales lost when a real `booth serve` is killed with SIGKILL.

Commit latency: sales appended one at a time to a real session log (WAL, synchronous=FULL) in a
temporary folder on the same disk as the data folder; time from `append` to the commit callback.

Kill trials: a `booth serve` process receives sales over HTTP on 127.0.0.1 from one client (through
the control API, with the data folder's token and an Idempotency-Key per sale); after a random number
of acknowledged sales it is killed with SIGKILL (mid-request, usually) and restarted on the same data
folder. A lost sale is one the API acknowledged (200) that the restarted process does not count. The
sale that was in flight is then sent again with its key, as a shop would: `double_counted` counts the
retries that sold a second unit (target 0). `resume_ms` is the time from starting the process to its
"serving" line (median, p95 in `resume_ms_p95`); `restart_wall_ms` from spawning it to its first
answered request, seen from outside.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

from booth.api.token import token_path
from booth.core.config import parse_config
from booth.core.events import SaleRecorded
from booth.store.recovery import open_session_log

TARGET_COMMIT_MS_P95 = 20.0
TARGET_RESUME_MS = 3000.0
TARGET_RESTART_WALL_MS = 1500.0
READY_RE = re.compile(r"control API http://127\.0\.0\.1:(\d+)")
BENCH_SKU = "bench-unit"
BENCH_STOCK = 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trials", type=int, default=20, metavar="N", help="kill-9 trials (default 20)")
    parser.add_argument("--commits", type=int, default=500, metavar="N", help="sales timed for latency")
    parser.add_argument("--seed", type=int, default=None, help="random seed for kill moments")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="run in this folder (default: a temporary folder, removed afterwards)")


def bench_config_toml(title: str = "Bench drop") -> str:
    return (
        f'[drop]\ntitle = "{title}"\ntimer_seconds = 86400\n\n'
        f'[[sku]]\nid = "{BENCH_SKU}"\nname = "BENCH UNIT"\nstock = {BENCH_STOCK}\n'
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- commit latency -------------------------------------------------------------------------------


def measure_commits(folder: Path, count: int) -> list[float]:
    config = parse_config(tomllib.loads(bench_config_toml("Latency")), "bench")
    opened = open_session_log(folder / "latency", config)
    latencies: list[float] = []
    try:
        done = threading.Event()
        for _ in range(count):
            done.clear()
            start = time.perf_counter()
            opened.log.append(
                SaleRecorded(time.time(), BENCH_SKU), lambda _e: done.set(), lambda _e, _r: done.set()
            )
            if not done.wait(10):
                raise RuntimeError("the session log did not commit within 10 s")
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        opened.log.close()
    return latencies


# -- kill trials ----------------------------------------------------------------------------------


class ServeProcess:
    """A real `booth serve` child process; only ever killed by its own PID."""

    def __init__(self, data_dir: Path, drop_file: Path, extra: list[str] | None = None, port: int = 0) -> None:
        self.data_dir, self.drop_file = data_dir, drop_file
        self.extra = ["--resume"] if extra is None else extra  # a restart goes on with the same drop
        self.proc: subprocess.Popen[str] | None = None
        self.port = port
        self.answered_ms: float | None = None  # spawn → first answered HTTP request, seen from outside
        self.lines: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 20.0) -> float:
        """Start and wait for the serving line; returns milliseconds from spawn to serving."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "booth", "serve", "--drop", str(self.drop_file), "--data-dir", str(self.data_dir),
             "--api-port", str(self.port), "--start", *self.extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        found = threading.Event()

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                match = READY_RE.search(line)
                if match:
                    self.port = int(match.group(1))
                    found.set()
            found.set()

        self._reader = threading.Thread(target=read, name="booth-bench-serve-reader", daemon=True)
        self._reader.start()
        if self.port:
            self.answered_ms = self._first_answer(t0, timeout)
        if not found.wait(timeout) or not self.port:
            self.kill()
            raise RuntimeError(f"booth serve did not become ready: {self.lines[-5:]}")
        return (time.perf_counter() - t0) * 1000

    @property
    def token(self) -> str | None:
        """The data folder's API token (the file `booth serve` made on its first start)."""
        path = token_path(self.data_dir)
        return path.read_text(encoding="ascii").strip() if path.exists() else None

    def _first_answer(self, t0: float, timeout: float) -> float | None:
        """Poll GET /state on the known port until it answers: the restart as a client sees it."""
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return None
            try:
                status, _ = http_json(self.port, "GET", "/state", timeout=1.0, token=self.token)
            except OSError:
                time.sleep(0.005)  # nothing listening yet: poll again (bounded by the deadline)
                continue
            if status == 200:
                return (time.perf_counter() - t0) * 1000
        return None

    def kill(self) -> None:
        """SIGKILL by PID (only this child), then reap it and its output reader."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> int:
        """SIGTERM (a clean stop); returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        return self._reap()

    def _reap(self) -> int:
        if self.proc is None:
            return 0
        code = self.proc.wait(10)
        if self._reader is not None:
            self._reader.join(10)  # the pipe is at EOF once the process is gone
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return code


def http_json(port: int, method: str, path: str, body: bytes | None = None, timeout: float = 10.0,
              token: str | None = None, key: str | None = None) -> tuple[int, Any]:  # fmt: skip
    """One request to the control API on 127.0.0.1; `key` is the Idempotency-Key of a POST."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if key is not None:
            headers["Idempotency-Key"] = key
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def units_left(port: int, token: str | None, sku: str = BENCH_SKU) -> int:
    status, state = http_json(port, "GET", "/state", token=token)
    if status != 200:
        raise RuntimeError(f"GET /state answered {status}")
    return int(state["drop"]["skus"][sku]["left"])


def post_sale(port: int, token: str | None, key: str, sku: str = BENCH_SKU, qty: int = 1,
              timeout: float = 5.0) -> tuple[int, Any]:  # fmt: skip
    return http_json(port, "POST", "/sale", json.dumps({"sku": sku, "qty": qty}).encode(), timeout, token, key)


class SaleClient:
    """Sends sales one after another on a `booth-bench-client` thread, counting acknowledgements.
    Each sale has a new Idempotency-Key; `in_flight` is the key of one sent but never answered."""

    def __init__(self, port: int, token: str | None, sku: str = BENCH_SKU) -> None:
        self.port = port
        self.token = token
        self.sku = sku
        self.acked = 0
        self.sent = 0
        self.in_flight: str | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="booth-bench-client", daemon=True)

    def start(self) -> SaleClient:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            key = str(uuid.uuid4())
            with self._cond:
                self.sent += 1
                self.in_flight = key
            try:
                status, _ = post_sale(self.port, self.token, key, self.sku)
            except (OSError, http.client.HTTPException, ValueError):
                break  # the server died mid-request: this sale is unacknowledged (`in_flight`)
            with self._cond:
                self.in_flight = None
                if status == 200:
                    self.acked += 1
                self._cond.notify_all()
        with self._cond:
            self._stop.set()
            self._cond.notify_all()

    def wait_acked(self, count: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.acked >= count or self._stop.is_set(), timeout)

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)


def kill_trials(folder: Path, trials: int, rng: random.Random) -> dict[str, Any]:
    drop_file = folder / "bench-drop.toml"
    drop_file.write_text(bench_config_toml(), encoding="utf-8")
    data_dir = folder / "kill"
    acked_total = 0
    lost = 0
    retried = 0
    double_counted = 0
    resume_ms: list[float] = []
    answered_ms: list[float] = []
    port = _free_port()
    serve = ServeProcess(data_dir, drop_file, port=port)
    serve.start()
    try:
        counted_before = BENCH_STOCK - units_left(serve.port, serve.token)
        for _ in range(trials):
            client = SaleClient(serve.port, serve.token).start()
            client.wait_acked(rng.randint(1, 40), timeout=30)
            serve.kill()  # SIGKILL, usually with a sale in flight
            client.close()
            serve = ServeProcess(data_dir, drop_file, port=port)
            resume_ms.append(serve.start())
            if serve.answered_ms is not None:
                answered_ms.append(serve.answered_ms)
            counted = BENCH_STOCK - units_left(serve.port, serve.token)
            # This trial's acknowledged sales must all be counted; the one in flight may or may not be.
            lost += max(0, client.acked - (counted - counted_before))
            if counted - counted_before > client.sent:
                raise RuntimeError(f"{counted - counted_before} sales counted but only {client.sent} were sent")
            acked_total += client.acked
            if client.in_flight is not None:  # the shop retries the unanswered sale with its key
                retried += 1
                status, _answer = post_sale(serve.port, serve.token, client.in_flight)
                after = BENCH_STOCK - units_left(serve.port, serve.token)
                landed_before = counted - counted_before > client.acked
                if status != 200 or after - counted != (0 if landed_before else 1):
                    double_counted += 1
                counted = after
            counted_before = counted
    finally:
        serve.kill()
    return {
        "trials": trials,
        "lost_sales": lost,
        "acked_sales": acked_total,
        "retried_in_flight": retried,
        "double_counted": double_counted,
        "resume_ms": round(statistics.median(resume_ms), 1) if resume_ms else None,
        "resume_ms_p95": round(_percentile(resume_ms, 0.95), 1) if resume_ms else None,
        "restart_wall_ms_p50": round(statistics.median(answered_ms), 1) if answered_ms else None,
        "restart_wall_ms_p95": round(_percentile(answered_ms, 0.95), 1) if answered_ms else None,
    }


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- entry points -----------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    with contextlib.ExitStack() as stack:
        if args.data_dir:
            folder = Path(args.data_dir)
            folder.mkdir(parents=True, exist_ok=True)
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="booth-bench-store-")))
        latencies = measure_commits(folder, args.commits)
        result: dict[str, Any] = {
            "commit_ms_p50": round(_percentile(latencies, 0.50), 3),
            "commit_ms_p95": round(_percentile(latencies, 0.95), 3),
            "commits": len(latencies),
        }
        result.update(kill_trials(folder, args.trials, rng) if args.trials > 0 else
                      {"trials": 0, "lost_sales": 0, "acked_sales": 0, "retried_in_flight": 0, "double_counted": 0,
                       "resume_ms": None, "resume_ms_p95": None,
                       "restart_wall_ms_p50": None, "restart_wall_ms_p95": None})
    result["ok"] = (
        result["lost_sales"] == 0
        and result["double_counted"] == 0
        and result["commit_ms_p95"] <= TARGET_COMMIT_MS_P95
        and (result["resume_ms"] is None or result["resume_ms_p95"] <= TARGET_RESUME_MS)
        and (result["restart_wall_ms_p95"] is None or result["restart_wall_ms_p95"] <= TARGET_RESTART_WALL_MS)
    )
    return result


def format_table(result: dict[str, Any]) -> str:
    def row(name: str, value: Any, target: str) -> str:
        return f"{name:<28}{value!s:>12}   {target}"

    return "\n".join([
        row("commit p50 (ms)", result["commit_ms_p50"], ""),
        row("commit p95 (ms)", result["commit_ms_p95"], f"target ≤ {TARGET_COMMIT_MS_P95:g}"),
        row("kill -9 trials", result["trials"], ""),
        row("acknowledged sales", result["acked_sales"], ""),
        row("lost acknowledged sales", result["lost_sales"], "target 0"),
        row("in-flight sales retried", result["retried_in_flight"], "same Idempotency-Key, after the restart"),
        row("… counted twice", result["double_counted"], "target 0"),
        row("resume median (ms)", result["resume_ms"], "spawn → serving again"),
        row("resume p95 (ms)", result["resume_ms_p95"], f"target ≤ {TARGET_RESUME_MS:g}"),
        row("restart p50 (ms)", result["restart_wall_ms_p50"], "exec → first answered request, from outside"),
        row("restart p95 (ms)", result["restart_wall_ms_p95"], f"target ≤ {TARGET_RESTART_WALL_MS:g}"),
        "OK" if result["ok"] else "FAILED: see the targets above",
    ])
