"""Reachability probes without ICMP privileges: TCP connect timing and HTTP HEAD.

A probe never raises and never hangs longer than its timeouts (DNS is resolved separately
and cached, because the resolver ignores socket timeouts). Error texts are our own phrases:
exception messages may carry the URL, and a URL may carry a token.
"""

from __future__ import annotations

import http.client
import logging
import socket
import time
from collections.abc import Callable
from typing import Protocol

import requests

from booth.core.health.network import ProbeResult
from booth.core.health.settings import EndpointConfig

log = logging.getLogger(__name__)

DNS_CACHE_S = 60.0


class Probe(Protocol):
    name: str
    label: str  # redacted target

    def probe(self) -> ProbeResult: ...

    def close(self) -> None: ...


class _Resolver:
    def __init__(self, host: str, port: int, clock: Callable[[], float]) -> None:
        self.host, self.port, self._clock = host, port, clock
        self._addr: tuple[int, tuple[object, ...]] | None = None
        self._at = 0.0

    def resolve(self) -> tuple[int, tuple[object, ...]]:
        now = self._clock()
        if self._addr is None or now - self._at > DNS_CACHE_S:
            infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
            family, _, _, _, addr = infos[0]
            self._addr, self._at = (family, tuple(addr)), now
        return self._addr

    def forget(self) -> None:
        self._addr = None


class TcpProbe:
    """Time one TCP handshake (SYN → SYN-ACK) to host:port."""

    def __init__(self, name: str, host: str, port: int, timeout_s: float = 0.6, label: str | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.label = label or f"tcp://{host}:{port}"
        self.timeout_s = timeout_s
        self._clock = clock
        self._resolver = _Resolver(host, port, clock)

    def probe(self) -> ProbeResult:
        try:
            family, addr = self._resolver.resolve()
        except (OSError, UnicodeError):
            return ProbeResult(False, None, self._clock(), f"DNS lookup failed for {self._resolver.host}")
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout_s)
        start = self._clock()
        try:
            sock.connect(addr)
            return ProbeResult(True, self._clock() - start, self._clock(), detail="TCP connect")
        except TimeoutError:
            return ProbeResult(False, None, self._clock(), f"timed out after {self.timeout_s:g} s")
        except ConnectionRefusedError:
            now = self._clock()
            return ProbeResult(False, now - start, now, "connection refused")
        except OSError as exc:
            self._resolver.forget()
            return ProbeResult(False, None, self._clock(), _os_error_words(exc))
        finally:
            sock.close()

    def close(self) -> None:
        pass


class HttpProbe:
    """Time one HTTP HEAD on a keep-alive session with strict (connect, read) timeouts.

    Any answer below 500 counts as reachable (a 404 still proves the server is there);
    5xx, garbage and silence count as lost.
    """

    def __init__(self, name: str, url: str, timeout_s: float = 0.6, label: str | None = None,
                 clock: Callable[[], float] = time.monotonic, session: requests.Session | None = None) -> None:
        self.name = name
        self.url = url
        self.label = label or url
        self.timeout = (timeout_s, timeout_s)
        self._clock = clock
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = "booth-health-probe"

    def probe(self) -> ProbeResult:
        start = self._clock()
        try:
            response = self._session.head(self.url, timeout=self.timeout, allow_redirects=False)
            response.close()
        except requests.exceptions.ConnectTimeout:
            return ProbeResult(False, None, self._clock(), f"no connection within {self.timeout[0]:g} s")
        except requests.exceptions.ReadTimeout:
            return ProbeResult(False, None, self._clock(), f"no HTTP answer within {self.timeout[1]:g} s")
        except requests.exceptions.ConnectionError as exc:
            return ProbeResult(False, None, self._clock(), _requests_error_words(exc))
        except requests.exceptions.RequestException as exc:
            return ProbeResult(False, None, self._clock(), f"HTTP error ({type(exc).__name__})")
        now = self._clock()
        detail = f"HTTP {response.status_code}"
        if response.status_code >= 500:
            return ProbeResult(False, now - start, now, f"server error {detail}", detail)
        return ProbeResult(True, now - start, now, detail=detail)

    def close(self) -> None:
        self._session.close()


def make_probe(endpoint: EndpointConfig, clock: Callable[[], float] = time.monotonic) -> Probe:
    target = endpoint.probe_target
    if target.kind == "http":
        return HttpProbe(endpoint.name, target.url, endpoint.timeout_s, endpoint.label, clock)
    return TcpProbe(endpoint.name, target.host, target.port, endpoint.timeout_s, endpoint.label, clock)


def _os_error_words(exc: OSError) -> str:
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    name = {101: "network unreachable", 113: "no route to host", 111: "connection refused"}.get(exc.errno or 0)
    return name or f"network error ({type(exc).__name__}, errno {exc.errno})"


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (requests → urllib3 → http.client/socket)."""
    seen: list[BaseException] = []
    stack: list[object] = [exc]
    while stack and len(seen) < 16:
        cur = stack.pop()
        if not isinstance(cur, BaseException) or any(cur is s for s in seen):
            continue
        seen.append(cur)
        stack.extend([cur.__cause__, cur.__context__, getattr(cur, "reason", None), *cur.args])
    return seen


def _requests_error_words(exc: requests.exceptions.ConnectionError) -> str:
    causes = _causes(exc)
    names = {type(c).__name__ for c in causes}
    if any(isinstance(c, socket.gaierror) for c in causes) or "NameResolutionError" in names:
        return "DNS lookup failed"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "connection refused"
    if any(isinstance(c, http.client.BadStatusLine) for c in causes):  # incl. RemoteDisconnected
        return "the server closed the connection or sent garbage instead of HTTP"
    if any(isinstance(c, ConnectionResetError) for c in causes):
        return "connection reset"
    if "ProtocolError" in names:
        return "the server broke the HTTP exchange"
    return "cannot connect"
