"""A Shopify stand-in: a real HTTP server on 127.0.0.1, written from Shopify's documented Admin API contract.

Run as its own process (tests and `booth bench sync` start it and stop it by PID):

    python -m booth.bench.shop_standin --config standin.json --ready-file ready.json

`standin.json` (user-only permissions; it holds the app secret) names the shop, the app's client id and
secret, the location, the items with their stock, the throttle bucket and a control token. When the
server listens it writes `{"port": N, "pid": P}` to the ready file.

What it answers, like the real shop:
- `POST /admin/oauth/access_token` — the client credentials grant (form-encoded); tokens expire.
- `POST /admin/api/<version>/graphql.json` with `X-Shopify-Access-Token` — GraphQL against a subset of the
  Admin schema (parsed, validated and executed by graphql-core, the reference implementation's port):
  `shop`, `nodes(ids:)`, `productVariant`, `productVariants(query: "sku:…")`, `inventoryItem`,
  `InventoryItem.inventoryLevel(locationId:).quantities(names:)`, `inventoryAdjustQuantities` (which, as
  from 2026-04, requires `@idempotent(key:)` and `changeFromQuantity`), `metafieldsSet` with `compareDigest`.
- Query cost (objects 1, scalars 0, mutations 10, lists by their size) from a leaky bucket, reported in
  `extensions.cost.throttleStatus`; THROTTLED errors when the bucket cannot pay.
- Idempotency: the same key with the same variables returns the first result and is never applied twice;
  the same key with other variables is IDEMPOTENCY_KEY_PARAMETER_MISMATCH.
- Webhooks (`orders/create`, `inventory_levels/update`) POSTed to subscribed loopback URLs with the
  documented headers and HMAC, at least once: retried on failure, optionally duplicated, late, reordered.

Faults and inspection on `/_control/*` (header `X-Standin-Control: <control token>`): see `ControlApp`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import heapq
import hmac
import json
import logging
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SDL = """
directive @idempotent(key: String!) on FIELD
scalar DateTime
interface Node { id: ID! }
type QueryRoot {
  shop: Shop!
  nodes(ids: [ID!]!): [Node]!
  node(id: ID!): Node
  productVariant(id: ID!): ProductVariant
  productVariants(first: Int, query: String): ProductVariantConnection!
  inventoryItem(id: ID!): InventoryItem
}
type Shop implements Node {
  id: ID!
  name: String!
  myshopifyDomain: String!
  metafield(namespace: String!, key: String!): Metafield
}
type Metafield implements Node {
  id: ID! namespace: String! key: String! value: String! type: String! compareDigest: String!
}
type ProductVariant implements Node { id: ID! sku: String title: String! inventoryItem: InventoryItem! }
type ProductVariantConnection { nodes: [ProductVariant!]! }
type InventoryItem implements Node {
  id: ID! sku: String tracked: Boolean!
  variant: ProductVariant!
  inventoryLevel(locationId: ID!): InventoryLevel
}
type InventoryLevel implements Node {
  id: ID! updatedAt: DateTime! location: Location! item: InventoryItem!
  quantities(names: [String!]!): [InventoryQuantity!]!
}
type InventoryQuantity { name: String! quantity: Int! }
type Location implements Node { id: ID! name: String! }
input InventoryChangeInput {
  delta: Int! inventoryItemId: ID! locationId: ID! ledgerDocumentUri: String changeFromQuantity: Int
}
input InventoryAdjustQuantitiesInput {
  name: String! reason: String! referenceDocumentUri: String changes: [InventoryChangeInput!]!
}
type InventoryChange {
  name: String! delta: Int! quantityAfterChange: Int ledgerDocumentUri: String item: InventoryItem location: Location
}
type InventoryAdjustmentGroup {
  id: ID! createdAt: DateTime! reason: String! referenceDocumentUri: String changes: [InventoryChange!]!
}
enum InventoryAdjustQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  INVALID_REASON INVALID_QUANTITY_NAME INVALID_INVENTORY_ITEM INVALID_LOCATION ITEM_NOT_STOCKED_AT_LOCATION
  INVALID_REFERENCE_DOCUMENT ADJUST_QUANTITIES_FAILED
}
type InventoryAdjustQuantitiesUserError {
  field: [String!] message: String! code: InventoryAdjustQuantitiesUserErrorCode
}
type InventoryAdjustQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventoryAdjustQuantitiesUserError!]!
}
input MetafieldsSetInput {
  ownerId: ID! namespace: String key: String! value: String! type: String compareDigest: String
}
enum MetafieldsSetUserErrorCode { STALE_OBJECT INVALID_COMPARE_DIGEST INVALID BLANK TAKEN }
type MetafieldsSetUserError { field: [String!] message: String! code: MetafieldsSetUserErrorCode elementIndex: Int }
type MetafieldsSetPayload { metafields: [Metafield!] userErrors: [MetafieldsSetUserError!]! }
type Mutation {
  inventoryAdjustQuantities(input: InventoryAdjustQuantitiesInput!): InventoryAdjustQuantitiesPayload
  metafieldsSet(metafields: [MetafieldsSetInput!]!): MetafieldsSetPayload
}
schema { query: QueryRoot mutation: Mutation }
"""

# Reasons Shopify lists for adjustments (there is no "sale"); anything else is INVALID_REASON.
REASONS = {"correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
           "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
           "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock",
           "shrinkage"}  # fmt: skip
IDEMPOTENT_MUTATIONS = {"inventoryAdjustQuantities"}
INVALID_TOKEN_TEXT = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def iso(ts: float, ms: bool = False) -> str:
    text = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds" if ms else "seconds")
    return text.replace("+00:00", "Z")


def num(global_id: str) -> int:
    return int(global_id.rsplit("/", 1)[-1].split("?", 1)[0])


@dataclass
class Item:
    variant_id: str
    inventory_item_id: str
    sku: str
    available: int
    title: str = "Default Title"
    tracked: bool = True
    updated_at: float = field(default_factory=time.time)


@dataclass
class Faults:
    down: bool = False  # every call 503, as during an outage
    errors_500: int = 0  # the next N GraphQL calls answer 500
    status_429: int = 0  # the next N GraphQL calls answer 429 with Retry-After
    retry_after_s: float = 1.0
    throttle: bool = False  # the bucket is empty: every call THROTTLED until cleared
    slow_s: float = 0.0  # every GraphQL answer waits this long (10 s: "the shop hangs")
    reject_credentials: bool = False  # the token endpoint refuses the client id/secret
    race: dict[str, int] = field(default_factory=dict)  # item → delta another app applies just before our next write
    race_always: dict[str, int] = field(default_factory=dict)  # … before every write: compare-and-set never wins


class Shop:
    """The shop's state. GraphQL runs on the event loop thread; control and webhooks take the lock too."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self._cfg = cfg
        self.domain: str = cfg["domain"]
        self.name: str = cfg.get("name", "Stand-in shop")
        self.client_id: str = cfg["client_id"]
        self.client_secret: str = cfg["client_secret"]
        self.location_id: str = cfg["location_id"]
        self.shop_id = "gid://shopify/Shop/1"
        self.token_lifetime_s = float(cfg.get("token_lifetime_s", 86399))
        self.webhooks = Webhooks(self)
        self.reset()

    def reset(self) -> None:
        """Back to the configured stock with no faults, keys, tokens, orders or subscriptions (between tests)."""
        cfg = self._cfg
        self.items: dict[str, Item] = {}
        for raw in cfg["items"]:
            item = Item(raw["variant_id"], raw["inventory_item_id"], raw["sku"], int(raw["available"]),
                        tracked=bool(raw.get("tracked", True)))  # fmt: skip
            self.items[item.inventory_item_id] = item
        self.bucket_max = float(cfg.get("bucket_max", 2000))
        self.restore_rate = float(cfg.get("restore_rate", 100))
        self._bucket = self.bucket_max
        self._bucket_at = time.monotonic()
        self.tokens: dict[str, float] = {}  # token → expiry (monotonic)
        self.faults = Faults()
        self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self.idempotent_replays = 0
        self.adjustments: list[dict[str, Any]] = []
        self.metafields: dict[tuple[str, str], dict[str, str]] = {}
        self.orders: list[dict[str, Any]] = []
        self.calls = {"graphql": 0, "token": 0, "throttled": 0, "unauthorized": 0}
        self.pending_slow = 0
        self.webhooks.reset()

    # -- the bucket ----------------------------------------------------------------------------

    def bucket(self) -> float:
        now = time.monotonic()
        self._bucket = min(self.bucket_max, self._bucket + (now - self._bucket_at) * self.restore_rate)
        self._bucket_at = now
        return 0.0 if self.faults.throttle else self._bucket

    def charge(self, points: float) -> bool:
        available = self.bucket()
        if points > available:
            return False
        self._bucket -= points
        return True

    def throttle_status(self) -> dict[str, float]:
        return {"maximumAvailable": self.bucket_max, "currentlyAvailable": round(self.bucket(), 1),
                "restoreRate": self.restore_rate}  # fmt: skip

    # -- inventory -----------------------------------------------------------------------------

    def change_level(self, item: Item, delta: int, topic_origin: str, reference: str | None = None) -> int:
        """Every change of `available`, ours or foreign: recorded and announced by webhook."""
        item.available += delta
        item.updated_at = time.time()
        self.adjustments.append({"item": item.inventory_item_id, "delta": delta, "after": item.available,
                                 "origin": topic_origin, "reference": reference, "at": item.updated_at})  # fmt: skip
        self.webhooks.emit("inventory_levels/update", self.level_payload(item))
        return item.available

    def level_payload(self, item: Item) -> dict[str, Any]:
        loc, inv = num(self.location_id), num(item.inventory_item_id)
        return {"inventory_item_id": inv, "location_id": loc, "available": item.available,
                "updated_at": iso(item.updated_at), "admin_graphql_api_id":
                f"gid://shopify/InventoryLevel/{loc}?inventory_item_id={inv}"}  # fmt: skip

    def item_by(self, ref: str) -> Item:
        for item in self.items.values():
            if ref in (item.inventory_item_id, item.variant_id, item.sku):
                return item
        raise KeyError(ref)

    def online_order(self, lines: list[dict[str, Any]]) -> dict[str, Any]:
        order_id = 5000 + len(self.orders) + 1
        event = str(uuid.uuid4())
        line_items = []
        for index, line in enumerate(lines):
            item = self.item_by(str(line.get("item") or line.get("variant") or line.get("sku")))
            qty = int(line.get("quantity", 1))
            line_items.append({"id": order_id * 100 + index, "variant_id": num(item.variant_id), "sku": item.sku,
                               "quantity": qty, "fulfillable_quantity": qty, "price": "25.00"})  # fmt: skip
        order = {"id": order_id, "name": f"#{order_id}", "created_at": iso(time.time()), "source_name": "web",
                 "location_id": None, "line_items": line_items}  # fmt: skip
        self.orders.append(order)
        self.webhooks.emit("orders/create", order, event_id=event)
        for line, raw in zip(line_items, lines, strict=True):
            item = self.item_by(str(raw.get("item") or raw.get("variant") or raw.get("sku")))
            self.change_level(item, -line["quantity"], "online order", f"gid://shopify/Order/{order_id}")
        return order

    def state(self) -> dict[str, Any]:
        return {
            "items": {i.inventory_item_id: {"variant_id": i.variant_id, "sku": i.sku, "available": i.available}
                      for i in self.items.values()},
            "adjustments": self.adjustments,
            "idempotency_keys": len(self.idempotency),
            "idempotent_replays": self.idempotent_replays,
            "metafields": {f"{ns}.{key}": mf["value"] for (ns, key), mf in self.metafields.items()},
            "orders": len(self.orders),
            "calls": dict(self.calls),
            "pending_slow": self.pending_slow,
            "bucket": self.throttle_status(),
            "webhooks": self.webhooks.stats(),
        }


