"""`booth check` for the shop: the credentials work and every SKU of the drop resolves and is stocked.

Returns plain items (status "ok" | "warn" | "FAIL", as booth.health.preflight's CheckStatus values) so
`booth check` can show them beside the rig's without this slice importing the health slice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from booth.core.shop.settings import CredentialsError, ShopSettings, numeric_id
from booth.devices.shopify import ShopError, ShopifyClient
from booth.shop.credentials import default_credentials_path, load_credentials


@dataclass(frozen=True)
class ShopCheck:
    name: str
    status: str  # ok | warn | FAIL
    summary: str
    figures: Mapping[str, float | str | bool | None] = field(default_factory=dict)


def check_shop(settings: ShopSettings, names: Mapping[str, str], *, base_url: str | None = None,
               timeout_s: float = 5.0) -> list[ShopCheck]:  # fmt: skip
    where = settings.credentials_path or default_credentials_path()
    try:
        credentials = load_credentials(settings.credentials_path)
    except CredentialsError as exc:
        return [ShopCheck("shop credentials", "FAIL", str(exc))]
    checks = [ShopCheck("shop credentials", "ok", f"{where} (only you can read it)")]
    client = ShopifyClient(settings.domain, credentials, settings.api_version, base_url=base_url, timeout_s=timeout_s)
    try:
        try:
            shop_name = client.shop_name()
        except ShopError as exc:
            return [*checks, ShopCheck("shop", "FAIL", str(exc))]
        checks.append(ShopCheck("shop", "ok", f"{shop_name} ({settings.domain}), Admin API {settings.api_version}"))
        try:
            items = client.resolve(settings.skus, settings.location_id, names)
            levels, cost = client.read_available([i.inventory_item_id for i in items.values()],
                                                 settings.location_id)  # fmt: skip
        except ShopError as exc:
            return [*checks, ShopCheck("shop products", "FAIL", str(exc))]
        for sku in settings.skus:
            available = levels[items[sku.sku_id].inventory_item_id].available
            name = names.get(sku.sku_id, sku.sku_id)
            status = "ok" if available >= sku.quota else "warn" if available > 0 else "FAIL"
            note = "" if status == "ok" else f": the shop has fewer than the quota of {sku.quota}"
            checks.append(ShopCheck(f"shop {sku.sku_id}", status,
                                    f"{name}: {available} available at location {numeric_id(settings.location_id)}, "
                                    f"quota {sku.quota}{note}", {"available": available, "quota": sku.quota}))
        if cost is not None and cost.actual is not None and cost.restore_rate:
            share = cost.actual / settings.poll_seconds / cost.restore_rate
            checks.append(ShopCheck("shop budget", "ok" if share < 0.5 else "warn",
                                    f"one poll costs {cost.actual:g} points: {share:.0%} of the "
                                    f"{cost.restore_rate:g} points/s the shop restores",
                                    {"poll_cost_points": cost.actual, "restore_rate": cost.restore_rate}))
        return checks
    finally:
        client.close()
