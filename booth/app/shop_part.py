"""The shop as a part of a running drop: the sync threads, sticker-code redemptions, webhooks.

Built from `[shop]` and the credentials file by `add_shop` (the GUI's `add_rig` and `booth serve` alike);
without `[shop]` it adds nothing and Booth works exactly as before. What it wires:

- the drop controller is the shop sync's journal and counter (`ShopSync(counter=controller)`), and the
  controller's committed sales of shop products are the sync's outbox (`controller.on_applied`);
- the sync is restored from the session log before it starts, so stall sales queued before a crash go out
  with the keys they had;
- sticker codes are redeemed on a worker of their own (`booth-shop-desk`): the host's window and the
  control API hand a scanned code over and never wait on the shop; each redemption is a sale of one unit
  (origin "code") and marks a moment for a clip;
- a product of a shared pool (`[shop] pool`) is sold on that worker too, the shop first: its unit is
  taken off the shop (compare-and-set above the pool's floor) before it is counted, so two booths can
  never both sell the pool's last one; a shop that does not answer within `[shop] confirm_seconds`
  (1 s by default) gets the sale counted here and queued like any other (if the pool was spent after all,
  the shop refuses the queued write and the host sees the oversell);
- a rehearsal session reads the shop and never writes to it (shadow stock); its shop client goes
  through the rehearsal's fault seam (`FaultSeams.shop_adapter`), where the shop-unreachable drill cuts it off.

Credentials that cannot be read are one standing sentence: the counter then works from the quota alone,
and the stall sales wait in the session log for a start that has them.
"""

from __future__ import annotations

import logging
import queue
import socket
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from booth.app.lifecycle import Lifecycle
from booth.app.options import Options
from booth.core.config import BoothConfig
from booth.core.drop import Phase, Refusal
from booth.core.events import Request, SaleRecorded
from booth.core.shop.codes import StickerCode
from booth.core.shop.settings import CredentialsError, ShopSettings
from booth.devices.faults import FaultSeams
from booth.drop.controller import ActionResult, DropController
from booth.drop.session import DropSession
from booth.runtime.worker import Worker

if TYPE_CHECKING:  # the sync (and requests) load only for a drop with [shop]
    from booth.shop.sync import ShopStatus, ShopSync

log = logging.getLogger(__name__)

CODE_QUEUE_MAX = 64  # a scanner stuck sending the same burst cannot grow memory


@dataclass(frozen=True)
class Redemption:
    """What a scanned or typed code did: a sale (`sale`) or a refusal the host can act on."""

    text: str
    sale: SaleRecorded | None = None
    refusal: Refusal | None = None
    result: ActionResult | None = None  # the controller's answer (its receipt, for the API)
    offline: bool = False  # the shop was unreachable: the code is recorded on it later

    @property
    def message(self) -> str:
        if self.refusal is not None:
            return self.refusal.message
        return ""


@dataclass(frozen=True)
class _CodeJob:
    text: str
    request: Request | None = None
    answer: Future[Redemption] | None = None  # the control API waits on this; the window hears listeners


@dataclass(frozen=True)
class _SaleJob:
    sku_id: str
    qty: int
    origin: str
    request: Request | None = None
    answer: Future[ActionResult] | None = None


