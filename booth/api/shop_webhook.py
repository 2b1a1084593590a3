"""The shop webhook: online sales reach the drop over HTTP, answered only once they are on disk.

    POST /sale   {"sku": "tee-black", "qty": 1}
        200 {"ok": true, "sku": …, "qty": …, "left": 41}          committed to the session log
        409 {"ok": false, "error": "TEE / BLACK is sold out."}      the drop refused it
        400 {"ok": false, "error": "…"}                             malformed JSON or fields
        503 {"ok": false, "error": "Not recorded (…)"}              the log could not store it
        504 {"ok": false, "error": "…not confirmed within 5 s…"}    may still be committed: check /state
    GET /state   {"title": …, "phase": "live", "remaining_s": …, "units_sold": …,
                  "skus": {"tee-black": {"name": …, "left": 41, "initial": 50}}}

Bound to 127.0.0.1 unless told otherwise. A shop that retries after a 504 should read /state first:
there are no idempotency keys yet.
"""

from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from booth.core.drop import DropView
from booth.drop.commit_watch import CommitWatch
from booth.drop.controller import DropController

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
MAX_QTY = 10_000


def state_json(view: DropView) -> dict[str, Any]:
    return {
        "title": view.title,
        "phase": str(view.phase),
        "remaining_s": round(view.remaining_s, 3),
        "units_sold": view.units_sold,
        "skus": {s.id: {"name": s.name, "left": s.left, "initial": s.initial} for s in view.skus},
    }


class BadRequest(ValueError):
    pass


def parse_sale(body: bytes) -> tuple[str, int]:
    """(sku, qty) from a POST /sale body, or `BadRequest` with what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f'The body is not valid JSON ({exc}); send {{"sku": "…", "qty": 1}}.') from None
    if not isinstance(data, dict):
        raise BadRequest(f'The body must be a JSON object like {{"sku": "…", "qty": 1}}, got {type(data).__name__}.')
    unknown = sorted(set(data) - {"sku", "qty"})
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(unknown)}. Only sku and qty are accepted.")
    sku = data.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        raise BadRequest(f'"sku" must be a non-empty string, got {sku!r}.')
    qty = data.get("qty", 1)
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise BadRequest(f'"qty" must be a whole number, got {qty!r}.')
    if not 1 <= qty <= MAX_QTY:
        raise BadRequest(f'"qty" must be between 1 and {MAX_QTY}, got {qty}.')
    return sku.strip(), qty


class _Server(HTTPServer):
    """One named thread per request (a sale waiting on a full disk must not block GET /state)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], webhook: ShopWebhook) -> None:
        self.webhook = webhook
        self._request_threads: set[threading.Thread] = set()
        self._threads_lock = threading.Lock()
        self._counter = 0
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._threads_lock:
            self._counter += 1
            thread = threading.Thread(
                target=self._handle,
                args=(request, client_address),
                name=f"booth-shop-request-{self._counter}",
                daemon=True,
            )
            self._request_threads.add(thread)
        thread.start()

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            log.exception("shop webhook: request from %s failed", client_address)
        finally:
            self.shutdown_request(request)
            with self._threads_lock:
                self._request_threads.discard(threading.current_thread())

    def join_requests(self, timeout: float) -> None:
        with self._threads_lock:
            threads = list(self._request_threads)
        for thread in threads:
            thread.join(timeout)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that stalls mid-request is dropped
    protocol_version = "HTTP/1.1"
    server_version = "BoothShopWebhook"

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/state":
            self._reply(HTTPStatus.NOT_FOUND, {"ok": False, "error": "Not found: use GET /state or POST /sale."})
            return
        self._reply(HTTPStatus.OK, state_json(self.server.webhook.controller.view()))

    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/sale":
            self._reply(HTTPStatus.NOT_FOUND, {"ok": False, "error": "Not found: use POST /sale or GET /state."})
            return
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            self._reply(HTTPStatus.LENGTH_REQUIRED, {"ok": False, "error": "A Content-Length header is required."})
            return
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"ok": False, "error": f"The body is {length} bytes; a sale is at most {MAX_BODY_BYTES}."},
            )
            return
        body = self.rfile.read(length)
        status, answer = self.server.webhook.handle_sale(body)
        self._reply(status, answer)

    def _reply(self, status: HTTPStatus, answer: dict[str, Any]) -> None:
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("shop webhook %s: %s", self.address_string(), format % args)


class ShopWebhook:
    """`start()` serves on a `booth-shop-webhook` thread; `close()` stops and joins it."""

    def __init__(
        self,
        controller: DropController,
        watch: CommitWatch,
        host: str = "127.0.0.1",
        port: int = 0,
        commit_timeout_s: float = 5.0,
    ) -> None:
        self.controller = controller
        self._watch = watch
        self._commit_timeout_s = commit_timeout_s
        self._server = _Server((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="booth-shop-webhook", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def start(self) -> ShopWebhook:
        self._thread.start()
        log.info("shop webhook listening on %s", self.url)
        return self

    def close(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._server.shutdown()  # the serve_forever loop's own stop event
            self._thread.join(timeout)
        self._server.server_close()
        self._server.join_requests(timeout)

    def handle_sale(self, body: bytes) -> tuple[HTTPStatus, dict[str, Any]]:
        try:
            sku, qty = parse_sale(body)
        except BadRequest as exc:
            return HTTPStatus.BAD_REQUEST, {"ok": False, "error": str(exc)}
        result = self.controller.sell(sku, qty, origin="shop")
        if result.refusal is not None:
            return HTTPStatus.CONFLICT, {"ok": False, "error": result.refusal.message}
        assert result.event is not None
        outcome = self._watch.wait(result.event, self._commit_timeout_s)
        if outcome is None:
            return HTTPStatus.GATEWAY_TIMEOUT, {
                "ok": False,
                "error": (
                    f"The sale was not confirmed within {self._commit_timeout_s:g} s (is the disk full?). "
                    "It may still be recorded: check GET /state before sending it again."
                ),
            }
        if not outcome.committed:
            return HTTPStatus.SERVICE_UNAVAILABLE, {
                "ok": False,
                "error": f"Not recorded ({outcome.reason}): the sale was not counted.",
            }
        left = self.controller.view().sku(sku).left
        return HTTPStatus.OK, {"ok": True, "sku": sku, "qty": qty, "left": left}
