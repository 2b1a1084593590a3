"""The `[shop]` section of the drop file: which Shopify store, which location, which variant each SKU is.

```toml
[shop]
domain = "night-market.myshopify.com"    # the store's myshopify.com domain (not a custom domain)
location = "gid://shopify/Location/1234"  # or just 1234: the location the stall sells from
api_version = "2026-04"                  # 2026-04 or newer: idempotency keys and compare-and-set are mandatory there
poll_seconds = 1                         # read `available` this often (≥ 1 s)
stale_alarm_seconds = 10                 # live and no inventory news for this long = alarm
credentials = "~/.config/booth/shop.toml"  # optional: where the client id/secret live (never in this file)
pool = "night-market-dec"                # optional: booths with the same pool share each product's quota
confirm_seconds = 1                      # optional, with a pool: a stall sale waits this long for the shop to
                                         # take its unit, then is counted here and queued (0.2–10 s)
bursts = ["friday"]                      # optional: sticker codes made for these bursts (`booth codes --burst`)
# api_base = "http://127.0.0.1:8123"     # a Shopify stand-in on this machine (tests, rehearsing without a store)

[shop.sku.tee-black]                     # one per drop [[sku]] id that the shop sells
variant = "gid://shopify/ProductVariant/4455"   # or: sku = "TEE-BLK-M" (the SKU string in Shopify)
quota = 50                                      # this offer sells at most 50 of the shop's stock
                                                # (default: the drop's stock)
```

Credentials are never in the drop file: a key that looks like one (`client_secret`, `token`, …) is refused
with a sentence saying where they belong.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from booth.core.redact import mask

if TYPE_CHECKING:
    from booth.core.config_table import Table

MIN_API_VERSION = "2026-04"  # @idempotent and changeFromQuantity are mandatory from here on
DEFAULT_API_VERSION = "2026-04"
_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_VERSION = re.compile(r"^\d{4}-(01|04|07|10)$")
_POOL = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")
_LOCAL_BASE = re.compile(r"^http://(127\.\d+\.\d+\.\d+|localhost)(:\d+)?/?$")
_SECRET_KEYS = {"client_secret", "secret", "token", "access_token", "password", "api_key", "client_id"}
CREDENTIALS_HELP = (
    "credentials never go in the drop file: put client_id and client_secret in a file only you can read "
    "(chmod 600) and name that file with [shop] credentials = \"…\""
)


def gid(kind: str, value: str | int) -> str:
    """'1234' or 1234 → 'gid://shopify/Kind/1234'; a GID of the right kind is returned as it is."""
    text = str(value).strip()
    prefix = f"gid://shopify/{kind}/"
    if text.startswith(prefix) and text[len(prefix):].isdigit():
        return text
    if text.isdigit():
        return prefix + text
    raise ValueError(f"must be a {kind} id like {prefix}1234 (or just 1234), got {text!r}")


def numeric_id(global_id: str) -> int:
    """'gid://shopify/InventoryItem/55?x=1' → 55 (webhook payloads carry plain numbers)."""
    tail = global_id.rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail)


@dataclass(frozen=True)
class ShopSku:
    """One drop product as the shop knows it: by variant id or by the SKU string (resolved at start)."""

    sku_id: str  # the drop's [[sku]] id
    variant_id: str | None  # gid://shopify/ProductVariant/…
    shop_sku: str | None  # the SKU string in Shopify
    quota: int  # units this offer may sell of the shop's stock

    @property
    def lookup(self) -> str:
        return self.variant_id or f"SKU {self.shop_sku!r}"


@dataclass(frozen=True)
class ShopSettings:
    domain: str
    location_id: str
    skus: tuple[ShopSku, ...]
    api_version: str = DEFAULT_API_VERSION
    poll_seconds: float = 1.0
    stale_alarm_seconds: float = 10.0
    credentials_path: Path | None = None  # None: the default file in the user config folder
    pool: str = ""  # booths naming the same pool share each product's quota (its floor is kept on the shop)
    confirm_seconds: float = 1.0  # a pooled stall sale waits this long for the shop, then is counted and queued
    api_base: str | None = None  # a stand-in on this machine instead of https://<domain>
    bursts: tuple[str, ...] = ()  # sticker codes made with `booth codes --burst NAME` for these bursts redeem too

    def sku(self, sku_id: str) -> ShopSku:
        for sku in self.skus:
            if sku.sku_id == sku_id:
                return sku
        raise KeyError(sku_id)


@dataclass(frozen=True)
class ShopCredentials:
    """The custom app's client id and secret. The secret also signs webhooks and sticker codes."""

    client_id: str
    client_secret: str
    codes_secret: str | None = None  # signs sticker codes; made by `booth codes` when missing

    def __repr__(self) -> str:  # never print a secret, even in a traceback's locals
        return f"ShopCredentials(client_id={mask(self.client_id)!r}, client_secret='•••')"

    __str__ = __repr__


class CredentialsError(ValueError):
    pass


