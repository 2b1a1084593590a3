"""The go-live gate in `booth check` checks the shop of a drop with `[shop]`: one verdict among the gate's
links — ok when the credentials work and every SKU resolves, a failure naming what is wrong otherwise —
against the real stand-in process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from booth.bench.shop_standin import StandinProcess
from tests.shop.conftest import write_drop


def check(drop: Path, data: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    done = subprocess.run([sys.executable, "-m", "booth", "check", "--json", "--drop", str(drop), "--data-dir",
                           str(data), "--probes", "1"], capture_output=True, text=True, timeout=120)  # fmt: skip
    items = json.loads(done.stdout)["items"]
    return done.returncode, {i["name"]: i for i in items if i["group"] == "go-live"}


def test_the_gate_passes_a_shop_that_answers_and_has_every_sku(tmp_path: Path, standin: StandinProcess) -> None:
    code, gate = check(write_drop(tmp_path / "files", standin, quota_cap=5), tmp_path / "data")
    shop = gate["shop answers"]
    assert shop["status"] == "ok", shop
    assert shop["summary"] == (f"{standin.domain} accepts Booth's credentials and all 2 product(s) of the "
                                       "drop resolve")  # fmt: skip
    assert gate["rehearsals"]["status"] == "warn" and code == 1  # not rehearsed yet: a warning, never a block


def test_the_gate_names_a_wrong_token_and_an_unknown_variant(tmp_path: Path, standin: StandinProcess) -> None:
    code, gate = check(write_drop(tmp_path / "wrong", standin, secret="shpss_not_the_secret"), tmp_path / "data")
    shop = gate["shop answers"]
    assert code == 2 and shop["status"] == "fail", shop
    assert shop["summary"].startswith("shop: ") and "refused Booth's app credentials" in shop["summary"]
    assert "shpss_not_the_secret" not in json.dumps(gate)  # a secret is never shown
    unknown = write_drop(tmp_path / "unknown", standin, variant_tee="gid://shopify/ProductVariant/404")
    code, gate = check(unknown, tmp_path / "data")
    shop = gate["shop answers"]
    assert code == 2 and shop["status"] == "fail", shop
    assert shop["summary"] == (f"shop products: TEE / BLACK: {standin.domain} has no variant "
                                       "gid://shopify/ProductVariant/404 (check [shop.sku.tee] in the drop "
                                       "file).")  # fmt: skip


def test_the_gate_warns_when_the_shop_has_less_than_a_quota(tmp_path: Path, standin: StandinProcess) -> None:
    _code, gate = check(write_drop(tmp_path / "files", standin, quota_cap=40), tmp_path / "data")
    shop = gate["shop answers"]
    assert shop["status"] == "warn", shop
    assert shop["summary"].endswith("but shop cap: CAP / RED: 30 available at location 77, quota 40: the "
                                            "shop has fewer than the quota of 40")  # fmt: skip
