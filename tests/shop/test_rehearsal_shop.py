"""A rehearsal with `[shop]` reads the shop and never writes to it (shadow stock), on the real pipeline: the
host's window and keys, the control API and the real stand-in process; and `booth rehearse` cuts the real
shop part off at its client's transport for the shop-unreachable drill."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from booth.app.gui import build_window
from booth.app.options import Options
from booth.app.root import add_rig, build_booth
from booth.app.shop_part import Redemption
from booth.bench.shop_standin import StandinProcess
from booth.core.config import load_config
from booth.core.shop.codes import make_codes
from booth.devices.control_client import ControlClient
from booth.drop.session import start_drop_session
from booth.store.db import DB_FILENAME
from booth.store.reader import SessionReader
from tests.conftest import SolidSource
from tests.shop.conftest import CAP_ITEM, CODES_SECRET_TEXT, TEE_ITEM, write_drop
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
RIG = """
[program]
size = "320x180"
fps = 15
[health]
mic = "none"
[recording]
folder = ""
"""


def left(booth, sku: str) -> int:  # type: ignore[no-untyped-def]
    return booth.controller.view().sku(sku).left


def test_a_rehearsal_sells_on_shadow_stock_and_leaves_the_shop_alone(qtbot, tmp_path: Path,
                                                                     standin: StandinProcess) -> None:  # fmt: skip
    drop = write_drop(tmp_path / "files", standin, pool="market")  # a shared pool: live, it would sell shop-first
    drop.write_text(drop.read_text(encoding="utf-8") + RIG, encoding="utf-8")
    config = load_config(drop)
    session = start_drop_session(tmp_path / "data", config, kind="rehearsal")
    booth = build_booth(config, source=SolidSource((320, 180), fps=15), session=session)
    add_rig(booth, Options(data_dir=tmp_path / "data", api_port=0))
    window = build_window(booth)
    qtbot.addWidget(window)
    redeemed: list[Redemption] = []
    assert booth.shop is not None
    booth.shop.on_redeemed(redeemed.append)
    booth.start()
    try:
        shop = booth.shop
        wait_until(lambda: (s := shop.status()) is not None and s.connected and s.sync_age_s is not None, 10,
                   "the rehearsal to read the shop")  # fmt: skip
        assert left(booth, "tee") == 50 and left(booth, "cap") == 5
        before = standin.state()
        codes = make_codes(CODES_SECRET_TEXT.encode(), "tee", "", 2, random.Random(13).randbytes)

        window.sell()  # the host's key, twice: stall sales of the featured tee
        window.sell()
        wait_until(lambda: left(booth, "tee") == 48, 5, "two stall sales on the shadow counter")
        window.redeem_code(codes[0].display)  # a sticker code scanned at the stall
        wait_until(lambda: len(redeemed) == 1, 5, "the scanned code")
        assert redeemed[0].refusal is None, redeemed[0].message
        wait_until(lambda: left(booth, "tee") == 47, 5, "the code's sale on the shadow counter")
        assert booth.api is not None and booth.api.url is not None
        api = ControlClient(booth.api.url, booth.api.token)
        sold = api.post("/sale", {"sku": "cap", "qty": 2}, "rehearsal-api-sale")
        assert sold.status == 200 and sold.body["left"] == 3, sold
        code = api.post("/code", {"code": codes[1].display}, "rehearsal-api-code")
        assert code.status == 200 and code.body["left"] == 46, code
        assert left(booth, "tee") == 46 and left(booth, "cap") == 3

        # the shop is read: an online order draws the shadow counter down too
        standin.control("order", {"lines": [{"item": TEE_ITEM, "quantity": 1}]})
        wait_until(lambda: left(booth, "tee") == 45, 5, "the online order on the shadow counter")
        status = shop.status()
        assert status is not None and status.rehearsal and status.queued == 5  # kept here, never sent
        assert "REHEARSAL: read only, 5 stall sale(s) kept here (shadow stock)" in status.line
        after = standin.state()
        assert after["items"][TEE_ITEM]["available"] == before["items"][TEE_ITEM]["available"] - 1 == 399
        assert after["items"][CAP_ITEM]["available"] == before["items"][CAP_ITEM]["available"] == 30
        assert [a["origin"] for a in after["adjustments"]] == ["online order"]  # none of Booth's sales
        assert after["metafields"] == {}  # no code recorded as used, no pool floor written
    finally:
        window.close()
        booth.stop()
    assert standin.state()["adjustments"] == after["adjustments"]  # nothing went out on the way down either


def test_rehearse_cuts_the_real_shop_off_and_an_order_burst_stays_in_shadow_stock(tmp_path: Path,
                                                                                  standin: StandinProcess) -> None:
    drop = write_drop(tmp_path / "files", standin)
    drop.write_text(drop.read_text(encoding="utf-8") + RIG, encoding="utf-8")
    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "booth", "--drop", str(drop), "--data-dir", str(data), "rehearse",
                           "--drill", "shop-unreachable", "order-burst", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    drills = {d["name"]: d for d in json.loads(done.stdout)["drills"]}
    shop = drills["shop-unreachable"]
    assert shop["passed"] is True and shop["figure"] is not None and shop["figure"] <= shop["target"] == 2.0, shop
    assert f"Cannot reach {standin.domain}" in shop["detail"], shop
    assert shop["checks"] == {"the shop answered again after the fault": True}
    burst = drills["order-burst"]
    assert burst["passed"] is True and "50 sold, 50 refused" in burst["detail"], burst  # the tee's shop quota
    assert standin.state()["adjustments"] == [] and standin.available(TEE_ITEM) == 400  # shadow stock only
    with SessionReader(data / DB_FILENAME) as reader:
        (session,) = reader.list_sessions()
        incidents = [e.payload["what"] for e in reader.events(session.id) if e.kind == "sync_incident"]
    assert session.kind == "rehearsal" and {"unreachable", "recovered"} <= set(incidents)


def test_a_shop_whose_credentials_cannot_be_read_fails_the_shop_drill_instead_of_skipping_it(
    tmp_path: Path, standin: StandinProcess
) -> None:
    """Otherwise a rehearsal without the shop would pass the go-live gate for a drop that sells through it."""
    drop = write_drop(tmp_path / "files", standin)
    drop.write_text(drop.read_text(encoding="utf-8") + RIG, encoding="utf-8")
    (tmp_path / "files" / "shop.toml").chmod(0o644)  # Booth refuses credentials other users can read
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "booth", "--drop", str(drop), "--data-dir", str(tmp_path / "data"),
                           "rehearse", "--drill", "shop-unreachable", "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr[-3000:]
    card = json.loads(done.stdout)
    (shop,) = card["drills"]
    assert card["passed"] is False and shop["passed"] is False and shop["figure"] is None, shop
    assert "the drop has [shop] but no shop sync is running" in shop["detail"]
    assert "chmod 600" in shop["detail"]  # the sentence says what to fix
