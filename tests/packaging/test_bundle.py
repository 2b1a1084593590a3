"""The frozen app a host installs runs the demo drop, headless, from the bundle itself.

Like friture's smoke test of its AppImage: start the frozen binary offscreen, wait for a sign
that it really works, and fail on anything a missing module or library prints.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request

import pytest

from tests.packaging.conftest import ROOT, FrozenBooth
from tests.senders import free_port

pytestmark = pytest.mark.timeout(1500)  # the first test also builds the bundle (about a minute, cold)

# The compositor logs its first program frame; the recorder logs the file once the encoder process
# (itself the frozen binary, run as `booth -m …`) hands back its first keyframe.
PROGRAM_FRAME_MARKER = r"program running: first frame \d+x\d+ composed"
RECORDING_MARKER = r"recording the program to (?P<path>\S+\.ts)"
PRE_SALE_DROP = """
[drop]
title = "Frozen drop"
pre_sale = true
[[sku]]
id = "demo-tee"
name = "DEMO TEE / BLACK"
stock = 50
"""
FRAMES_SENT = re.compile(r"program out stopped: (?P<sent>\d+) frames sent")


def post_sale(port: int, token: str, sku: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/sale", data=json.dumps({"sku": sku, "qty": 1}).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                                              "Idempotency-Key": "frozen-sale-1"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_the_frozen_gui_runs_the_demo_drop_offscreen(bundle, tmp_path, frozen_runs):
    data = tmp_path / "data"
    port = free_port()
    drop = tmp_path / "drop.toml"
    drop.write_text(PRE_SALE_DROP)
    booth = FrozenBooth([str(bundle.app), "--drop", str(drop), "--data-dir", str(data), "--api-port", str(port)],
                        tmp_path / "gui.log")  # fmt: skip
    frozen_runs.append(booth)
    booth.wait_for_log(r"Booth running: Frozen drop", timeout=60)
    booth.wait_for_log(PROGRAM_FRAME_MARKER, timeout=30)
    recording = booth.wait_for_log(RECORDING_MARKER, timeout=30)
    token = (data / "api-token").read_text().strip()  # the frozen app made its data folder's token
    status, answer = post_sale(port, token, "demo-tee")  # the shop side of a drop: HTTP in, SQLite journal
    code = booth.terminate()

    assert code == 0, f"exit {code}:\n{booth.log()}"
    assert booth.fatal_lines() == []
    assert status == 200, answer
    sent = FRAMES_SENT.search(booth.log())
    assert sent is not None and int(sent["sent"]) > 0, booth.log()
    with open(recording["path"], "rb") as ts:
        assert ts.read(1) == b"\x47"  # an MPEG-TS sync byte: the frozen encoder wrote a real stream

    report = subprocess.run([str(bundle.app), "report", "--format", "json", "--data-dir", str(data)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert report.returncode == 0, report.stderr
    sold = {sku["id"]: sku["units_sold"] for sku in json.loads(report.stdout)["skus"]}
    assert sold == {"demo-tee": 1}  # the sale the frozen app acknowledged is in its session log


def test_the_frozen_preflight_reports_as_json(bundle, tmp_path):
    result = subprocess.run([str(bundle.app), "check", "--json"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # fmt: skip
    report = json.loads(result.stdout)
    assert result.returncode == report["exit_code"] in (0, 1, 2)
    assert {item["group"] for item in report["items"]} >= {"source", "power"}
    source = next(item for item in report["items"] if item["group"] == "source")
    assert source["status"] == "ok", source  # the demo source gave a first picture inside the bundle


def test_the_frozen_version_names_the_package_version(bundle):
    result = subprocess.run([str(bundle.app), "--version"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout.strip() == f"booth {bundle.version}"


def test_the_frozen_binary_runs_only_booths_own_modules(bundle):
    """The bundle starts its encoder as `booth -m booth.…`; it is no general Python interpreter."""
    result = subprocess.run([str(bundle.app), "-m", "http.server"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "Booth's own modules only" in result.stderr


def test_the_bundle_carries_all_of_resources_no_test_tools_and_only_the_qt_parts_booth_uses(bundle):
    internal = bundle.app.parent / "_internal"
    source = ROOT / "resources"
    wanted = sorted(str(p.relative_to(source)) for p in source.rglob("*") if p.is_file())
    bundled = internal / "resources"
    carried = sorted(str(p.relative_to(bundled)) for p in bundled.rglob("*") if p.is_file())
    assert carried == wanted  # fonts, icon, Grafana dashboard, and whatever else resources/ holds
    test_tools = ("pytest", "_pytest", "pytestqt", "pytest_timeout", "mypy", "ruff", "importlinter")
    assert [name for name in test_tools if (internal / name).exists()] == []
    qt = internal / "PySide6" / "Qt"
    assert sorted(p.name for p in (qt / "plugins" / "platforms").iterdir()) == ["libqoffscreen.so", "libqxcb.so"]
    assert not (qt / "translations").exists() and not (qt / "qml").exists()
