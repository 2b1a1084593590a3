"""Real servers on 127.0.0.1 for probe tests: healthy, slow, dropping, garbage, hanging, refusing."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.waiting import wait_until as shared_wait_until


class ModeServer:
    """A TCP server whose behaviour per connection is `mode`:

    http-ok      answers `HTTP/1.1 204`            http-500  answers `HTTP/1.1 503`
    http-slow    waits `delay_s`, then answers     close     accepts and closes at once
    garbage      sends bytes that are not HTTP     hang      accepts and never answers
    """

    def __init__(self, mode: str = "http-ok", delay_s: float = 0.3) -> None:
        self.mode = mode
        self.delay_s = delay_s
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._handlers: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, name="test-mode-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health?token=SECRET-TOKEN-123"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self._conns.append(conn)
            t = threading.Thread(target=self._handle, args=(conn,), name="test-mode-conn", daemon=True)
            self._handlers.append(t)
            t.start()

    def _handle(self, conn: socket.socket) -> None:
        mode = self.mode
        with contextlib.suppress(OSError):
            conn.settimeout(5)
            if mode == "close":
                conn.close()
                return
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            if mode == "hang":
                self._stop.wait(10)
                return
            if mode == "garbage":
                conn.sendall(b"\x00\x01garbage, not http at all\r\n\r\n")
            elif mode == "http-slow":
                self._stop.wait(self.delay_s)  # the server's own pace, not test synchronisation
                conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            elif mode == "http-500":
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        for c in self._conns:
            with contextlib.suppress(OSError):
                c.close()
        self._thread.join(5)
        for t in self._handlers:
            t.join(5)


def refused_port() -> int:
    """A port nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class FullBacklog:
    """A listener whose accept queue is full: further SYNs go unanswered, so connects time out."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(0)
        self.port = self._sock.getsockname()[1]
        self._fillers: list[socket.socket] = []
        for _ in range(8):  # bounded: the queue fills after one or two
            s = socket.socket()
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError, OSError):
                s.connect(("127.0.0.1", self.port))
            self._fillers.append(s)

    def close(self) -> None:
        for s in self._fillers:
            s.close()
        self._sock.close()


def wait_until(predicate, timeout_s: float = 5.0, what: str = "the condition"):
    """The shared wait (raises naming `what` on timeout), with this module's keyword."""
    return shared_wait_until(predicate, timeout_s, what)