@dataclass
class ShopPart:
    settings: ShopSettings
    controller: DropController
    sync: ShopSync | None  # None: the credentials could not be read (the counter runs from the quota)
    problem: str = ""
    mark: Callable[[str], object] | None = None  # program out's moment marker, when there is a picture
    _listeners: list[Callable[[Redemption], None]] = field(default_factory=list)
    _codes: queue.Queue[_CodeJob | _SaleJob] = field(default_factory=lambda: queue.Queue(CODE_QUEUE_MAX))
    _worker: Worker | None = None

    # -- status --------------------------------------------------------------------------------

    def status(self) -> ShopStatus | None:
        if self.sync is None:
            return None
        shop = set(self.controller.spec.shop_skus)
        return self.sync.status({s.id: s.left for s in self.controller.view().skus if s.id in shop})

    def host_alerts(self) -> list[tuple[str, str]]:
        """(what, message) of each shop alert the host's line shows now (the shop drill's port)."""
        status = self.status()
        return [(a.what, a.message) for a in status.alerts] if status is not None else []

    def standing(self) -> list[str]:
        problems = [self.problem] if self.problem else []
        if self.sync is not None and self.sync.problem:
            problems.append(self.sync.problem)
        return problems

    # -- selling a shared pool's products: the shop first ----------------------------------------

    def confirms_first(self, sku_id: str) -> bool:
        """A product of a shared pool while the shop answers: sell it through `sell_later`/`sell_async`."""
        return self.sync is not None and self._worker is not None and self.sync.confirms_first(sku_id)

    def sell_later(self, sku_id: str, qty: int = 1, origin: str = "host") -> bool:
        """The host's key for a pooled product: sold on the shop desk's worker (the window never waits)."""
        return self._queue(_SaleJob(sku_id, qty, origin))

    def sell_async(self, sku_id: str, qty: int = 1, origin: str = "api",
                   request: Request | None = None) -> Future[ActionResult]:  # fmt: skip
        answer: Future[ActionResult] = Future()
        if not self._queue(_SaleJob(sku_id, qty, origin, request, answer)):
            answer.set_result(self.controller.refuse(Refusal("Too many sales waiting for the shop: send it again."),
                                                     request))  # fmt: skip
        return answer

    def sell(self, sku_id: str, qty: int = 1, origin: str = "host", request: Request | None = None,
             code: str = "", ref: str = "") -> ActionResult:  # fmt: skip
        """Sell, the shop first for a shared pool's product (waits up to `confirm_seconds` for the shop:
        call it from a worker). Two booths can then never both sell the pool's last unit; a shop that does
        not answer in time gets the sale queued like any other (counted here at once)."""
        sync = self.sync
        already = request is not None and self.controller.receipt(request.key) is not None
        if sync is None or already or not sync.confirms_first(sku_id):
            return self.controller.sell(sku_id, qty, origin, request, code, ref)
        if self.controller.check_sale(sku_id, qty, code) is not None:
            return self.controller.sell(sku_id, qty, origin, request, code, ref)  # refused, with its receipt
        ref = ref or uuid.uuid4().hex
        taken = sync.sell_now(sku_id, qty, ref, self.settings.confirm_seconds)
        if isinstance(taken, Refusal):
            return self.controller.refuse(taken, request)
        try:
            result = self.controller.sell(sku_id, qty, origin, request, code, ref)
        except BaseException:
            if taken:  # never leave the unit taken and the item "in flight" (polls would be ignored)
                sync.settle_now(ref, counted=False)
            raise
        if taken:
            sync.settle_now(ref, counted=result.accepted)
        elif not result.accepted:
            sync.abandon(ref, sku_id, qty)  # an attempt without an answer may have taken the units: check
        return result

    # -- sticker codes -------------------------------------------------------------------------

    def on_redeemed(self, listener: Callable[[Redemption], None]) -> None:
        """`listener(redemption)` for every code handed over with `redeem_later`, on the codes worker."""
        self._listeners.append(listener)

    def redeem_later(self, text: str) -> bool:
        """Hand a scanned or typed code to the codes worker (never waits). False when the queue is full."""
        return self._queue(_CodeJob(text))

    def redeem_async(self, text: str, request: Request | None = None) -> Future[Redemption]:
        """The control API's way in: redeemed on the codes worker, the answer as a future."""
        answer: Future[Redemption] = Future()
        if not self._queue(_CodeJob(text, request, answer)):
            answer.set_result(Redemption(text, refusal=Refusal("Too many codes waiting: send it again in a moment.")))
        return answer

    def _queue(self, job: _CodeJob | _SaleJob) -> bool:
        if self._worker is None:
            if isinstance(job, _CodeJob) and job.answer is not None:
                job.answer.set_result(Redemption(job.text, refusal=Refusal(
                    f"Sticker codes need the shop: {self.problem or 'it is not running'}")))
                return True
            return False
        try:
            self._codes.put_nowait(job)
        except queue.Full:
            return False
        self._worker.wake()
        return True

    def redeem(self, text: str, request: Request | None = None) -> Redemption:
        """Check, claim on the shop, sell one: waits for the shop (up to its claim timeout), so call it
        from a worker or the API's thread pool, never from the GUI thread."""
        if request is not None:
            known = self.controller.receipt(request.key)
            if known is not None:  # a retry of an API call: its first answer, nothing redeemed twice
                return Redemption(text, known.event if isinstance(known.event, SaleRecorded) else None,
                                  known.refusal, ActionResult(known.event, known.refusal, known, replayed=True))
        if self.sync is None:
            return Redemption(text, refusal=Refusal(f"Sticker codes need the shop: {self.problem}"))
        code = self.sync.check_code(text)
        if isinstance(code, Refusal):
            return Redemption(text, refusal=code)
        refusal = self.controller.check_sale(code.sku_id, 1, code.code)
        if refusal is not None:
            return Redemption(text, refusal=refusal)
        ref = uuid.uuid4().hex
        claimed = self.sync.claim(code, ref)
        if isinstance(claimed, Refusal):
            return Redemption(text, refusal=claimed)
        result = self.sell(code.sku_id, 1, "code", request, code.code, ref)
        if result.refusal is not None:
            if claimed:
                log.warning("code %s is recorded as used on the shop, but the drop refused its sale: %s",
                            code.display, result.refusal.message)  # fmt: skip
            return Redemption(text, refusal=result.refusal, result=result)
        sale = result.event if isinstance(result.event, SaleRecorded) else None
        if self.mark is not None and sale is not None:
            self.mark(f"code redeemed: {self.controller.spec.sku(code.sku_id).name} ({_short(code)})")
        return Redemption(text, sale, result=result, offline=not claimed)

    def _codes_step(self) -> float:
        while True:
            try:
                job = self._codes.get_nowait()
            except queue.Empty:
                return 0.5
            if isinstance(job, _SaleJob):
                try:
                    result = self.sell(job.sku_id, job.qty, job.origin, job.request)
                except Exception as exc:
                    if job.answer is not None:
                        job.answer.set_exception(exc)
                    raise
                if job.answer is not None:
                    job.answer.set_result(result)
                continue
            try:
                outcome = self.redeem(job.text, job.request)
            except Exception as exc:  # a bug: the caller hears a sentence, the worker logs it once
                if job.answer is not None:
                    refusal = Refusal(f"The code could not be redeemed ({exc}).")
                    job.answer.set_result(Redemption(job.text, refusal=refusal))
                raise
            if job.answer is not None:
                job.answer.set_result(outcome)
            else:
                for listener in self._listeners:
                    listener(outcome)

    # -- webhooks ------------------------------------------------------------------------------

    def webhook(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """A Shopify delivery, raw: the HMAC decides before anything is parsed. (status, JSON body)."""
        if self.sync is None:
            return 503, {"ok": False, "error": f"The shop is not connected: {self.problem}"}
        decision = self.sync.webhook(headers, body)
        ok = decision.http_status < 300
        body_out: dict[str, Any] = {"ok": ok, "verdict": str(decision.verdict)}
        if not ok:
            body_out["error"] = decision.reason
        return decision.http_status, body_out

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        if self.sync is None:
            return
        self.sync.start()
        self._worker = Worker("booth-shop-desk", self._codes_step, "Sticker codes and pooled sales").start()

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        if self.sync is not None:
            self.sync.stop()


def _short(code: StickerCode) -> str:
    return code.display[:4] + "…"


def add_shop(
    lifecycle: Lifecycle,
    config: BoothConfig,
    options: Options,
    controller: DropController,
    session: DropSession | None,
    mark: Callable[[str], object] | None = None,
    faults: FaultSeams | None = None,
) -> ShopPart | None:
    """The shop part for a drop with `[shop]` (None without one). `faults`: a rehearsal's fault seams; the
    shop client's transport is then the one the shop-unreachable drill cuts off."""
    settings = config.shop
    if settings is None:
        return None
    from booth.devices.shopify import ShopifyClient
    from booth.shop.credentials import codes_secret, default_credentials_path, load_credentials
    from booth.shop.sync import ShopSync

    part = ShopPart(settings, controller, None, mark=mark)
    try:
        credentials = load_credentials(settings.credentials_path)
    except CredentialsError as exc:
        part.problem = (f"Shop not connected: {exc}. The counter runs from the quota; stall sales wait in the "
                        "session log and reach the shop after a restart with working credentials.")  # fmt: skip
        log.error("%s", part.problem)
        lifecycle.add("shop", part.start, part.stop, part.standing)
        return part
    try:
        secret: bytes | None = codes_secret(settings.credentials_path, create=False)[0]
    except CredentialsError:
        secret = None  # redeeming says which file to copy; selling works without it
    rehearsal = options.session_kind == "rehearsal" or _session_kind(session) == "rehearsal"
    client = ShopifyClient(settings.domain, credentials, settings.api_version, base_url=settings.api_base,
                           timeout_s=2.0, transport=faults.shop_adapter() if faults is not None else None)  # fmt: skip

    def live() -> bool:
        return controller.view().phase in (Phase.LIVE, Phase.LAST_CALL)

    sync = ShopSync(settings, client, controller, {s.id: s.name for s in config.drop.skus},
                    webhook_secret=credentials.client_secret, codes_secret=secret,
                    booth_name=socket.gethostname() or "booth", rehearsal=rehearsal, is_live=live)  # fmt: skip
    sync.restore(controller.events())
    controller.on_applied(sync.on_drop_event)
    part.sync = sync
    where = settings.credentials_path or default_credentials_path()
    log.info("shop %s: %s, %d product(s), credentials from %s%s", settings.domain, settings.api_version,
             len(settings.skus), where, " — REHEARSAL: read only" if rehearsal else "")  # fmt: skip
    lifecycle.add("shop", part.start, part.stop, part.standing)
    return part


def _session_kind(session: DropSession | None) -> str | None:
    """A resumed session keeps the kind it began with (a rehearsal stays one without --rehearsal)."""
    if session is None:
        return None
    session_id = session.session_id
    try:
        row = session.log.call(lambda db: db.execute("SELECT kind FROM sessions WHERE id = ?",
                                                     (session_id,)).fetchone(), timeout=5.0)  # fmt: skip
    except Exception as exc:  # the log is in trouble: it says so itself; err on the side of a live drop
        log.warning("session kind not readable (%s)", exc)
        return None
    return str(row[0]) if row else None
