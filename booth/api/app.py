"""The control API's routes: one FastAPI app over the ports the composition root hands in.

Answers are JSON (`{"ok": true, …}` or `{"ok": false, "error": "a sentence"}`); the schema is at
/openapi.json. Every state-changing call is a POST with an `Idempotency-Key` header (any string of
1–200 visible ASCII characters, e.g. a UUID, new per intended action):

- the same key again, same body: the first answer again (header `Idempotent-Replayed: true`),
  nothing applied twice — also after a 504, and after Booth was killed and restarted;
- the same key with another body or on another endpoint: 422.

Codes: 200 done (for drop actions: on disk); 400 malformed (bad JSON, a wrong field, no key);
401 no or wrong token; 404 unknown route or product; 405 wrong method; 408 body too slow;
409 the drop refused (sold out, closed, stale stock, …); 413 body too large; 415 not JSON;
422 key reused for another request; 503 the part is not running or the log could not store it;
504 not confirmed on disk in time (it may still land: retry with the same key to find out).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as HttpRequest
from starlette.routing import Route

from booth import __version__
from booth.api import models
from booth.api.calls import CallReceipts
from booth.api.guard import RequestGuard
from booth.api.ports import ApiPorts
from booth.api.state import comparable, drop_state, full_state
from booth.api.stream import EventHub, sse
from booth.core.events import Request
from booth.core.failover import Lock
from booth.drop.controller import ActionResult
from booth.drop.receipts import Receipt
from booth.resources import resource

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
WEBHOOK_PATH = "/webhooks/shopify"
WEBHOOK_MAX_BODY_BYTES = 512 * 1024  # an order with many lines and notes; Shopify sends the whole resource
CODE_TIMEOUT_S = 8.0  # a code's claim at the shop is bounded (2 s) and the sale's commit (5 s)
BODY_TIMEOUT_S = 10.0
CLIP_TIMEOUT_S = 15.0
# Static, public (no data in them; the pages take the token from their #fragment).
PAGES = {"/remote": "remote.html", "/overlay": "overlay.html"}
FILES = {"/booth.js": (("web", "booth.js"), "text/javascript; charset=utf-8"),
         "/fonts/sans.ttf": (("fonts", "DejaVuSans-Bold.ttf"), "font/ttf"),
         "/fonts/mono.ttf": (("fonts", "DejaVuSansMono-Bold.ttf"), "font/ttf")}  # fmt: skip
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
                                "connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
}
LOCKS = {"auto": Lock.AUTO, "primary": Lock.PRIMARY, "secondary": Lock.SECONDARY}


class AsciiJSON(JSONResponse):
    """JSON with every non-ASCII character escaped: a lone surrogate in an echoed id cannot break it."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _error(status: int, error: str, headers: dict[str, str] | None = None) -> AsciiJSON:
    return AsciiJSON({"ok": False, "error": error}, status_code=status, headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": models.Error, "description": text}
    for code, text in {400: "malformed request or no Idempotency-Key", 401: "no or wrong token",
                       404: "unknown product", 409: "refused by the drop", 413: "body too large",
                       415: "body not JSON", 422: "Idempotency-Key reused for another request",
                       503: "not running, or not stored", 504: "not confirmed on disk in time"}.items()
}  # fmt: skip
KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", description="new per intended action")]