def parse_shop(t: Table, stock: Mapping[str, int], base_dir: Path | None) -> ShopSettings | None:
    """The `[shop]` table; None when the drop has none (Booth then works without a shop) or it has problems.

    `stock` is the drop's [[sku]] ids with their stock (the default quota). Problems are recorded in
    `t.problems`, like every other section, so the host sees all of them at once.
    """
    if not t.data:
        return None
    before = len(t.problems.items)
    for key in sorted(set(t.data) & _SECRET_KEYS):
        t.get(key)
        t.problem(key, CREDENTIALS_HELP)
    domain = t.string("domain").strip().lower()
    if domain and not _DOMAIN.match(domain):
        t.problem("domain", f"must be the store's myshopify.com domain like 'my-store.myshopify.com', got {domain!r}")
    location = ""
    location_raw = t.get("location")
    if location_raw is None:
        t.problem("location", "is required: the location id the stall sells from (Settings → Locations)")
    else:
        try:
            location = gid("Location", location_raw)
        except ValueError as exc:
            t.problem("location", str(exc))
    version = t.string("api_version", DEFAULT_API_VERSION)
    if not _VERSION.match(version):
        t.problem("api_version", f"must be a Shopify version like 2026-04, got {version!r}")
    elif version < MIN_API_VERSION:
        t.problem("api_version", f"must be {MIN_API_VERSION} or newer (idempotent, compare-and-set writes), "
                                 f"got {version}")  # fmt: skip
    poll = t.number("poll_seconds", 1.0, 1.0, 60.0)
    stale = t.number("stale_alarm_seconds", 10.0, 2.0, 3600.0)
    if stale < 2 * poll:
        t.problem("stale_alarm_seconds", f"must be at least twice poll_seconds ({2 * poll:g}), got {stale:g}")
    cred_text = t.string("credentials", "")
    cred_path = None
    if cred_text:
        cred_path = Path(cred_text).expanduser()
        if not cred_path.is_absolute() and base_dir is not None:
            cred_path = base_dir / cred_path
    pool = t.string("pool", "").strip().lower()
    if pool and not _POOL.match(pool):
        t.problem("pool", f"must be 1–30 lower-case letters, digits or '-', like 'night-market-dec', got {pool!r}")
    confirm = t.number("confirm_seconds", 1.0, 0.2, 10.0)
    api_base = t.string("api_base", "").strip() or None
    if api_base is not None and not _LOCAL_BASE.match(api_base):
        t.problem("api_base", "is only for a Shopify stand-in on this machine, like 'http://127.0.0.1:8123' "
                              f"(a real store is reached at https://<domain>), got {api_base!r}")  # fmt: skip
    bursts_raw = t.get("bursts", [])
    bursts: tuple[str, ...] = ()
    if not isinstance(bursts_raw, list) or not all(isinstance(b, str) and b.strip() for b in bursts_raw):
        t.problem("bursts", f"must be a list of burst names like [\"friday\"], got {bursts_raw!r}")
    else:
        bursts = tuple(b.strip() for b in bursts_raw)
    skus = _parse_skus(t.table("sku"), stock)
    t.finish()
    if len(t.problems.items) > before:
        return None
    return ShopSettings(domain, location, skus, version, poll, stale, cred_path, pool, api_base=api_base, bursts=bursts,
                        confirm_seconds=confirm)  # fmt: skip


def _parse_skus(t: Table, stock: Mapping[str, int]) -> tuple[ShopSku, ...]:
    if not t.data:
        t.problems.add(t.name, "map at least one product: [shop.sku.<id>] with variant = … or sku = …")
        return ()
    skus: list[ShopSku] = []
    for sku_id in list(t.data):
        item = t.table(sku_id)
        if sku_id not in stock:
            t.problem(sku_id, f"no [[sku]] with id {sku_id!r} in this drop (ids: {', '.join(stock)})")
            continue
        variant_raw, shop_sku = item.get("variant"), item.get("sku")
        quota = item.integer("quota", stock[sku_id], minimum=0)
        item.finish()
        if (variant_raw is None) == (shop_sku is None):
            item.problem("variant", 'give exactly one of variant = "gid://shopify/ProductVariant/…" or sku = "…"')
            continue
        variant = None
        if variant_raw is not None:
            try:
                variant = gid("ProductVariant", variant_raw)
            except ValueError as exc:
                item.problem("variant", str(exc))
                continue
        if shop_sku is not None and (not isinstance(shop_sku, str) or not shop_sku.strip()):
            item.problem("sku", f"must be the product's SKU text in Shopify, got {shop_sku!r}")
            continue
        skus.append(ShopSku(sku_id, variant, shop_sku.strip() if isinstance(shop_sku, str) else None, quota))
    return tuple(skus)


def parse_credentials(text: str, where: str) -> ShopCredentials:
    """The credentials file (TOML): client_id, client_secret and optionally codes_secret."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsError(f"{where}: not valid TOML ({exc.args[0].split('(')[0].strip()})") from None
    values: dict[str, str] = {}
    for key in ("client_id", "client_secret", "codes_secret"):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise CredentialsError(f"{where}: {key} must be non-empty text")
        values[key] = value.strip()
    unknown = sorted(set(raw) - {"client_id", "client_secret", "codes_secret"})
    if unknown:
        raise CredentialsError(f"{where}: unknown key(s) {', '.join(unknown)} (expected client_id, client_secret)")
    for key in ("client_id", "client_secret"):
        if key not in values:
            raise CredentialsError(f"{where}: {key} is missing (copy it from the app's settings in the Dev Dashboard)")
    return ShopCredentials(values["client_id"], values["client_secret"], values.get("codes_secret"))


def permission_problem(mode: int, where: str) -> str | None:
    """A sentence when others may read the credentials file (like ssh refuses a readable private key)."""
    if mode & 0o077:
        return f"{where} can be read by other users (mode {mode & 0o777:o}); run: chmod 600 {where}"
    return None
