"""The gate every request passes before any route sees it (a plain ASGI middleware: no per-request task).

In this order, so a caller learns nothing it is not entitled to:
1. Host must name this server by IP address or `localhost`, with our port — a DNS name that an
   attacker's page re-pointed at 127.0.0.1 (DNS rebinding) is refused: 400.
2. Origin, when a browser sends one, must be this server's own origin, and Sec-Fetch-Site must not
   say cross-site — a page from elsewhere cannot drive Booth even without reading the answer: 403.
3. `Authorization: Bearer <token>`, compared in constant time; only the static pages (the phone
   remote and the overlay, which carry no data and take the token from their URL's #fragment) are
   served without it: 401.
4. A body-carrying method must send `application/json` (a cross-site form or text/plain POST never
   can): 415. An empty POST without a Content-Type is allowed (an action without fields).
5. The body is read here, at most `max_body` bytes (413) within `body_timeout_s` (408), so a route
   never waits on a slow client and a huge body never reaches the JSON parser.

Signed paths (Shopify's webhook deliveries) are the exception to 1–4: Shopify holds no bearer token and
comes through a tunnel or relay under its own host name, so the route authenticates each delivery by its
HMAC over the raw body instead, before anything is parsed. Their bodies are still capped (their own
limit: an order is bigger than a control call) and must arrive in time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from booth.api.token import same_token

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD"})
Refusal = tuple[int, str, list[tuple[bytes, bytes]]]  # status, sentence, extra headers


def host_allowed(host: str, port: int) -> bool:
    """`127.0.0.1:8765`, `[::1]:8765`, `192.168.1.20:8765`, `localhost:8765` — never a DNS name."""
    name, sep, given_port = host.rpartition(":")
    if not sep or given_port != str(port):
        return False
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name.lower() == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        token: Callable[[], str],
        port: Callable[[], int],
        public_paths: Iterable[str],
        max_body: int,
        body_timeout_s: float,
        signed_paths: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self._signed = dict(signed_paths or {})  # path → its body limit; authenticated by the route (HMAC)
        self._token = token
        self._port = port
        self._public = frozenset(public_paths)
        self._max_body = max_body
        self._body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, list[bytes]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, []).append(value)
        signed = scope["method"] == "POST" and scope["path"] in self._signed
        refusal = None if signed else self._refusal(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self._signed[scope["path"]] if signed else self._max_body
        body = await self._read_body(headers, receive, send, limit)
        if body is None:
            return
        await self.app(scope, _replay(body, receive), send)

    def _refusal(self, scope: Scope, headers: dict[bytes, list[bytes]]) -> Refusal | None:
        hosts = headers.get(b"host", [])
        host = hosts[0].decode("latin-1") if len(hosts) == 1 else ""
        port = self._port()
        if not host_allowed(host, port):
            return 400, ("Host not allowed: call Booth by its IP address or localhost, with its port "
                         f"(http://127.0.0.1:{port})."), []  # fmt: skip
        origins = headers.get(b"origin")
        if origins is not None and [o.decode("latin-1") for o in origins] != [f"http://{host}"]:
            return 403, "Cross-origin requests are refused: only Booth's own pages may call it from a browser.", []
        site = headers.get(b"sec-fetch-site", [b"none"])[0]
        if site not in (b"same-origin", b"none"):
            return 403, "Cross-site requests are refused: only Booth's own pages may call it from a browser.", []
        if scope["method"] in READ_METHODS and scope["path"] in self._public:
            return None
        auth = headers.get(b"authorization", [])
        given = auth[0].decode("latin-1") if len(auth) == 1 else ""
        scheme, _, credentials = given.partition(" ")
        if scheme.lower() != "bearer" or not same_token(credentials.strip(), self._token()):
            message = ("A valid token is required: send 'Authorization: Bearer <token>' "
                       "(booth api token prints it)." if not given else "The token is wrong.")  # fmt: skip
            return 401, message, [(b"www-authenticate", b'Bearer realm="booth"')]
        if scope["method"] in BODY_METHODS:
            types = headers.get(b"content-type")
            lengths = headers.get(b"content-length", [])
            empty = lengths in ([], [b"0"]) and b"transfer-encoding" not in headers  # HTTP: no length, no body
            if types is None and not empty:
                return 415, "Send the body as JSON (Content-Type: application/json).", []
            if types is not None and not _is_json(types):
                kind = types[0].decode("latin-1")[:60]
                return 415, f"Send the body as JSON (Content-Type: application/json), not {kind}.", []
        return None

    async def _read_body(self, headers: dict[bytes, list[bytes]], receive: Receive, send: Send,
                         limit: int) -> bytes | None:  # fmt: skip
        lengths = headers.get(b"content-length", [])
        if lengths and lengths[0].isdigit() and int(lengths[0]) > limit:
            await _answer(send, 413, f"The body is {int(lengths[0])} bytes; Booth takes at most {limit}.")
            return None
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self._body_timeout_s
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                await _answer(send, 408, f"The body did not arrive within {self._body_timeout_s:g} s.")
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, 413, f"The body is over {limit} bytes, the most Booth takes.")
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _is_json(types: list[bytes]) -> bool:
    if len(types) != 1:
        return False
    media = types[0].split(b";", 1)[0].strip().lower()
    return media == b"application/json"


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would say it

    return replayed


async def _answer(send: Send, status: int, error: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"ok": False, "error": error}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               *(extra or [])]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
