"""Shop tests: a real Shopify stand-in process on 127.0.0.1 (one per module, reset before each test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from booth.bench.shop_standin import StandinProcess
from booth.core.shop.settings import ShopCredentials
from booth.devices.shopify import ShopifyClient

TEE_VARIANT, TEE_ITEM = "gid://shopify/ProductVariant/1101", "gid://shopify/InventoryItem/2101"
CAP_VARIANT, CAP_ITEM = "gid://shopify/ProductVariant/1102", "gid://shopify/InventoryItem/2102"
UNTRACKED_VARIANT = "gid://shopify/ProductVariant/1103"
ITEMS = [
    {"variant_id": TEE_VARIANT, "inventory_item_id": TEE_ITEM, "sku": "TEE-BLK-M", "available": 400},
    {"variant_id": CAP_VARIANT, "inventory_item_id": CAP_ITEM, "sku": "CAP-RED", "available": 30},
    {"variant_id": UNTRACKED_VARIANT, "inventory_item_id": "gid://shopify/InventoryItem/2103", "sku": "GIFT-CARD",
     "available": 0, "tracked": False},
]  # fmt: skip


@pytest.fixture(scope="module")
def standin_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandinProcess]:
    with StandinProcess(tmp_path_factory.mktemp("standin"), ITEMS) as process:
        yield process


@pytest.fixture
def standin(standin_process: StandinProcess) -> StandinProcess:
    standin_process.control("reset", {})
    return standin_process


@pytest.fixture
def credentials(standin: StandinProcess) -> ShopCredentials:
    return ShopCredentials(standin.client_id, standin.client_secret)


@pytest.fixture
def client(standin: StandinProcess, credentials: ShopCredentials) -> Iterator[ShopifyClient]:
    shop_client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, timeout_s=3.0)
    yield shop_client
    shop_client.close()


@pytest.fixture
def data_path(tmp_path: Path) -> Path:
    return tmp_path


CODES_SECRET_TEXT = "c" * 64  # the credentials file's codes_secret (tests make codes with it)


def write_drop(folder: Path, standin: StandinProcess, *, quota_tee: int = 50, quota_cap: int = 5,
               variant_tee: str = TEE_VARIANT, pool: str = "", extra_shop: str = "", drop: str = "",
               secret: str | None = None) -> Path:  # fmt: skip
    """A drop file with [shop] on the stand-in and a user-only credentials file beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    standin.write_credentials(folder / "shop.toml", CODES_SECRET_TEXT, client_secret=secret)
    path = folder / "drop.toml"
    path.write_text(f"""
[drop]
title = "Shop drop"
timer_seconds = 600
pre_sale = true
{drop}

[[sku]]
id = "tee"
name = "TEE / BLACK"
stock = 50

[[sku]]
id = "cap"
name = "CAP / RED"
stock = 5

{standin.shop_section(stale_alarm_seconds=4)}{f'pool = "{pool}"' if pool else ""}
{extra_shop}

[shop.sku.tee]
variant = "{variant_tee}"
quota = {quota_tee}

[shop.sku.cap]
sku = "CAP-RED"
quota = {quota_cap}
""", encoding="utf-8")
    return path
