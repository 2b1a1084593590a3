"""Deciding what a Shopify webhook delivery means, before anything is counted.

In order, for each delivery:
1. The HMAC: base64(HMAC-SHA256(client secret, raw body)) must equal `X-Shopify-Hmac-Sha256`, compared in
   constant time, before the body is even parsed (a forged body is never looked at).
2. Duplicates: Shopify delivers at least once and retries with the original payload. A delivery whose
   `X-Shopify-Webhook-Id` (per delivery; retries keep it) was seen is dropped; without it,
   (`X-Shopify-Event-Id`, topic) is used — the event id alone is shared by every topic one action fires.
3. Stale: a delivery triggered (`X-Shopify-Triggered-At`) before the state already seen for that item (by an
   earlier webhook or a poll) is ignored: retries can arrive hours late and out of order.
4. Echoes: Booth's own stall sales come back as `inventory_levels/update`. A level equal to what one of our
   own confirmed writes left is recognised and not counted again.

What survives is a *nudge*: an item to re-read or a level to reconcile. The poll stays the truth.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

TOPICS = ("orders/create", "inventory_levels/update", "orders/cancelled")


def signature(secret: str, body: bytes) -> str:
    """What Shopify puts in X-Shopify-Hmac-Sha256 for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def verify(secret: str, body: bytes, header: str | None) -> bool:
    if not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode("ascii"), header.strip().encode("ascii", "replace"))


class Verdict(StrEnum):
    ACCEPTED = "accepted"
    FORGED = "forged"  # HMAC missing or wrong: 401
    MALFORMED = "malformed"  # signed, but not JSON of the expected shape: 400 (Shopify would retry; it won't help)
    DUPLICATE = "duplicate"  # already handled: 200 so Shopify stops retrying
    STALE = "stale"  # older than what we already know: 200
    ECHO = "echo"  # our own write coming back: 200
    IGNORED = "ignored"  # a topic or item this drop does not sell: 200
    NOT_READY = "not ready"  # Booth has not reached the shop yet (items unresolved): 503, Shopify retries


@dataclass(frozen=True)
class LevelUpdate:
    """`inventory_levels/update`: the shop says item X at location L now has `available`."""

    inventory_item_id: int
    location_id: int
    available: int
    triggered_at: float


@dataclass(frozen=True)
class OrderLine:
    variant_id: int | None
    sku: str | None
    quantity: int


@dataclass(frozen=True)
class OrderCreated:
    order_id: int
    lines: tuple[OrderLine, ...]
    triggered_at: float
    cancelled: bool = False


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    topic: str = ""
    delivery_id: str = ""
    news: LevelUpdate | OrderCreated | None = None

    @property
    def http_status(self) -> int:
        return {Verdict.FORGED: 401, Verdict.MALFORMED: 400, Verdict.NOT_READY: 503}.get(self.verdict, 200)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def parse_time(text: str) -> float:
    """ISO 8601 as Shopify sends it ('2026-12-01T20:31:05.123Z' or with an offset) → POSIX seconds."""
    return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).timestamp()