class _Asgi:
    """A plain ASGI app as a route endpoint (Starlette would wrap a bare function as a handler)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self._app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._app(scope, receive, send)


def build_app(ports: ApiPorts, token: Callable[[], str], port: Callable[[], int]) -> tuple[Any, EventHub]:
    """The ASGI app (the guard around FastAPI) and its event hub (stop it before the server)."""
    controller = ports.drop
    hub = EventHub(lambda: full_state(ports), comparable,
                   lambda: drop_state(controller.view(), controller.featured_sku, controller.spec.last_call_seconds))
    controller.on_applied(hub.publish_drop)
    calls = CallReceipts(ports.record_call, ports.recovered_calls)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        watcher = asyncio.get_running_loop().create_task(hub.run(), name="booth-api-state-watch")
        await asyncio.sleep(0)  # let the hub bind to this loop before the first request
        try:
            yield
        finally:
            hub.close()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    app = FastAPI(title="Booth control API", version=__version__, lifespan=lifespan, docs_url=None,
                  redoc_url=None, default_response_class=AsciiJSON)  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: HttpRequest, exc: RequestValidationError) -> Response:
        return _error(400, _validation_sentence(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: HttpRequest, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else "Bad request."
        if exc.status_code == 400:  # FastAPI could not parse the body (a 5,000-digit number, deep nesting…)
            detail = "Malformed request: the body is not JSON Booth can read (a number too long, nesting too deep?)."
        elif exc.status_code == 404:
            detail = "Not found: the endpoints are listed at /openapi.json."
        elif exc.status_code == 405:
            detail = "Method not allowed here (state-changing calls are POST; reads are GET)."
        return _error(exc.status_code, detail, exc.headers)

    # -- the two ways a keyed call is answered --------------------------------------------------

    Reply = Callable[[Receipt], dict[str, Any]]

    Act = Callable[[Request], ActionResult | Future[ActionResult]]  # a future: decided on the shop's worker

    async def drop_call(path: str, key: str | None, payload: models.Body, act: Act, reply: Reply) -> Response:
        request, problem = _request(path, key, payload)
        if problem is not None:
            return problem
        assert request is not None
        if calls.get(request.key) is not None:
            return _reused()
        acted = act(request)
        result = await asyncio.wrap_future(acted) if isinstance(acted, Future) else acted
        receipt = result.receipt
        assert receipt is not None
        if receipt.digest != request.digest:
            return _reused()
        if not await _settled(receipt, ports.commit_timeout_s):
            return _error(504, f"Not confirmed on disk within {ports.commit_timeout_s:g} s (is the disk full?). "
                          "It may still be recorded: send the same request with the same key to find out.")
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        if receipt.refusal is not None:
            return _error(409, receipt.refusal.message, headers)
        if receipt.failed is not None:
            return _error(503, f"Not recorded ({receipt.failed}): nothing was counted. Send it again.")
        return AsciiJSON(reply(receipt), headers=headers)

    async def other_call(path: str, key: str | None, payload: models.Body, action: str,
                         perform: Callable[[], Any]) -> Response:  # fmt: skip
        request, problem = _request(path, key, payload)
        if problem is not None:
            return problem
        assert request is not None
        if controller.receipt(request.key) is not None:
            return _reused()
        known = calls.get(request.key)
        if known is not None:
            if known.request.digest != request.digest:
                return _reused()
            await known.done.wait()
            if known.status is not None:
                return AsciiJSON(known.body, status_code=known.status, headers={"Idempotent-Replayed": "true"})
        call = calls.begin(request, action)
        try:
            status, body = await perform()
        except BaseException:
            calls.forget(call)
            raise
        if status == 503:  # the part is not running: nothing happened, a retry may succeed later
            calls.forget(call)
        else:
            calls.settle(call, status, body)
        return AsciiJSON(body, status_code=status)

    # -- reading ----------------------------------------------------------------------------------

    @app.get("/state", summary="Everything at once: the drop, the sources, the output")
    async def get_state() -> dict[str, Any]:
        return full_state(ports)

    @app.get("/events", summary="Server-Sent Events: a snapshot, then numbered deltas",
             response_class=StreamingResponse)  # fmt: skip
    async def events(
        after: Annotated[str | None, Query(max_length=40, description="stream:seq of the last message seen")] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=40)] = None,
    ) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            yield b"retry: 1000\n\n"
            async for message in hub.messages(last_event_id or after):
                yield sse(message)

        return StreamingResponse(body(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})  # fmt: skip

    # -- the drop -----------------------------------------------------------------------------------

    def known_sku(sku: str | None) -> Response | None:
        ids = [s.id for s in controller.spec.skus]
        if sku is not None and sku not in ids:
            return _error(404, f"Unknown product {sku!r}: the drop sells {', '.join(ids)}.")
        return None

    def sale_reply(receipt: Receipt) -> dict[str, Any]:
        event = receipt.event
        return {"ok": True, "sku": getattr(event, "sku_id", ""), "qty": getattr(event, "qty", 0),
                "left": receipt.left if receipt.left is not None else 0}  # fmt: skip

    def timer_reply(receipt: Receipt) -> dict[str, Any]:
        event = receipt.event
        kind = event.kind if event is not None else ""
        return {"ok": True, "event": kind, "deadline_wall": getattr(event, "deadline_wall", None)}

    @app.post("/sale", response_model=models.SaleOut, responses=ERRORS, summary="Sell (answered once on disk)")
    async def sale(key: KeyHeader = None, payload: models.SaleIn | None = None) -> Response:
        payload = payload or models.SaleIn()
        missing = known_sku(payload.sku)
        if missing is not None:
            return missing
        sku = payload.sku or controller.featured_sku
        shop = ports.shop
        if shop is not None and shop.confirms_first(sku):  # a shared pool: the shop takes the unit first
            return await drop_call("/sale", key, payload, lambda r: shop.sell_async(sku, payload.qty, "api", r),
                                   sale_reply)  # fmt: skip
        return await drop_call("/sale", key, payload,
                               lambda r: controller.sell(payload.sku, payload.qty, origin="api", request=r),
                               sale_reply)  # fmt: skip

    @app.post("/undo", response_model=models.SaleOut, responses=ERRORS, summary="Undo the most recent sale")
    async def undo(key: KeyHeader = None, payload: models.NoFields | None = None) -> Response:
        return await drop_call("/undo", key, payload or models.NoFields(),
                               lambda r: controller.undo_last_sale(request=r), sale_reply)  # fmt: skip

    @app.post("/timer/start", response_model=models.TimerOut, responses=ERRORS, summary="Start the offer")
    async def timer_start(key: KeyHeader = None, payload: models.NoFields | None = None) -> Response:
        return await drop_call("/timer/start", key, payload or models.NoFields(),
                               lambda r: controller.start_timer(request=r), timer_reply)  # fmt: skip

    @app.post("/timer/end", response_model=models.TimerOut, responses=ERRORS, summary="End the offer now")
    async def timer_end(key: KeyHeader = None, payload: models.NoFields | None = None) -> Response:
        return await drop_call("/timer/end", key, payload or models.NoFields(),
                               lambda r: controller.end_offer(request=r), timer_reply)  # fmt: skip

    @app.post("/timer/extend", response_model=models.TimerOut, responses=ERRORS,
              summary="Extend the offer (reopens an ended one)")  # fmt: skip
    async def timer_extend(key: KeyHeader = None, payload: models.ExtendIn | None = None) -> Response:
        payload = payload or models.ExtendIn()
        return await drop_call("/timer/extend", key, payload,
                               lambda r: controller.extend_timer(payload.seconds, request=r), timer_reply)  # fmt: skip

    @app.post("/stock", response_model=models.StockOut, responses=ERRORS,
              summary="Set a product's stock if it still is `expected` (compare-and-set)")  # fmt: skip
    async def stock(payload: models.StockIn, key: KeyHeader = None) -> Response:
        missing = known_sku(payload.sku)
        if missing is not None:
            return missing
        return await drop_call(
            "/stock", key, payload,
            lambda r: controller.adjust_stock(payload.sku, payload.stock, expected=payload.expected, request=r),
            lambda receipt: {"ok": True, "sku": payload.sku, "left": receipt.left or 0},
        )

    # -- the rest: the featured product, sources, clips, moments, viewers ----------------------------

    @app.post("/feature", response_model=models.Done, responses=ERRORS, summary="Show this product on the overlay")
    async def feature(payload: models.FeatureIn, key: KeyHeader = None) -> Response:
        missing = known_sku(payload.sku)
        if missing is not None:
            return missing

        async def perform() -> tuple[int, dict[str, Any]]:
            controller.feature(payload.sku)
            return 200, {"ok": True, "message": f"Featuring {controller.spec.sku(payload.sku).name}."}

        return await other_call("/feature", key, payload, "feature", perform)

    @app.post("/sources/lock", response_model=models.Done, responses=ERRORS,
              summary="auto, or hold the program on primary or secondary")  # fmt: skip
    async def sources_lock(payload: models.LockIn, key: KeyHeader = None) -> Response:
        async def perform() -> tuple[int, dict[str, Any]]:
            if ports.sources is None:
                return 503, {"ok": False, "error": "No sources here: this Booth runs without a picture."}
            ports.sources.set_lock(LOCKS[payload.lock])
            return 200, {"ok": True, "message": f"Source lock: {payload.lock}."}

        return await other_call("/sources/lock", key, payload, "lock", perform)

    @app.post("/sources/reconnect", response_model=models.Done, responses=ERRORS,
              summary="Reconnect every source that is not live, now")  # fmt: skip
    async def sources_reconnect(key: KeyHeader = None, payload: models.NoFields | None = None) -> Response:
        async def perform() -> tuple[int, dict[str, Any]]:
            if ports.sources is None:
                return 503, {"ok": False, "error": "No sources here: this Booth runs without a picture."}
            down = [s.role for s in ports.sources.statuses() if s.state.value != "live"]
            ports.sources.reconnect_now()
            text = f"Reconnecting {', '.join(down)}." if down else "Every source is live."
            return 200, {"ok": True, "message": text}

        return await other_call("/sources/reconnect", key, payload or models.NoFields(), "reconnect", perform)

    @app.post("/clip", response_model=models.ClipOut, responses=ERRORS, summary="Save the last seconds as an MP4")
    async def clip(key: KeyHeader = None, payload: models.ClipIn | None = None) -> Response:
        payload = payload or models.ClipIn()

        async def perform() -> tuple[int, dict[str, Any]]:
            if ports.output is None:
                return 503, {"ok": False, "error": "Clips need the program output, which is not running."}
            future = asyncio.wrap_future(ports.output.clip(payload.seconds))
            try:
                result = await asyncio.wait_for(asyncio.shield(future), CLIP_TIMEOUT_S)
            except TimeoutError:
                return 504, {"ok": False, "error": f"The clip was not written within {CLIP_TIMEOUT_S:g} s."}
            if result.path is None:
                return 409, {"ok": False, "error": result.message}
            return 200, {"ok": True, "path": str(result.path), "seconds": round(result.duration_s, 2)}

        return await other_call("/clip", key, payload, "clip", perform)

    @app.post("/moments", response_model=models.MomentOut, responses=ERRORS, summary="Mark this moment for a clip")
    async def moments(key: KeyHeader = None, payload: models.MomentIn | None = None) -> Response:
        payload = payload or models.MomentIn()

        async def perform() -> tuple[int, dict[str, Any]]:
            if ports.output is None:
                return 503, {"ok": False, "error": "Moments need the program output, which is not running."}
            moment = ports.output.mark(payload.reason)
            return 200, {"ok": True, "index": moment.index, "reason": moment.reason,
                         "stream_s": round(moment.stream_s, 3)}  # fmt: skip

        return await other_call("/moments", key, payload, "moment", perform)

    @app.post("/viewers", response_model=models.Done, responses=ERRORS,
              summary="Record the viewer count (the report's decision rate)")  # fmt: skip
    async def viewers(payload: models.ViewersIn, key: KeyHeader = None) -> Response:
        async def perform() -> tuple[int, dict[str, Any]]:
            if ports.viewers is None:
                return 503, {"ok": False, "error": "Viewer counts need the session log, which is not open."}
            ports.viewers(payload.count)
            return 200, {"ok": True, "message": f"{payload.count} viewers recorded."}

        return await other_call("/viewers", key, payload, "viewers", perform)

    # -- the shop: sticker codes, Shopify's webhook deliveries -----------------------------------------

    @app.post("/code", response_model=models.CodeOut, responses=ERRORS,
              summary="Redeem a sticker code: one sale of its product, once (answered once on disk)")  # fmt: skip
    async def code(payload: models.CodeIn, key: KeyHeader = None) -> Response:
        request, problem = _request("/code", key, payload)
        if problem is not None:
            return problem
        assert request is not None
        if ports.shop is None:
            return _error(503, "Sticker codes need a shop: this drop has no [shop] section.")
        if calls.get(request.key) is not None:
            return _reused()
        try:
            outcome = await asyncio.wait_for(asyncio.wrap_future(ports.shop.redeem_async(payload.code, request)),
                                             CODE_TIMEOUT_S)  # fmt: skip
        except TimeoutError:
            return _error(504, f"The code was not settled within {CODE_TIMEOUT_S:g} s. Send the same request "
                          "with the same key to find out.")  # fmt: skip
        result = outcome.result
        receipt = result.receipt if result is not None else None
        if receipt is not None and receipt.digest != request.digest:
            return _reused()
        if receipt is None:  # refused before the drop was asked (a typo, a code already used…): nothing kept
            return _error(409, outcome.message)
        if not await _settled(receipt, ports.commit_timeout_s):
            return _error(504, f"Not confirmed on disk within {ports.commit_timeout_s:g} s. Send the same request "
                          "with the same key to find out.")  # fmt: skip
        headers = {"Idempotent-Replayed": "true"} if result is not None and result.replayed else None
        if receipt.refusal is not None:
            return _error(409, receipt.refusal.message, headers)
        if receipt.failed is not None:
            return _error(503, f"Not recorded ({receipt.failed}): nothing was counted. Send it again.")
        event = receipt.event
        return AsciiJSON({"ok": True, "sku": getattr(event, "sku_id", ""), "qty": getattr(event, "qty", 0),
                          "left": receipt.left if receipt.left is not None else 0, "offline": outcome.offline},
                         headers=headers)  # fmt: skip

    async def webhook(request: HttpRequest) -> Response:
        """Authenticated by the delivery's HMAC (checked before parsing), not by the bearer token."""
        if ports.shop is None:
            return _error(404, "This Booth has no shop: the drop file has no [shop] section.")
        body = await request.body()
        status, answer = ports.shop.webhook(dict(request.headers), body)
        return AsciiJSON(answer, status_code=status)

    app.router.routes.append(Route(WEBHOOK_PATH, webhook, methods=["POST"]))

    # -- pages and metrics ----------------------------------------------------------------------------

    for path, name in PAGES.items():
        app.add_api_route(path, _page(name), methods=["GET"], include_in_schema=False, response_class=HTMLResponse)
    for path, (parts, media_type) in FILES.items():
        app.add_api_route(path, _file(parts, media_type), methods=["GET"], include_in_schema=False)
    if ports.metrics is not None:
        from prometheus_client import make_asgi_app

        app.router.routes.append(Route("/metrics", _Asgi(make_asgi_app(ports.metrics)), methods=["GET"]))

    guarded = RequestGuard(app, token, port, [*PAGES, *FILES], MAX_BODY_BYTES, BODY_TIMEOUT_S,
                           signed_paths={WEBHOOK_PATH: WEBHOOK_MAX_BODY_BYTES})  # fmt: skip
    return guarded, hub


