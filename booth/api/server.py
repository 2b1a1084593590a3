"""Runs an ASGI app with uvicorn on its own `booth-api` worker thread and event loop.

The listening socket is bound in `start()`, on the caller's thread: a port in use is an `OSError`
there (a sentence for the host), port 0 gets a free port at once, and connections that arrive
while the loop is still starting wait in the kernel's queue instead of being refused.

Limits, because the peers are whatever runs on the machine (or the LAN, with --api-host):
- a request's line and headers must arrive within `HEADER_TIMEOUT_S` of the connection opening
  (or of the previous answer) and fit in `MAX_HEADER_BYTES`: a client trickling a byte every few
  seconds is closed instead of holding a slot (uvicorn has no header timeout of its own);
- at most `MAX_CONNECTIONS` connections (uvicorn's `limit_concurrency`: 503 beyond it);
- idle keep-alive connections are closed after `KEEP_ALIVE_S`;
- the body limits live in `booth.api.guard`.
None of this touches the GUI thread: the loop is this thread's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from booth.runtime.worker import Worker

log = logging.getLogger(__name__)

THREAD_NAME = "booth-api"
HEADER_TIMEOUT_S = 5.0
MAX_HEADER_BYTES = 16 * 1024
MAX_CONNECTIONS = 128
KEEP_ALIVE_S = 5
START_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0
GRACEFUL_SHUTDOWN_S = 1


class HeaderDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for each request's line and headers."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the request line and headers are in
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # the next request on this connection gets its own deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
            self.transport.close()


class _Server(uvicorn.Server):
    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        # Booth owns SIGINT/SIGTERM (the GUI's and `booth serve`'s handlers); uvicorn must not.
        return contextlib.nullcontext()


class ApiServer:
    """`start()` binds and serves on a `booth-api` thread; `stop()` shuts it down within a bound."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0,
                 on_stopping: Callable[[], None] | None = None) -> None:  # fmt: skip
        self.host = host
        self._requested_port = port
        self._app = app
        self._on_stopping = on_stopping
        self._socket: socket.socket | None = None
        self._server: _Server | None = None
        self._started = threading.Event()
        self._worker = Worker(THREAD_NAME, self._serve, "Control API", join_timeout_s=STOP_TIMEOUT_S)
        self.port = port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ApiServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP named explicitly: asyncio turns Nagle off only on sockets that say so, and
        # with Nagle on, a kept-alive client waits 40 ms (a delayed ACK) for every answer's body.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(256)
        except OSError:
            sock.close()
            raise
        sock.set_inheritable(False)  # child processes (ffmpeg, the encoder) never hold our port
        self._socket = sock
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app, loop="asyncio", http=HeaderDeadlineH11, ws="none", lifespan="on", interface="asgi3",
            log_config=None, access_log=False, server_header=False, proxy_headers=False,
            limit_concurrency=MAX_CONNECTIONS, timeout_keep_alive=KEEP_ALIVE_S,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )  # fmt: skip
        self._server = _Server(config)
        self._worker.start()
        if not self._wait_started():
            self.stop()
            raise OSError(f"the control API did not start within {START_TIMEOUT_S:g} s")
        log.info("control API listening on %s", self.url)
        return self

    def _wait_started(self) -> bool:
        """Bounded: True once serving; False after START_TIMEOUT_S or as soon as the thread died."""
        for _ in range(int(START_TIMEOUT_S / 0.01)):
            if self._started.wait(0.01):
                return True
            if not self._worker.running:
                return self._started.is_set()
        return False

    def _serve(self) -> float:
        assert self._server is not None and self._socket is not None
        server = self._server
        try:
            with _mark_started(server, self._started):
                server.run(sockets=[self._socket])
        finally:
            self._worker.request_stop()  # a server runs once; a failure is logged by the worker
        return 0.0

    @property
    def problem(self) -> str | None:
        return self._worker.problem

    def stop(self) -> None:
        if self._on_stopping is not None:
            self._on_stopping()  # ends the event streams, so shutdown does not wait on them
        server = self._server
        if server is not None:
            server.should_exit = True
        if not self._worker.stop(STOP_TIMEOUT_S) and server is not None:
            server.force_exit = True
        if self._socket is not None:
            self._socket.close()
            self._socket = None


@contextlib.contextmanager
def _mark_started(server: uvicorn.Server, started: threading.Event) -> Iterator[None]:
    """Set `started` once uvicorn has run the app's startup (it flips `server.started`)."""
    original = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original(sockets=sockets)
        if server.started:
            started.set()

    server.startup = startup  # type: ignore[method-assign]
    try:
        yield
    finally:
        server.startup = original  # type: ignore[method-assign]