class WebhookGate:
    """The four checks above, with bounded memory. One per shop; not thread-safe (call from one thread).

    `item_ids`: the InventoryItem numbers this drop sells (others are IGNORED).
    """

    def __init__(self, secret: str, item_ids: set[int], location_id: int, remember: int = 10_000) -> None:
        self._secret = secret
        self._items = set(item_ids)
        self._location = location_id
        self._remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._latest: dict[int, float] = {}  # item → newest triggered/updated time seen
        self._echoes: dict[int, list[int]] = {}  # item → levels our own confirmed writes left

    # -- what the rest of Booth tells the gate -------------------------------------------------

    def saw_level(self, inventory_item_id: int, at: float) -> None:
        """A poll read this item's level as of `at` (the level's updatedAt): older deliveries are stale."""
        if at > self._latest.get(inventory_item_id, float("-inf")):
            self._latest[inventory_item_id] = at

    def own_write(self, inventory_item_id: int, available_after: int) -> None:
        """One of our writes was confirmed and left the level at `available_after`: expect its echo."""
        pending = self._echoes.setdefault(inventory_item_id, [])
        pending.append(available_after)
        del pending[:-64]

    # -- a delivery ----------------------------------------------------------------------------

    def decide(self, headers: Mapping[str, str], body: bytes) -> Decision:
        if not verify(self._secret, body, _header(headers, "X-Shopify-Hmac-Sha256")):
            return Decision(Verdict.FORGED, "The HMAC does not match the body: not from this shop's app, dropped.")
        topic = (_header(headers, "X-Shopify-Topic") or "").strip()
        webhook_id = (_header(headers, "X-Shopify-Webhook-Id") or "").strip()
        event_id = (_header(headers, "X-Shopify-Event-Id") or "").strip()
        delivery_id = webhook_id or (f"{event_id}/{topic}" if event_id else "")
        triggered_text = _header(headers, "X-Shopify-Triggered-At")
        try:
            triggered_at = parse_time(triggered_text) if triggered_text else None
            payload = json.loads(body)
        except (ValueError, TypeError) as exc:
            return Decision(Verdict.MALFORMED, f"Signed but unreadable ({exc}).", topic, delivery_id)
        if not isinstance(payload, dict):
            return Decision(Verdict.MALFORMED, "Signed but the body is not a JSON object.", topic, delivery_id)
        if delivery_id and delivery_id in self._seen:
            return Decision(Verdict.DUPLICATE, f"Delivery {delivery_id} was already handled.", topic, delivery_id)
        try:
            decision = self._classify(topic, payload, triggered_at, delivery_id)
        except (KeyError, TypeError, ValueError) as exc:
            return Decision(Verdict.MALFORMED, f"Signed but not a {topic or 'known'} payload ({exc}).", topic,
                            delivery_id)
        if delivery_id and decision.verdict is not Verdict.MALFORMED:
            self._remember_delivery(delivery_id)
        return decision

    def _classify(self, topic: str, payload: dict[str, Any], triggered_at: float | None, delivery_id: str) -> Decision:
        if topic == "inventory_levels/update":
            item = int(payload["inventory_item_id"])
            location = int(payload["location_id"])
            available = int(payload["available"]) if payload.get("available") is not None else None
            at = triggered_at if triggered_at is not None else parse_time(str(payload["updated_at"]))
            if item not in self._items or location != self._location or available is None:
                return Decision(Verdict.IGNORED, f"Item {item} at location {location} is not in this drop.", topic,
                                delivery_id)  # fmt: skip
            latest = self._latest.get(item)
            if latest is not None and at < latest:
                return Decision(Verdict.STALE, f"Item {item}: triggered before the level already seen.", topic,
                                delivery_id)  # fmt: skip
            self._latest[item] = at
            pending = self._echoes.get(item, [])
            if available in pending:
                pending.remove(available)
                return Decision(Verdict.ECHO, f"Item {item} at {available}: our own stall sale coming back.", topic,
                                delivery_id)  # fmt: skip
            update = LevelUpdate(item, location, available, at)
            return Decision(Verdict.ACCEPTED, f"Item {item} now {available} at the shop.", topic, delivery_id, update)
        if topic in ("orders/create", "orders/cancelled"):
            at = triggered_at if triggered_at is not None else parse_time(str(payload["created_at"]))
            lines = tuple(
                OrderLine(
                    int(line["variant_id"]) if line.get("variant_id") is not None else None,
                    str(line["sku"]) if line.get("sku") else None,
                    int(line["quantity"]),
                )
                for line in payload["line_items"]
            )
            order = OrderCreated(int(payload["id"]), lines, at, cancelled=topic == "orders/cancelled")
            return Decision(Verdict.ACCEPTED, f"Order {order.order_id}: {len(lines)} line(s).", topic, delivery_id,
                            order)
        return Decision(Verdict.IGNORED, f"Topic {topic!r} is not used by Booth.", topic, delivery_id)

    def _remember_delivery(self, delivery_id: str) -> None:
        self._seen[delivery_id] = None
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
