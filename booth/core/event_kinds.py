"""Every kind of drop event, the drop's own and the shop's: the one registry the journal is read back with.

Its own module because the shop's events subclass `DropEvent` (booth.core.events) and the registry needs
both: here neither of the two imports the other's registry.
"""

from __future__ import annotations

from typing import Any

from booth.core.events import DROP_EVENT_TYPES, DropEvent, Request
from booth.core.shop.events import SHOP_EVENT_TYPES

EVENT_TYPES: dict[str, type[DropEvent]] = {cls.kind: cls for cls in DROP_EVENT_TYPES} | SHOP_EVENT_TYPES


def event_from_dict(data: dict[str, Any], request: Request | None = None) -> DropEvent:
    fields = dict(data)
    fields.pop("request", None)
    kind = fields.pop("kind")
    try:
        cls = EVENT_TYPES[kind]
    except KeyError:
        raise ValueError(f"unknown drop event kind {kind!r}") from None
    return cls(**fields, request=request)
