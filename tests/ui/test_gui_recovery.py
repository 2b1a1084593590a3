"""The real GUI process (offscreen) is killed mid-drop and resumes the same drop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.senders import free_port

DROP = """
[drop]
title = "Recovery drop"
timer_seconds = 600
pre_sale = true
[[sku]]
id = "tee"
name = "TEE"
stock = 40
"""


def http(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def start_booth(tmp_path, port: int, metrics_port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "booth", "--drop", str(tmp_path / "drop.toml"), "--data-dir", str(tmp_path / "data"),
         "--resume", "--shop-port", str(port), "--metrics-port", str(metrics_port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_for_state(base: str, proc: subprocess.Popen[bytes]) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # bounded: the GUI process is starting up
        assert proc.poll() is None, "booth exited during start-up"
        try:
            return http(f"{base}/state")[1]
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError("booth did not start serving within 30 s")


@pytest.mark.slow
def test_the_gui_resumes_the_same_drop_after_sigkill(tmp_path):
    (tmp_path / "drop.toml").write_text(DROP)
    port, metrics_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_booth(tmp_path, port, metrics_port)
    try:
        wait_for_state(base, proc)
        acknowledged = sum(1 for _ in range(7) if http(f"{base}/sale", {"sku": "tee", "qty": 1})[0] == 200)
        before = http(f"{base}/state")[1]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert acknowledged == 7
    proc = start_booth(tmp_path, port, metrics_port)
    try:
        after = wait_for_state(base, proc)
        metrics = fetch_metrics(metrics_port)
    finally:
        proc.terminate()  # SIGTERM, as at logout: a clean shutdown, not a crash
        code = proc.wait(30)
    assert code == 0
    assert after["skus"]["tee"]["left"] == 40 - 7
    for key in ("skus", "units_sold", "phase"):
        assert after[key] == before[key], key
    # the fleet sees the same drop on /metrics (real Prometheus text-format parser)
    assert metrics[("booth_drop_units_left", (("sku", "tee"),))] == 33


def fetch_metrics(port: int) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
