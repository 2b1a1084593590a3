"""What the control API drives, as small protocols the composition root (`booth.app`) fills in.

The API imports no video, output or health code: it gets the drop controller, and — when the rig
has them — something that switches sources, something that clips and marks moments, and a place to
put viewer counts and answered calls. `booth serve` (no picture) gives only the drop; the API then
answers the picture's endpoints with 503 and a sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from booth.core.events import Request
from booth.core.failover import Lock
from booth.core.output import Moment, OutputStatus
from booth.core.source_state import SourceStatus
from booth.drop.controller import DropController


class Sources(Protocol):
    """The switcher: which source is on program, the host's lock, reconnecting."""

    @property
    def on_program(self) -> str: ...
    @property
    def lock(self) -> Lock: ...
    def set_lock(self, lock: Lock) -> None: ...
    def reconnect_now(self) -> None: ...
    def statuses(self) -> list[SourceStatus]: ...


class ClipOutcome(Protocol):
    @property
    def path(self) -> Path | None: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def message(self) -> str: ...


class Output(Protocol):
    """Program out: clips of the last seconds and marked moments."""

    def clip(self, seconds: float | None = None) -> Future[Any]: ...  # Future[ClipOutcome]
    def mark(self, reason: str) -> Moment: ...
    def status(self) -> OutputStatus: ...


class Shop(Protocol):
    """The shop part (booth.app.shop_part): Shopify's webhook deliveries, sticker codes, sync status."""

    def webhook(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]: ...
    def redeem_async(self, text: str, request: Request | None = None) -> Future[Any]: ...  # Future[Redemption]
    def confirms_first(self, sku_id: str) -> bool: ...
    def sell_async(self, sku_id: str, qty: int = 1, origin: str = "api",
                   request: Request | None = None) -> Future[Any]: ...  # Future[ActionResult]
    def status(self) -> Any: ...  # booth.shop.sync.ShopStatus | None


class CallRecorder(Protocol):
    """Stores an answered API call with its idempotency key (the session log's `api_call` record)."""

    def __call__(self, request: Request, answer: dict[str, Any], on_committed: Callable[[], None],
                 on_failed: Callable[[str], None]) -> None: ...  # fmt: skip


@dataclass
class ApiPorts:
    drop: DropController
    sources: Sources | None = None
    output: Output | None = None
    viewers: Callable[[int], None] | None = None  # a viewer count for the session log
    record_call: CallRecorder | None = None  # None: answers of non-drop calls live in memory only
    recovered_calls: list[tuple[Request, dict[str, Any]]] = field(default_factory=list)
    metrics: Any = None  # a prometheus_client CollectorRegistry served at /metrics
    corner: str = "bottom-left"  # where the burned-in overlay sits: the OBS overlay page matches it
    commit_timeout_s: float = 5.0  # how long a call waits for the disk before answering 504
    shop: Shop | None = None  # [shop]: webhooks, sticker codes
