"""A thin client for Shopify's Admin GraphQL API (pinned version, 2026-04 or newer) over requests.

Why not the ShopifyAPI package: it wraps the REST Admin API (legacy since 2024-10; GraphQL is a bare
passthrough there), keeps the active shop and secret in class attributes shared by every thread, and is
deprecated by Shopify itself. What Booth needs is one POST endpoint done carefully:

- the client credentials grant for a token (it expires; refreshed before it does, and once on a 401);
- `X-Shopify-Access-Token` on every call, a timeout on every call (connect and read), so a shop that
  takes 10 s to answer costs a caller at most its own timeout — callers are worker threads, never the GUI;
- `extensions.cost.throttleStatus` read on every answer: what each call cost and what is left, with a
  wait before a call the bucket cannot pay for, a back-off on THROTTLED and on HTTP 429 (Retry-After);
- errors as exceptions with a sentence: wrong credentials, unknown variant, shop down, 5xx, timeout.

Credentials and tokens are never logged and never in an exception's text.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import requests.adapters

from booth.core.shop.settings import ShopCredentials, ShopSku, numeric_id

log = logging.getLogger(__name__)

KEY_NAMESPACE = uuid.UUID("5f0c8f3e-6d55-4b8e-9f57-3c4a9b1d2e10")  # idempotency keys: uuid5(this, sale/attempt)
REFRESH_MARGIN_S = 300.0  # get a new token this long before the old one expires
ADJUST_REASON = "correction"  # Shopify has no "sale" reason for adjustments; its own POS example uses correction
CODES_NAMESPACE = "booth_codes"
POOLS_NAMESPACE = "booth_pools"


class ShopError(Exception):
    """Anything the shop said no to, or did not say at all. str() is a sentence for the host."""


class ShopAuthError(ShopError):
    pass


class ShopUnavailable(ShopError):
    """Not reachable, timed out, 5xx, or throttled for longer than the caller can wait: try again later."""


class ShopTimeout(ShopUnavailable):
    pass


class ShopThrottled(ShopUnavailable):
    pass


class ShopQueryError(ShopError):
    """The shop understood the request and refused it (a GraphQL error): retrying will not help."""


class ShopUnknownItem(ShopError):
    pass


class ShopStale(ShopError):
    """CHANGE_FROM_QUANTITY_STALE: the level moved since we read it."""


class ShopContention(ShopUnavailable):
    """Every compare-and-set attempt lost to another writer: nothing was applied, try again shortly."""


class ShopRefused(ShopError):
    """A user error on a mutation other than a stale compare-and-set (code kept in .code)."""

    def __init__(self, message: str, code: str = "", available: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.available = available


@dataclass(frozen=True)
class CallCost:
    requested: float | None
    actual: float | None
    currently_available: float | None
    maximum_available: float | None
    restore_rate: float | None

    @classmethod
    def from_extensions(cls, extensions: Any) -> CallCost | None:
        if not isinstance(extensions, dict) or not isinstance(extensions.get("cost"), dict):
            return None
        cost = extensions["cost"]
        status = cost.get("throttleStatus") or {}
        return cls(cost.get("requestedQueryCost"), cost.get("actualQueryCost"), status.get("currentlyAvailable"),
                   status.get("maximumAvailable"), status.get("restoreRate"))  # fmt: skip


@dataclass(frozen=True)
class Result:
    data: dict[str, Any]
    cost: CallCost | None
    attempts: int  # 1 unless throttling or a retryable failure made us send it again


@dataclass(frozen=True)
class ResolvedItem:
    sku_id: str
    variant_id: str
    inventory_item_id: str
    shop_sku: str | None
    tracked: bool


@dataclass(frozen=True)
class Level:
    inventory_item_id: str
    available: int
    updated_at: str | None


@dataclass(frozen=True)
class Adjusted:
    key: str
    before: int  # the level our compare-and-set matched
    after: int  # the level it left
    attempts: int  # compare-and-set attempts (1 = no one raced us)
    group_id: str | None


@dataclass(frozen=True)
class Claim:
    claimed: bool  # True: this call recorded the redemption; False: it was already there
    holder: str  # the recorded value (who redeemed it, when)


def idempotency_key(sale_id: str, attempt: int) -> str:
    """Deterministic, so an attempt resent after a crash carries the same key as the first time."""
    return str(uuid.uuid5(KEY_NAMESPACE, f"{sale_id}/{attempt}"))


class ShopifyClient:
    """Thread-safe: each thread gets its own HTTP session; the token is shared under a lock."""

    def __init__(
        self,
        domain: str,
        credentials: ShopCredentials,
        api_version: str,
        *,
        base_url: str | None = None,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        self.domain = domain
        self._transport = transport  # the HTTP transport (a rehearsal's fault seam); None: requests' own
        self.api_version = api_version
        self._credentials = credentials
        if base_url is not None and not base_url.startswith(("http://127.", "http://localhost", "https://")):
            raise ValueError("base_url must be https:// or a loopback stand-in")
        self._base = (base_url or f"https://{domain}").rstrip("/")
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._monotonic = monotonic
        self._sleep = sleep
        self._local = threading.local()
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._cost_lock = threading.Lock()
        self.last_cost: CallCost | None = None
        self._last_cost_at = 0.0
        self.points_used = 0.0
        self.calls = 0
        self.throttled = 0
        self._shop_gid: str | None = None

    @property
    def graphql_url(self) -> str:
        return f"{self._base}/admin/api/{self.api_version}/graphql.json"

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "Booth (live-commerce stall)"
            if self._transport is not None:
                session.mount("https://", self._transport)
                session.mount("http://", self._transport)
            self._local.session = session
        return session

    def close(self) -> None:
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    # -- token ---------------------------------------------------------------------------------

    def _access_token(self, timeout_s: float) -> str:
        with self._token_lock:
            if self._token is not None and self._monotonic() < self._token_expires_at - REFRESH_MARGIN_S:
                return self._token
            try:
                response = self._session().post(
                    f"{self._base}/admin/oauth/access_token",
                    data={"grant_type": "client_credentials", "client_id": self._credentials.client_id,
                          "client_secret": self._credentials.client_secret},
                    headers={"Accept": "application/json"},
                    timeout=(self.connect_timeout_s, timeout_s),
                )
            except requests.Timeout:
                raise ShopTimeout(f"{self.domain} did not answer the token request within {timeout_s:g} s.") from None
            except requests.RequestException as exc:
                raise ShopUnavailable(f"Cannot reach {self.domain} for a token ({_reason(exc)}).") from None
            if response.status_code in (400, 401, 403):
                raise ShopAuthError(
                    f"{self.domain} refused Booth's app credentials (HTTP {response.status_code}): check client_id "
                    "and client_secret in the credentials file, and that the app is installed on this store."
                )
            if response.status_code >= 500 or response.status_code == 429:
                raise ShopUnavailable(f"{self.domain} could not issue a token (HTTP {response.status_code}).")
            try:
                body = response.json()
                token = str(body["access_token"])
                lifetime = float(body.get("expires_in") or 86400)
            except (ValueError, KeyError, TypeError):
                raise ShopError(f"{self.domain} answered the token request with something Booth cannot read.") from None
            self._token, self._token_expires_at = token, self._monotonic() + lifetime
            log.info("shop %s: new access token, valid %.0f min", self.domain, lifetime / 60)
            return token

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:
                self._token = None

    # -- one GraphQL call ----------------------------------------------------------------------

    def execute(
        self, query: str, variables: Mapping[str, Any] | None = None, *, timeout_s: float | None = None,
        deadline_s: float | None = None, expected_cost: float = 10.0,
    ) -> Result:
        """Send one query. Throttling, 429 and 5xx are retried until `deadline_s` (default: one timeout)."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = self._monotonic() + (timeout if deadline_s is None else deadline_s)
        attempts, auth_retried = 0, False
        while True:
            attempts += 1
            self._wait_for_budget(expected_cost, deadline)
            token = self._access_token(max(0.1, min(timeout, deadline - self._monotonic())))
            remaining = deadline - self._monotonic()
            call_timeout = max(0.05, min(timeout, remaining)) if attempts > 1 else timeout
            try:
                response = self._session().post(
                    self.graphql_url,
                    json={"query": query, "variables": dict(variables or {})},
                    headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json",
                             "Accept": "application/json"},
                    timeout=(self.connect_timeout_s, call_timeout),
                )
            except requests.Timeout:
                error: ShopUnavailable = ShopTimeout(f"{self.domain} did not answer within {call_timeout:g} s.")
                if not self._pause_before_retry(0.2 * attempts, deadline):
                    raise error from None
                continue
            except requests.RequestException as exc:
                error = ShopUnavailable(f"Cannot reach {self.domain} ({_reason(exc)}).")
                if not self._pause_before_retry(0.2 * attempts, deadline):
                    raise error from None
                continue
            self.calls += 1
            status = response.status_code
            if status == 401 and not auth_retried:
                self._drop_token(token)  # expired or revoked early: one fresh token, then give up
                auth_retried = True
                continue
            if status in (401, 403):
                raise ShopAuthError(
                    f"{self.domain} refused Booth's access token (HTTP {status}): the app may be uninstalled or "
                    "lack the read_inventory/write_inventory scopes."
                )
            if status == 404:
                raise ShopQueryError(f"{self.domain} has no Admin API {self.api_version} at this address (HTTP 404).")
            if status == 429:
                self.throttled += 1
                wait = _retry_after(response.headers.get("Retry-After"), 1.0)
                if not self._pause_before_retry(wait, deadline):
                    raise ShopThrottled(f"{self.domain} asked Booth to slow down (HTTP 429, retry after {wait:g} s).")
                continue
            if status >= 500:
                if not self._pause_before_retry(0.25 * attempts, deadline):
                    raise ShopUnavailable(f"{self.domain} is having trouble (HTTP {status}); Booth will retry.")
                continue
            try:
                body = response.json()
            except ValueError:
                raise ShopError(f"{self.domain} answered HTTP {status} with something that is not JSON.") from None
            cost = CallCost.from_extensions(body.get("extensions"))
            self._note_cost(cost)
            errors = body.get("errors") or []
            if errors:
                codes = {str((e.get("extensions") or {}).get("code", "")) for e in errors if isinstance(e, dict)}
                if "THROTTLED" in codes:
                    self.throttled += 1
                    wait = self._throttle_wait(cost, expected_cost)
                    if not self._pause_before_retry(wait, deadline):
                        raise ShopThrottled(f"{self.domain} throttled Booth (query budget spent for "
                                            f"{wait:.1f} s more).")
                    continue
                if "ACCESS_DENIED" in codes:
                    raise ShopAuthError(f"{self.domain}: the app lacks a scope for this call ({_messages(errors)}).")
                raise ShopQueryError(f"{self.domain} refused the query: {_messages(errors)}.")
            if status != 200 or not isinstance(body.get("data"), dict):
                raise ShopError(f"{self.domain} answered HTTP {status} without data.")
            return Result(body["data"], cost, attempts)

    def _pause_before_retry(self, wait: float, deadline: float) -> bool:
        if self._monotonic() + wait >= deadline:
            return False
        self._sleep(wait)
        return True

    def _note_cost(self, cost: CallCost | None) -> None:
        if cost is None:
            return
        with self._cost_lock:
            self.last_cost, self._last_cost_at = cost, self._monotonic()
            if cost.actual is not None:
                self.points_used += cost.actual

    def _throttle_wait(self, cost: CallCost | None, expected_cost: float) -> float:
        if cost is None or not cost.restore_rate:
            return 1.0
        need = (cost.requested or expected_cost) - (cost.currently_available or 0.0)
        return max(0.05, need / cost.restore_rate)

    def _wait_for_budget(self, expected_cost: float, deadline: float) -> None:
        """The bucket refills at restoreRate: wait before a call it could not pay for (never past the deadline)."""
        with self._cost_lock:
            cost, at = self.last_cost, self._last_cost_at
        if cost is None or cost.currently_available is None or not cost.restore_rate:
            return
        estimate = cost.currently_available + (self._monotonic() - at) * cost.restore_rate
        if cost.maximum_available is not None:
            estimate = min(estimate, cost.maximum_available)
        if estimate >= expected_cost:
            return
        wait = (expected_cost - estimate) / cost.restore_rate
        self._sleep(max(0.0, min(wait, deadline - self._monotonic())))

    # -- what Booth asks -----------------------------------------------------------------------

    def shop_name(self, timeout_s: float | None = None) -> str:
        data = self.execute("query BoothShop { shop { id name } }", timeout_s=timeout_s, expected_cost=1).data
        self._shop_gid = str(data["shop"]["id"])
        return str(data["shop"]["name"])

    def resolve(self, skus: Sequence[ShopSku], location_id: str, names: Mapping[str, str] | None = None,
                timeout_s: float | None = None) -> dict[str, ResolvedItem]:
        """Each drop SKU → its variant and inventory item, checked to be stocked at the location. One query."""
        parts, variables, declared = [], {"location": location_id}, ["$location: ID!"]
        fields = ("id sku inventoryItem { id tracked inventoryLevel(locationId: $location) { id } }")
        for index, sku in enumerate(skus):
            if sku.variant_id:
                declared.append(f"$v{index}: ID!")
                variables[f"v{index}"] = sku.variant_id
                parts.append(f"s{index}: productVariant(id: $v{index}) {{ {fields} }}")
            else:
                declared.append(f"$q{index}: String!")
                variables[f"q{index}"] = f"sku:{_quote(sku.shop_sku or '')}"
                parts.append(f"s{index}: productVariants(first: 2, query: $q{index}) {{ nodes {{ {fields} }} }}")
        query = f"query BoothResolve({', '.join(declared)}) {{ {' '.join(parts)} }}"
        data = self.execute(query, variables, timeout_s=timeout_s, expected_cost=4 * len(skus)).data
        resolved: dict[str, ResolvedItem] = {}
        for index, sku in enumerate(skus):
            name = (names or {}).get(sku.sku_id, sku.sku_id)
            node = data.get(f"s{index}")
            if sku.shop_sku is not None:
                matches = [n for n in (node or {}).get("nodes", []) if n.get("sku") == sku.shop_sku]
                if len(matches) > 1:
                    raise ShopUnknownItem(f"{name}: {len(matches)} variants in {self.domain} have SKU "
                                          f"{sku.shop_sku!r}; name the variant id instead.")  # fmt: skip
                node = matches[0] if matches else None
            if not node:
                raise ShopUnknownItem(f"{name}: {self.domain} has no variant {sku.lookup} "
                                      f"(check [shop.sku.{sku.sku_id}] in the drop file).")  # fmt: skip
            item = node.get("inventoryItem") or {}
            if not item.get("tracked", False):
                raise ShopUnknownItem(f"{name}: {self.domain} does not track inventory for {sku.lookup}; "
                                      "turn on 'Track quantity' for it.")  # fmt: skip
            if not item.get("inventoryLevel"):
                raise ShopUnknownItem(f"{name}: {sku.lookup} is not stocked at location "
                                      f"{numeric_id(location_id)} in {self.domain}.")  # fmt: skip
            resolved[sku.sku_id] = ResolvedItem(sku.sku_id, str(node["id"]), str(item["id"]), node.get("sku"), True)
        return resolved

    def read_available(self, item_ids: Sequence[str], location_id: str, timeout_s: float | None = None,
                       deadline_s: float | None = None) -> tuple[dict[str, Level], CallCost | None]:
        """`available` for every item at the location, in one query."""
        query = (
            "query BoothLevels($ids: [ID!]!, $location: ID!) { nodes(ids: $ids) { ... on InventoryItem { id "
            "inventoryLevel(locationId: $location) { updatedAt quantities(names: [\"available\"]) "
            "{ name quantity } } } } }"
        )
        result = self.execute(query, {"ids": list(item_ids), "location": location_id}, timeout_s=timeout_s,
                              deadline_s=deadline_s, expected_cost=2 + 2 * len(item_ids))  # fmt: skip
        levels: dict[str, Level] = {}
        for node in result.data.get("nodes") or []:
            if not node or not node.get("inventoryLevel"):
                continue
            quantities = {q["name"]: q["quantity"] for q in node["inventoryLevel"]["quantities"]}
            levels[str(node["id"])] = Level(str(node["id"]), int(quantities["available"]),
                                            node["inventoryLevel"].get("updatedAt"))  # fmt: skip
        missing = [i for i in item_ids if i not in levels]
        if missing:
            raise ShopUnknownItem(f"{self.domain} has no level at location {numeric_id(location_id)} for "
                                  f"{', '.join(missing)}.")  # fmt: skip
        return levels, result.cost

    def adjust(self, item_id: str, location_id: str, delta: int, change_from: int, key: str, reference_uri: str,
               timeout_s: float | None = None, deadline_s: float | None = None) -> Adjusted:
        """One inventoryAdjustQuantities on `available`, idempotent by `key`, compare-and-set on `change_from`.

        A timeout is retried with the same key and the same variables until `deadline_s`: the shop applies
        it at most once and answers the original result. Raises ShopStale when the level moved.
        """
        query = (
            "mutation BoothStallSale($input: InventoryAdjustQuantitiesInput!, $key: String!) { "
            "inventoryAdjustQuantities(input: $input) @idempotent(key: $key) { "
            "inventoryAdjustmentGroup { id referenceDocumentUri changes { name delta quantityAfterChange } } "
            "userErrors { field message code } } }"
        )
        variables = {
            "key": key,
            "input": {"name": "available", "reason": ADJUST_REASON, "referenceDocumentUri": reference_uri,
                      "changes": [{"delta": delta, "changeFromQuantity": change_from, "inventoryItemId": item_id,
                                   "locationId": location_id}]},
        }
        result = self.execute(query, variables, timeout_s=timeout_s, deadline_s=deadline_s, expected_cost=10)
        payload = result.data.get("inventoryAdjustQuantities") or {}
        errors = payload.get("userErrors") or []
        if errors:
            codes = [str(e.get("code") or "") for e in errors]
            text = "; ".join(str(e.get("message")) for e in errors)
            if "CHANGE_FROM_QUANTITY_STALE" in codes:
                raise ShopStale(f"The level moved since Booth read {change_from} ({text}).")
            if {"IDEMPOTENCY_CONCURRENT_REQUEST", "SERVICE_UNAVAILABLE"} & set(codes):
                # the first send of this key is still being processed, or the shop is busy: same key again later
                raise ShopUnavailable(f"{self.domain} is still working on this stall sale ({text}).")
            raise ShopRefused(f"{self.domain} refused the stall sale: {text} ({', '.join(codes)}).", codes[0])
        group = payload.get("inventoryAdjustmentGroup") or {}
        changes = [c for c in group.get("changes") or [] if c.get("name") == "available"]
        after = int(changes[0]["quantityAfterChange"]) if changes else change_from + delta
        return Adjusted(key, change_from, after, 1, group.get("id"))

    def sell(
        self, item_id: str, location_id: str, qty: int, sale_id: str, *, expected: int | None,
        first_attempt: int = 0, max_attempts: int = 5, on_attempt: Callable[[int, str, int], None] | None = None,
        deadline_s: float = 10.0, timeout_s: float | None = None, floor: int = 0,
    ) -> Adjusted:
        """A stall sale of `qty` (negative: units an undo gives back): compare-and-set from `expected`; on
        CHANGE_FROM_QUANTITY_STALE re-read and retry (at most `max_attempts`). `on_attempt(attempt, key,
        change_from)` runs before each send, so the caller can journal it: resending after a crash must reuse
        that key and level (it may raise to stop the send).

        Never takes the shop below `floor` (0, or a shared pool's floor): if the re-read level cannot cover
        `qty`, ShopRefused(available=…). When every attempt was stale, ShopContention: nothing was applied,
        send it again later.
        """
        change_from = expected
        for attempt in range(first_attempt, first_attempt + max_attempts):
            if change_from is None:
                levels, _ = self.read_available([item_id], location_id, timeout_s=timeout_s, deadline_s=deadline_s)
                change_from = levels[item_id].available
            if change_from - qty < floor:
                pool = f" (the pool's floor is {floor})" if floor else ""
                raise ShopRefused(f"The shop has {change_from} left{pool}, the stall sale needs {qty}.",
                                  "INSUFFICIENT", change_from)  # fmt: skip
            key = idempotency_key(sale_id, attempt)
            if on_attempt is not None:
                on_attempt(attempt, key, change_from)
            kind = "StallSale" if qty > 0 else "StallReturn"
            try:
                done = self.adjust(item_id, location_id, -qty, change_from, key, f"gid://booth/{kind}/{sale_id}",
                                   timeout_s=timeout_s, deadline_s=deadline_s)  # fmt: skip
                return Adjusted(done.key, done.before, done.after, attempt - first_attempt + 1, done.group_id)
            except ShopStale:
                log.info("stall sale %s: level moved from %d, re-reading (attempt %d)", sale_id, change_from,
                         attempt + 1)
                change_from = None
                # Two booths retrying in lockstep would keep colliding: a random pause breaks the tie.
                self._sleep(random.uniform(0.0, 0.02 * (attempt - first_attempt + 1)))
        raise ShopContention(f"The level kept moving: {max_attempts} compare-and-set attempts were all stale; "
                             "Booth tries again shortly.")  # fmt: skip

    def claim_code(self, key: str, value: str, timeout_s: float | None = None,
                   deadline_s: float | None = None) -> Claim:
        """Record a sticker code's redemption on the shop, once: two booths can never both redeem one code."""
        return self.create_once(CODES_NAMESPACE, key, value, timeout_s=timeout_s, deadline_s=deadline_s)

    def create_once(self, namespace: str, key: str, value: str, timeout_s: float | None = None,
                    deadline_s: float | None = None) -> Claim:
        """A shop metafield created with compareDigest null succeeds only if it does not exist yet
        (STALE_OBJECT otherwise): the first booth's value wins. Returns who holds it when it was there."""
        if self._shop_gid is None:
            self.shop_name(timeout_s)
        query = (
            "mutation BoothClaim($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { "
            "metafields { key value } userErrors { field message code } } }"
        )
        variables = {"metafields": [{"ownerId": self._shop_gid, "namespace": namespace, "key": key,
                                     "type": "single_line_text_field", "value": value, "compareDigest": None}]}
        data = self.execute(query, variables, timeout_s=timeout_s, deadline_s=deadline_s).data
        errors = (data.get("metafieldsSet") or {}).get("userErrors") or []
        if not errors:
            return Claim(True, value)
        if any(e.get("code") in ("STALE_OBJECT", "TAKEN") for e in errors):
            return Claim(False, self.read_value(namespace, key, timeout_s=timeout_s, deadline_s=deadline_s) or "")
        raise ShopRefused(f"{self.domain} refused to record {namespace}.{key}: {_messages(errors)}.",
                          str(errors[0].get("code") or ""))  # fmt: skip

    def read_value(self, namespace: str, key: str, timeout_s: float | None = None,
                   deadline_s: float | None = None) -> str | None:
        """A shop metafield's value, or None when there is none."""
        data = self.execute(
            "query BoothValue($ns: String!, $key: String!) { shop { metafield(namespace: $ns, key: $key) "
            "{ value } } }", {"ns": namespace, "key": key}, timeout_s=timeout_s, deadline_s=deadline_s,
            expected_cost=2,
        ).data  # fmt: skip
        field = (data.get("shop") or {}).get("metafield")
        return None if not field else str(field.get("value") or "")


def _reason(exc: requests.RequestException) -> str:
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return "the name does not resolve: is the laptop online?"
    if "SSL" in text or "certificate" in text:
        return "TLS failed: check the laptop's clock and network"
    return type(exc).__name__


def _retry_after(header: str | None, default: float) -> float:
    try:
        return max(0.05, float(header)) if header else default
    except ValueError:
        return default


def _messages(errors: Sequence[Any]) -> str:
    return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:300]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
