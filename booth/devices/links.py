"""Does a link answer? A TCP connect to an ingest, an HTTP request to a ticketing link — for the
go-live gate in `booth check`. Every call has a timeout; the answer is a sentence, never a trace."""

from __future__ import annotations

import socket

import requests


def tcp_answers(host: str, port: int, timeout_s: float = 2.0) -> str | None:
    """None when something accepts a TCP connection there, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except TimeoutError:
        return f"no answer from {host}:{port} within {timeout_s:g} s"
    except socket.gaierror as exc:
        return f"host name {host!r} not found ({exc.strerror or exc})"
    except OSError as exc:
        return f"{host}:{port} {'refused the connection' if isinstance(exc, ConnectionRefusedError) else exc}"


def http_answers(url: str, timeout_s: float = 4.0) -> tuple[int | None, str | None]:
    """(status, None) when the page answers below 400; (status or None, why) otherwise."""
    try:
        response = requests.head(url, timeout=timeout_s, allow_redirects=True)
        if response.status_code in (405, 501):  # some shops answer HEAD with "not allowed": ask for the page
            response = requests.get(url, timeout=timeout_s, allow_redirects=True, stream=True)
            response.close()
    except requests.Timeout:
        return None, f"no answer within {timeout_s:g} s"
    except requests.RequestException as exc:
        return None, f"cannot reach it ({type(exc).__name__})"
    if response.status_code >= 400:
        return response.status_code, f"answers HTTP {response.status_code}"
    return response.status_code, None