# ---------------------------------------------------------------------------------------------- webhooks


class Webhooks:
    """At-least-once delivery with Shopify's headers and HMAC; duplicates, lateness and reordering on demand."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.url: str | None = None
        self.duplicate = 0  # extra copies of every delivery
        self.late_s = 0.0  # every delivery waits this long first (Shopify: up to hours)
        self.shuffle_s = 0.0  # random extra delay 0…shuffle_s: deliveries overtake each other
        self.retry_base_s = 1.0  # Shopify backs off exponentially over hours; compressed here
        self.max_attempts = 8
        self._queue: list[tuple[float, int, dict[str, Any]]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.delivered = 0
        self.failed_attempts = 0
        self.emitted = 0
        self._rng = random.Random(13)
        self._thread = threading.Thread(target=self._run, name="standin-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def reset(self) -> None:
        with self._cond:
            self._queue.clear()
        self.url = None
        self.duplicate, self.late_s, self.shuffle_s, self.retry_base_s, self.max_attempts = 0, 0.0, 0.0, 1.0, 8
        self.delivered = self.failed_attempts = self.emitted = 0

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(2)

    def emit(self, topic: str, payload: dict[str, Any], event_id: str | None = None) -> None:
        if self.url is None:
            return
        self.emitted += 1
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery = {"topic": topic, "body": body, "webhook_id": str(uuid.uuid4()),
                    "event_id": event_id or str(uuid.uuid4()), "triggered_at": iso(time.time(), ms=True),
                    "attempt": 0, "url": self.url}  # fmt: skip
        for _copy in range(1 + self.duplicate):
            self._schedule(dict(delivery), self.late_s + self._rng.uniform(0, self.shuffle_s))

    def _schedule(self, delivery: dict[str, Any], delay: float) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._queue, (time.monotonic() + delay, self._seq, delivery))
            self._cond.notify_all()

    def stats(self) -> dict[str, Any]:
        with self._cond:
            queued = len(self._queue)
        return {"url": self.url, "emitted": self.emitted, "delivered": self.delivered, "queued": queued,
                "failed_attempts": self.failed_attempts}  # fmt: skip

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._stop.is_set() and (not self._queue or self._queue[0][0] > time.monotonic()):
                    timeout = None if not self._queue else max(0.0, self._queue[0][0] - time.monotonic())
                    self._cond.wait(timeout if timeout is not None else 0.5)
                if self._stop.is_set():
                    return
                _, _, delivery = heapq.heappop(self._queue)
            self._deliver(delivery)

    def _deliver(self, d: dict[str, Any]) -> None:
        secret = self.shop.client_secret
        signature = base64.b64encode(hmac.new(secret.encode(), d["body"], hashlib.sha256).digest()).decode()
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": d["topic"],
                   "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Shop-Domain": self.shop.domain,
                   "X-Shopify-API-Version": "2026-04", "X-Shopify-Webhook-Id": d["webhook_id"],
                   "X-Shopify-Event-Id": d["event_id"], "X-Shopify-Triggered-At": d["triggered_at"]}  # fmt: skip
        request = urllib.request.Request(d["url"], data=d["body"], headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # Shopify: 5 s total
                ok = 200 <= response.status < 300
        except OSError:
            ok = False
        if ok:
            self.delivered += 1
            return
        self.failed_attempts += 1
        d["attempt"] += 1
        if d["attempt"] < self.max_attempts:
            self._schedule(d, self.retry_base_s * 2 ** (d["attempt"] - 1))  # same payload, same ids


# ---------------------------------------------------------------------------------------------- GraphQL


class GraphQLService:
    def __init__(self, shop: Shop) -> None:
        import graphql

        self.g = graphql
        self.shop = shop
        self.schema = graphql.build_schema(SDL)
        self._wire()

    def _wire(self) -> None:
        s, shop = self.schema, self.shop

        def obj(name: str) -> Any:
            return s.get_type(name)

        def item_obj(item: Item) -> dict[str, Any]:
            return {"__typename": "InventoryItem", "id": item.inventory_item_id, "sku": item.sku,
                    "tracked": item.tracked, "_item": item}  # fmt: skip

        def variant_obj(item: Item) -> dict[str, Any]:
            return {"__typename": "ProductVariant", "id": item.variant_id, "sku": item.sku, "title": item.title,
                    "_item": item}  # fmt: skip

        def level_obj(item: Item) -> dict[str, Any]:
            return {"__typename": "InventoryLevel", "id": f"gid://shopify/InventoryLevel/{num(shop.location_id)}"
                    f"?inventory_item_id={num(item.inventory_item_id)}", "updatedAt": iso(item.updated_at),
                    "_item": item}  # fmt: skip

        def location_obj() -> dict[str, Any]:
            return {"__typename": "Location", "id": shop.location_id, "name": "Stall"}

        def node(gid: str) -> dict[str, Any] | None:
            for item in shop.items.values():
                if gid == item.inventory_item_id:
                    return item_obj(item)
                if gid == item.variant_id:
                    return variant_obj(item)
            if gid == shop.location_id:
                return location_obj()
            return None

        obj("Node").resolve_type = lambda value, _info, _type: value["__typename"]
        q = obj("QueryRoot").fields
        q["shop"].resolve = lambda *_: {"__typename": "Shop", "id": shop.shop_id, "name": shop.name,
                                        "myshopifyDomain": shop.domain}  # fmt: skip
        q["nodes"].resolve = lambda _r, _i, ids: [node(i) for i in ids]
        q["node"].resolve = lambda _r, _i, id: node(id)
        q["productVariant"].resolve = lambda _r, _i, id: (n if (n := node(id)) and n["__typename"] ==
                                                          "ProductVariant" else None)  # fmt: skip
        q["inventoryItem"].resolve = lambda _r, _i, id: (n if (n := node(id)) and n["__typename"] ==
                                                         "InventoryItem" else None)  # fmt: skip

        def variants(_r: Any, _i: Any, first: int | None = None, query: str | None = None) -> dict[str, Any]:
            found = list(shop.items.values())
            match = re.fullmatch(r"\s*sku:\s*(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|(\S+))\s*", query or "")
            if match:
                wanted = (match.group(1) or "").replace('\\"', '"') or match.group(2) or match.group(3) or ""
                found = [i for i in found if i.sku == wanted]
            return {"nodes": [variant_obj(i) for i in found[: first or 50]]}

        q["productVariants"].resolve = variants
        obj("Shop").fields["metafield"].resolve = lambda _r, _i, namespace, key: shop.metafields.get((namespace, key))
        obj("ProductVariant").fields["inventoryItem"].resolve = lambda v, _i: item_obj(v["_item"])
        obj("InventoryItem").fields["variant"].resolve = lambda v, _i: variant_obj(v["_item"])
        obj("InventoryItem").fields["inventoryLevel"].resolve = lambda v, _i, locationId: (
            level_obj(v["_item"]) if locationId == shop.location_id else None)  # fmt: skip
        obj("InventoryLevel").fields["location"].resolve = lambda *_: location_obj()
        obj("InventoryLevel").fields["item"].resolve = lambda v, _i: item_obj(v["_item"])
        obj("InventoryLevel").fields["quantities"].resolve = lambda v, _i, names: [
            {"name": n, "quantity": v["_item"].available if n == "available" else 0} for n in names]
        obj("InventoryChange").fields["item"].resolve = lambda c, _i: item_obj(shop.items[c["_item_id"]])
        obj("InventoryChange").fields["location"].resolve = lambda *_: location_obj()
        m = obj("Mutation").fields
        m["inventoryAdjustQuantities"].resolve = self._adjust
        m["metafieldsSet"].resolve = self._metafields_set

    # -- mutations -----------------------------------------------------------------------------

    def _adjust(self, _root: Any, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        shop = self.shop
        key = self._idempotency_key(info)
        fingerprint = json.dumps(input, sort_keys=True)
        if key in shop.idempotency:
            seen_fingerprint, result = shop.idempotency[key]
            if seen_fingerprint != fingerprint:
                return {"inventoryAdjustmentGroup": None, "userErrors": [{"field": None, "code":
                        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "message":
                        "The idempotency key was already used with different parameters."}]}  # fmt: skip
            shop.idempotent_replays += 1
            return result
        result = self._apply_adjust(input)
        shop.idempotency[key] = (fingerprint, result)
        return result

    def _apply_adjust(self, input: dict[str, Any]) -> dict[str, Any]:
        shop = self.shop

        def error(code: str, message: str, fieldpath: list[str]) -> dict[str, Any]:
            return {"inventoryAdjustmentGroup": None, "userErrors": [{"field": fieldpath, "message": message,
                                                                      "code": code}]}  # fmt: skip

        if input["reason"] not in REASONS:
            return error("INVALID_REASON", "The specified reason is invalid.", ["input", "reason"])
        if input["name"] != "available":
            return error("INVALID_QUANTITY_NAME", "Only 'available' is adjusted by this stand-in.", ["input", "name"])
        checked: list[tuple[Item, dict[str, Any]]] = []
        for index, change in enumerate(input["changes"]):
            where = ["input", "changes", str(index)]
            if "changeFromQuantity" not in change:  # omitted (not null): an error from 2026-04
                raise self.g.GraphQLError("changeFromQuantity is required: pass the quantity you expect, or null.")
            item = shop.items.get(change["inventoryItemId"])
            if item is None:
                return error("INVALID_INVENTORY_ITEM", "The specified inventory item could not be found.",
                             [*where, "inventoryItemId"])  # fmt: skip
            if change["locationId"] != shop.location_id:
                return error("ITEM_NOT_STOCKED_AT_LOCATION", "The specified inventory item is not stocked at the "
                             "location.", [*where, "locationId"])  # fmt: skip
            race = shop.faults.race.pop(item.inventory_item_id, 0) + shop.faults.race_always.get(
                item.inventory_item_id, 0)
            if race:  # another app (or booth) adjusts the same level an instant before us
                shop.change_level(item, race, "foreign adjustment (race)")
            expected = change["changeFromQuantity"]
            if expected is not None and expected != item.available:
                return error("CHANGE_FROM_QUANTITY_STALE", "The quantity has changed since it was last read: "
                             f"expected {expected}.", [*where, "changeFromQuantity"])  # fmt: skip
            checked.append((item, change))
        changes = []
        for item, change in checked:
            after = shop.change_level(item, int(change["delta"]), "api", input.get("referenceDocumentUri"))
            changes.append({"name": "available", "delta": int(change["delta"]), "quantityAfterChange": after,
                            "ledgerDocumentUri": None, "_item_id": item.inventory_item_id})  # fmt: skip
        group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{len(shop.adjustments)}",
                 "createdAt": iso(time.time()), "reason": input["reason"],
                 "referenceDocumentUri": input.get("referenceDocumentUri"), "changes": changes}  # fmt: skip
        return {"inventoryAdjustmentGroup": group, "userErrors": []}

    def _metafields_set(self, _root: Any, _info: Any, metafields: list[dict[str, Any]]) -> dict[str, Any]:
        shop = self.shop
        errors, planned = [], []
        for index, mf in enumerate(metafields):
            ns, key = mf.get("namespace") or "app", mf["key"]
            existing = shop.metafields.get((ns, key))
            if "compareDigest" in mf:
                digest = mf["compareDigest"]
                if (digest is None and existing is not None) or (
                        digest is not None and (existing is None or existing["compareDigest"] != digest)):
                    errors.append({"field": ["metafields", str(index), "compareDigest"], "elementIndex": index,
                                   "code": "STALE_OBJECT",
                                   "message": "The metafield has been modified since it was loaded."})  # fmt: skip
                    continue
            planned.append((ns, key, mf))
        if errors:  # atomic: nothing is set when anything failed
            return {"metafields": None, "userErrors": errors}
        out = []
        for ns, key, mf in planned:
            value = mf["value"]
            record = {"__typename": "Metafield", "id": f"gid://shopify/Metafield/{len(shop.metafields) + 1}",
                      "namespace": ns, "key": key, "value": value, "type": mf.get("type") or "single_line_text_field",
                      "compareDigest": hashlib.sha256(value.encode()).hexdigest()}  # fmt: skip
            shop.metafields[(ns, key)] = record
            out.append(record)
        return {"metafields": out, "userErrors": []}

    def _idempotency_key(self, info: Any) -> str:
        from graphql.execution.values import get_directive_values

        directive = self.schema.get_directive("idempotent")
        values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
        if not values or not values.get("key"):
            raise self.g.GraphQLError(
                f"The @idempotent directive is required for {info.field_name} (API 2026-04 and newer).")
        return str(values["key"])

    # -- cost ----------------------------------------------------------------------------------

    def cost(self, document: Any, variables: dict[str, Any]) -> float:
        g = self.g
        total = 0.0
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, g.FragmentDefinitionNode)}
        for op in document.definitions:
            if not isinstance(op, g.OperationDefinitionNode):
                continue
            if op.operation == g.OperationType.MUTATION:
                total += 10 * len(op.selection_set.selections)
                continue
            total += self._selection_cost(op.selection_set, self.schema.query_type, variables, fragments)
        return total

    def _selection_cost(self, selection_set: Any, parent: Any, variables: dict[str, Any], fragments: Any) -> float:
        g = self.g
        total = 0.0
        for sel in selection_set.selections:
            if isinstance(sel, g.InlineFragmentNode):
                target = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                total += self._selection_cost(sel.selection_set, target, variables, fragments)
                continue
            if isinstance(sel, g.FragmentSpreadNode):
                frag = fragments[sel.name.value]
                total += self._selection_cost(frag.selection_set, self.schema.get_type(frag.type_condition.name.value),
                                              variables, fragments)  # fmt: skip
                continue
            fields = getattr(parent, "fields", {})
            definition = fields.get(sel.name.value)
            if definition is None:
                continue
            named = g.get_named_type(definition.type)
            if not isinstance(named, g.GraphQLObjectType | g.GraphQLInterfaceType):
                continue  # scalars and enums cost nothing
            multiplier = 1.0
            for arg in sel.arguments or []:
                value = g.value_from_ast_untyped(arg.value, variables)
                if arg.name.value == "ids" and isinstance(value, list):
                    multiplier = float(max(1, len(value)))
                elif arg.name.value == "first" and isinstance(value, int):
                    multiplier = float(max(1, value))
            child = self._selection_cost(sel.selection_set, named, variables, fragments) if sel.selection_set else 0
            total += multiplier * (1 + child) if multiplier > 1 else 1 + child
        return total

    # -- one request ---------------------------------------------------------------------------

    def run(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        g, shop = self.g, self.shop
        try:
            document = g.parse(query)
        except g.GraphQLError as exc:
            return {"errors": [{"message": exc.message, "extensions": {"code": "PARSE_ERROR"}}]}
        problems = g.validate(self.schema, document)
        if problems:
            return {"errors": [{"message": p.message, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
                               for p in problems]}  # fmt: skip
        requested = self.cost(document, variables)
        if not shop.charge(requested):
            shop.calls["throttled"] += 1
            return {"errors": [{"message": "Throttled", "extensions": {
                        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                            "throttleStatus": shop.throttle_status()}}}  # fmt: skip
        result = g.execute_sync(self.schema, document, variable_values=variables)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [{"message": e.message, "path": e.path} for e in result.errors]
        body["data"] = _public(result.data)
        body["extensions"] = {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
                                       "throttleStatus": shop.throttle_status()}}  # fmt: skip
        return body


def _public(value: Any) -> Any:
    return value  # graphql-core returns only the selected fields: private keys never leak


# ---------------------------------------------------------------------------------------------- HTTP


def build_app(shop: Shop, control_token: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route

    service = GraphQLService(shop)

    async def token(request: Request) -> Response:
        shop.calls["token"] += 1
        form = {k: v[0] for k, v in urllib.parse.parse_qs((await request.body()).decode()).items()}
        if shop.faults.down:
            return PlainTextResponse("Service Unavailable", status_code=503)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        ok = hmac.compare_digest(str(form.get("client_id", "")), shop.client_id) and hmac.compare_digest(
            str(form.get("client_secret", "")), shop.client_secret)
        if not ok or shop.faults.reject_credentials:
            return JSONResponse({"error": "invalid_client", "error_description": "Client authentication failed"},
                                status_code=401)  # fmt: skip
        value = "shpat_" + secrets.token_hex(16)
        with shop.lock:
            shop.tokens[value] = time.monotonic() + shop.token_lifetime_s
        return JSONResponse({"access_token": value, "scope": "read_inventory,write_inventory,read_products,"
                             "read_orders", "expires_in": int(shop.token_lifetime_s)})  # fmt: skip

    async def graphql_endpoint(request: Request) -> Response:
        version = request.path_params["version"]
        if not re.fullmatch(r"\d{4}-\d{2}|unstable", version):
            return PlainTextResponse("Not Found", status_code=404)
        shop.calls["graphql"] += 1
        faults = shop.faults
        if faults.down:
            return PlainTextResponse("Service Unavailable", status_code=503)
        presented = request.headers.get("x-shopify-access-token", "")
        expiry = shop.tokens.get(presented)
        if expiry is None or expiry < time.monotonic():
            shop.calls["unauthorized"] += 1
            return JSONResponse({"errors": INVALID_TOKEN_TEXT}, status_code=401)
        if faults.errors_500 > 0:
            faults.errors_500 -= 1
            return JSONResponse({"errors": "Internal Server Error"}, status_code=500)
        if faults.status_429 > 0:
            faults.status_429 -= 1
            return JSONResponse({"errors": "Exceeded 2 calls per second for api client. Reduce request rates."},
                                status_code=429, headers={"Retry-After": f"{faults.retry_after_s:g}"})  # fmt: skip
        try:
            payload = await request.json()
            query, variables = payload["query"], payload.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"errors": [{"message": "Bad Request"}]}, status_code=400)
        with shop.lock:
            body = service.run(str(query), dict(variables))
        if faults.slow_s > 0:  # done at the shop, the answer is slow: a client that gives up never hears it
            shop.pending_slow += 1
            try:
                await asyncio.sleep(faults.slow_s)
            finally:
                shop.pending_slow -= 1
        return JSONResponse(body)

    def authorised(request: Request) -> bool:
        return hmac.compare_digest(request.headers.get("x-standin-control", ""), control_token)

    async def control(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "control token required"}, status_code=401)
        action = request.path_params["action"]
        data = await request.json() if request.method == "POST" else {}
        with shop.lock:
            if action == "state":
                return JSONResponse(shop.state())
            if action == "faults":
                for key, value in data.items():
                    if not hasattr(shop.faults, key):
                        return JSONResponse({"error": f"unknown fault {key!r}"}, status_code=400)
                    setattr(shop.faults, key, value)
                return JSONResponse({"faults": shop.faults.__dict__})
            if action == "reset":
                shop.reset()
                return JSONResponse({"ok": True})
            if action == "revoke-tokens":
                shop.tokens.clear()
                return JSONResponse({"ok": True})
            if action == "order":
                return JSONResponse(shop.online_order(data["lines"]))
            if action == "adjust":  # a foreign adjustment: the merchant, another app, another booth's sale
                item = shop.item_by(data["item"])
                return JSONResponse({"available": shop.change_level(item, int(data["delta"]), data.get("origin",
                                     "foreign adjustment"))})  # fmt: skip
            if action == "webhooks":
                hooks = shop.webhooks
                url = data.get("url", hooks.url)
                if url is not None and not url.startswith(("http://127.0.0.1:", "http://localhost:")):
                    return JSONResponse({"error": "webhooks go to loopback only"}, status_code=400)
                hooks.url = url
                for key in ("duplicate", "late_s", "shuffle_s", "retry_base_s", "max_attempts"):
                    if key in data:
                        setattr(hooks, key, type(getattr(hooks, key))(data[key]))
                return JSONResponse(hooks.stats())
        return JSONResponse({"error": f"unknown control {action!r}"}, status_code=404)

    return Starlette(routes=[
        Route("/admin/oauth/access_token", token, methods=["POST"]),
        Route("/admin/api/{version}/graphql.json", graphql_endpoint, methods=["POST"]),
        Route("/_control/{action}", control, methods=["GET", "POST"]),
    ])  # fmt: skip


def serve(config_path: Path, ready_file: Path) -> int:
    import uvicorn

    cfg = json.loads(config_path.read_text())
    shop = Shop(cfg)
    app = build_app(shop, cfg["control_token"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(cfg.get("port", 0))))
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts them: ready means reachable
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1,
                                           lifespan="off"))  # fmt: skip
    shop.webhooks.start()
    tmp = ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"port": sock.getsockname()[1], "pid": os.getpid()}))
    tmp.replace(ready_file)
    try:
        server.run(sockets=[sock])
    finally:
        shop.webhooks.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Shopify stand-in on 127.0.0.1 (tests and benchmarks)")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return serve(args.config, args.ready_file)


# ---------------------------------------------------------------------------------------------- harness


class StandinProcess:
    """Start the stand-in as a child process, talk to its control API, stop it by PID."""

    def __init__(self, workdir: Path, items: list[dict[str, Any]], *, domain: str = "booth-test.myshopify.com",
                 location_id: str = "gid://shopify/Location/77", bucket_max: float = 2000, restore_rate: float = 100,
                 token_lifetime_s: float = 86399, port: int = 0) -> None:  # fmt: skip
        self.workdir = workdir
        self.domain, self.location_id = domain, location_id
        self.client_id = "booth-standin-client"
        self.client_secret = secrets.token_hex(16)
        self.control_token = secrets.token_hex(16)
        self.config = {"domain": domain, "client_id": self.client_id, "client_secret": self.client_secret,
                       "location_id": location_id, "items": items, "bucket_max": bucket_max,
                       "restore_rate": restore_rate, "control_token": self.control_token,
                       "token_lifetime_s": token_lifetime_s, "port": port}  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> StandinProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "standin.json"
        ready = self.workdir / "standin-ready.json"
        ready.unlink(missing_ok=True)
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.config, handle)
        with open(self.workdir / "standin.log", "wb") as log_file:  # the child keeps its own copy of the fd
            self.process = subprocess.Popen(
                [sys.executable, "-m", "booth.bench.shop_standin", "--config", str(config), "--ready-file", str(ready)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log_file,
            )
        deadline = time.monotonic() + timeout_s
        while not ready.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"the stand-in exited ({self.process.returncode}): "
                                   f"{(self.workdir / 'standin.log').read_text()[-2000:]}")  # fmt: skip
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the stand-in did not start within {timeout_s:g} s")
            time.sleep(0.02)  # bounded: polling for the ready file of a process we started
        self.port = int(json.loads(ready.read_text())["port"])
        self.config["port"] = self.port  # a restart comes back on the same address
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def write_credentials(self, path: Path, codes_secret: str, client_secret: str | None = None) -> Path:
        """A Booth credentials file for this stand-in (user-only permissions, as Booth demands)."""
        path.write_text(f'client_id = "{self.client_id}"\nclient_secret = "{client_secret or self.client_secret}"\n'
                        f'codes_secret = "{codes_secret}"\n')  # fmt: skip
        path.chmod(0o600)
        return path

    def shop_section(self, stale_alarm_seconds: float) -> str:
        """A drop file's [shop] table for this stand-in, with write_credentials' file beside the drop file."""
        return (f'[shop]\ndomain = "{self.domain}"\nlocation = "{self.location_id}"\napi_base = "{self.url}"\n'
                f'credentials = "shop.toml"\npoll_seconds = 1\nstale_alarm_seconds = {stale_alarm_seconds:g}\n')

    def control(self, action: str, data: dict[str, Any] | None = None) -> Any:
        import requests

        headers = {"X-Standin-Control": self.control_token}
        if data is None:
            response = requests.get(f"{self.url}/_control/{action}", headers=headers, timeout=5)
        else:
            response = requests.post(f"{self.url}/_control/{action}", json=data, headers=headers, timeout=5)
        response.raise_for_status()
        return response.json()

    def state(self) -> dict[str, Any]:
        return dict(self.control("state"))

    def available(self, item_id: str) -> int:
        return int(self.state()["items"][item_id]["available"])

    def faults(self, **values: Any) -> None:
        self.control("faults", values)

    def __enter__(self) -> StandinProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.stop()


if __name__ == "__main__":
    sys.exit(main())