def _page(name: str) -> Callable[[], Any]:
    async def page() -> HTMLResponse:
        return HTMLResponse(resource("web", name).read_text(encoding="utf-8"), headers=PAGE_HEADERS)

    return page


def _file(parts: tuple[str, ...], media_type: str) -> Callable[[], Any]:
    async def file() -> Response:
        return Response(resource(*parts).read_bytes(), media_type=media_type,
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})  # fmt: skip

    return file


def _request(path: str, key: str | None, payload: models.Body) -> tuple[Request | None, Response | None]:
    if key is None or not key.strip():
        return None, _error(400, "Every state-changing call needs an Idempotency-Key header (a new UUID per "
                                 "action; the same one when you retry it).")  # fmt: skip
    key = key.strip()
    if len(key) > 200 or not key.isascii() or not key.isprintable():
        return None, _error(400, "The Idempotency-Key must be 1–200 visible ASCII characters (a UUID is fine).")
    canonical = json.dumps(payload.model_dump(), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{path}\n{canonical}".encode("ascii")).hexdigest()[:32]
    return Request(key, digest), None


def _reused() -> Response:
    return _error(422, "This Idempotency-Key was already used for a different request: use a new key for a new action.")


async def _settled(receipt: Receipt, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def settled(_receipt: Receipt) -> None:
        loop.call_soon_threadsafe(lambda: done.done() or done.set_result(True))

    receipt.when_settled(settled)
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        return False
    return True


def _validation_sentence(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",)) or "body"
        if error.get("type") == "json_invalid":
            parts.append("the body is not valid JSON")
        else:
            parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "Malformed request: " + "; ".join(parts) + "."


__all__ = ["build_app"]
