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


def http(url: str, token: str, body: dict | None = None, key: str | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def start_booth(tmp_path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen(
        [sys.executable, "-m", "booth", "--drop", str(tmp_path / "drop.toml"), "--data-dir", str(tmp_path / "data"),
         "--resume", "--api-port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_for_state(base: str, proc: subprocess.Popen[bytes], token_file) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # bounded: the GUI process is starting up
        assert proc.poll() is None, "booth exited during start-up"
        try:
            return http(f"{base}/state", token_file.read_text().strip())[1]["drop"]
        except (urllib.error.URLError, ConnectionError, FileNotFoundError):
            time.sleep(0.1)
    raise AssertionError("booth did not start serving within 30 s")


@pytest.mark.slow
def test_the_gui_resumes_the_same_drop_after_sigkill(tmp_path):
    (tmp_path / "drop.toml").write_text(DROP)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    token_file = tmp_path / "data" / "api-token"
    proc = start_booth(tmp_path, port)
    try:
        wait_for_state(base, proc, token_file)
        token = token_file.read_text().strip()
        acknowledged = sum(1 for n in range(7)
                           if http(f"{base}/sale", token, {"sku": "tee", "qty": 1}, key=f"sale-{n}")[0] == 200)
        before = http(f"{base}/state", token)[1]["drop"]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert acknowledged == 7
    proc = start_booth(tmp_path, port)
    try:
        after = wait_for_state(base, proc, token_file)
        retried = http(f"{base}/sale", token, {"sku": "tee", "qty": 1}, key="sale-6")  # a retry after the crash
        metrics = fetch_metrics(port, token)
    finally:
        proc.terminate()  # SIGTERM, as at logout: a clean shutdown, not a crash
        code = proc.wait(30)
    assert code == 0
    assert after["skus"]["tee"]["left"] == 40 - 7
    assert retried == (200, {"ok": True, "sku": "tee", "qty": 1, "left": 33})  # the first answer, not sold again
    for key in ("skus", "units_sold", "phase"):
        assert after[key] == before[key], key
    # the fleet sees the same drop on /metrics (real Prometheus text-format parser)
    assert metrics[("booth_drop_units_left", (("sku", "tee"),))] == 33


def fetch_metrics(port: int, token: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
