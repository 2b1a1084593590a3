"""`booth check --json` as a subprocess, against real endpoints on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .servers import ModeServer, refused_port

ROOT = Path(__file__).resolve().parents[2]


def _drop(tmp_path: Path, endpoints: str, primary: str = "demo:") -> Path:
    path = tmp_path / "drop.toml"
    path.write_text(f"""
[drop]
title = "Check test"
timer_seconds = 900

[[sku]]
id = "tee"
name = "TEE / BLACK"
stock = 50

[sources]
primary = "{primary}"

[recording]
folder = "{tmp_path}/recordings"

[health]
mic = "none"
{endpoints}
""", encoding="utf-8")
    return path


def _check(*args: str) -> tuple[int, dict]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-m", "booth", "check", "--json", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, json.loads(proc.stdout)


def test_check_json_healthy_endpoint(tmp_path):
    server = ModeServer("http-ok")
    try:
        drop = _drop(tmp_path, f"""
[[health.endpoint]]
name = "ingest"
target = "tcp://127.0.0.1:{server.port}"

[[health.endpoint]]
name = "shop"
target = "{server.url}"
""")
        code, report = _check("--drop", str(drop), "--probes", "3")
    finally:
        server.close()
    assert code == report["exit_code"]
    items = {i["name"]: i for i in report["items"]}
    assert items["endpoint ingest"]["status"] == "ok"
    assert items["endpoint ingest"]["figures"]["loss_percent"] == 0.0
    assert items["endpoint shop"]["status"] == "ok" and "SECRET-TOKEN-123" not in json.dumps(report)
    assert items["source primary"]["status"] == "ok"
    assert items["microphone"]["status"] == "skip"
    assert items["battery"]["status"] == "ok"  # this VM has no battery: mains power, not an error
    assert {"battery", "recordings", "cpu and memory", "interfaces"} <= set(items)


def test_check_json_fails_on_a_refusing_endpoint_and_a_missing_file(tmp_path):
    drop = _drop(tmp_path, f"""
[[health.endpoint]]
name = "ingest"
target = "tcp://127.0.0.1:{refused_port()}"
""", primary=f"file:{tmp_path / 'missing.mp4'}")
    code, report = _check("--drop", str(drop), "--probes", "2")
    assert code == 2 and report["exit_code"] == 2
    items = {i["name"]: i for i in report["items"]}
    assert items["endpoint ingest"]["status"] == "fail"
    assert "connection refused" in items["endpoint ingest"]["summary"]
    assert items["source primary"]["status"] == "fail"


def test_check_bad_config_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[health]\nmics = "x"\n[[sku]]\nid="a"\nname="A"\nstock=1\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "booth", "check", "--drop", str(bad)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "health.mics: unknown key" in proc.stderr


def test_check_counts_the_clean_recording_in_the_minutes_left(tmp_path):
    """With the clean feed on, two recordings share the disk: the minutes left must say so."""
    plain = _drop(tmp_path, "")
    _code, report = _check("--drop", str(plain), "--probes", "1")
    program_only = next(i for i in report["items"] if i["name"] == "recordings")
    clean = tmp_path / "clean.toml"
    clean.write_text(plain.read_text(encoding="utf-8") + "\n[clips]\nclean = true\n", encoding="utf-8")
    _code, report = _check("--drop", str(clean), "--probes", "1")
    both = next(i for i in report["items"] if i["name"] == "recordings")
    assert "at 4.6 Mbit/s" in program_only["summary"], program_only["summary"]
    assert "at 7.7 Mbit/s" in both["summary"], both["summary"]  # + the clean feed's 3.1 Mbit/s
    assert both["figures"]["record_seconds_left"] < 0.7 * program_only["figures"]["record_seconds_left"]
