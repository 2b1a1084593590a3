"""The shop part of `booth check`, against the stand-in process."""

from __future__ import annotations

from pathlib import Path

from booth.bench.shop_standin import StandinProcess
from booth.core.shop.settings import ShopSettings, ShopSku
from booth.shop.preflight import check_shop
from tests.shop.conftest import CAP_VARIANT, TEE_VARIANT

NAMES = {"tee": "TEE / BLACK", "cap": "CAP / RED"}


def settings(standin: StandinProcess, creds: Path, variant: str = TEE_VARIANT) -> ShopSettings:
    return ShopSettings(standin.domain, standin.location_id,
                        (ShopSku("tee", variant, None, 50), ShopSku("cap", CAP_VARIANT, None, 40)),
                        credentials_path=creds)  # fmt: skip


def write_creds(path: Path, client_id: str, secret: str, mode: int = 0o600) -> Path:
    path.write_text(f'client_id = "{client_id}"\nclient_secret = "{secret}"\n')
    path.chmod(mode)
    return path


def test_check_proves_credentials_products_stock_and_budget(standin: StandinProcess, tmp_path: Path) -> None:
    creds = write_creds(tmp_path / "shop.toml", standin.client_id, standin.client_secret)
    checks = check_shop(settings(standin, creds), NAMES, base_url=standin.url)
    assert [(c.name, c.status) for c in checks] == [
        ("shop credentials", "ok"), ("shop", "ok"), ("shop tee", "ok"), ("shop cap", "warn"), ("shop budget", "ok")]
    assert checks[2].summary == "TEE / BLACK: 400 available at location 77, quota 50"
    assert checks[3].summary.endswith("30 available at location 77, quota 40: the shop has fewer than the quota of 40")
    assert "one poll costs" in checks[4].summary and "of the 100 points/s" in checks[4].summary


def test_check_names_wrong_credentials_unknown_variants_and_open_files(standin: StandinProcess, tmp_path: Path) -> None:
    wrong = write_creds(tmp_path / "wrong.toml", standin.client_id, "shpss_wrong")
    checks = check_shop(settings(standin, wrong), NAMES, base_url=standin.url)
    assert checks[-1].status == "FAIL" and "refused Booth's app credentials" in checks[-1].summary
    assert all("shpss_wrong" not in c.summary for c in checks)
    good = write_creds(tmp_path / "good.toml", standin.client_id, standin.client_secret)
    checks = check_shop(settings(standin, good, "gid://shopify/ProductVariant/404"), NAMES, base_url=standin.url)
    assert checks[-1].name == "shop products" and checks[-1].status == "FAIL"
    assert "TEE / BLACK: booth-test.myshopify.com has no variant gid://shopify/ProductVariant/404" in checks[-1].summary
    shared = write_creds(tmp_path / "shared.toml", standin.client_id, standin.client_secret, mode=0o640)
    checks = check_shop(settings(standin, shared), NAMES, base_url=standin.url)
    assert [(c.name, c.status) for c in checks] == [("shop credentials", "FAIL")]
    assert "can be read by other users (mode 640); run: chmod 600" in checks[0].summary
