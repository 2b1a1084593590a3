"""Secrets (stream keys, passwords, tokens) never reach a log or a screen in full."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

_SECRET_QUERY_KEYS = {"passphrase", "streamid", "key", "token", "password", "secret", "auth", "sig"}


def mask(secret: str) -> str:
    """Keep just enough to tell two keys apart: 'live_abc…yz9' style."""
    if len(secret) <= 6:
        return "•••"
    return f"{secret[:3]}…{secret[-2:]}"


def redact_url(url: str) -> str:
    """Hide the user password, secret query values and the stream key (last path part of RTMP)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return mask(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":•••@")
    path = parts.path
    if parts.scheme in ("rtmp", "rtmps") and path.count("/") >= 2:
        head, _, key = path.rpartition("/")
        path = f"{head}/{mask(key)}" if key else path
    query = "&".join(
        f"{k}={mask(v) if k.lower() in _SECRET_QUERY_KEYS else v}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


_URL_IN_TEXT = re.compile(r"\b(?:rtmps?|srt|rtsp|https?)://\S+")


def redact_text(text: str) -> str:
    """Redact every URL inside free text, e.g. an ffmpeg error line."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
