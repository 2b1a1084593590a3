"""Secrets reach a child process through an inherited pipe, never on its command line.

Every local user can read every process's command line (`ps`, /proc/<pid>/cmdline), so a stream key
or a password in an ffmpeg argument is a leak. Instead the secret goes into a pipe whose read end
the child inherits; its command line names only `/dev/fd/N`. Nothing touches the disk either.

How ffmpeg (Debian's 5.1) takes what it reads there:
- an output's options from a preset file: `-fpre /dev/fd/N` with `key=value` lines, any of the
  output's format or protocol options (the RTMP app and play path — the stream key —, SRT's
  passphrase and stream id), set before the output is opened;
- an input's whole URL from a concat script: `-f concat -safe 0 -i /dev/fd/N`, the script being
  `file '<url>'` plus `option key value` lines for the inner input.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from booth.core.redact import redact_url

# SRT's own options that carry secrets (ffmpeg's libsrt names); other query keys stay in the URL.
SRT_SECRETS = ("passphrase", "streamid")
MAX_PIPE_TEXT = 4096  # well under the pipe buffer: written in full before the child starts


class SecretPipe:
    """The read end of a pipe already holding `text`; pass `fd` to the child (`pass_fds`), then `close()`."""

    def __init__(self, text: str) -> None:
        data = text.encode("utf-8")
        if len(data) > MAX_PIPE_TEXT:
            raise ValueError("secret text too long for a pipe hand-off")
        read, write = os.pipe()
        try:
            os.write(write, data)
        finally:
            os.close(write)
        os.set_inheritable(read, True)
        self.fd = read

    @property
    def path(self) -> str:
        return f"/dev/fd/{self.fd}"

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def has_secret(url: str) -> bool:
    """True if the URL holds something that is masked when shown (a key, a password, a passphrase)."""
    return redact_url(url) != url


def split_output_secrets(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its secrets, and ffmpeg options that carry them (for an `-fpre` preset)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("rtmp", "rtmps"):
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) < 2:
            return url, {}
        playpath = segments[-1] + (f"?{parts.query}" if parts.query else "")
        bare = urlunsplit((parts.scheme, parts.netloc, "/", "", ""))
        return bare, {"rtmp_app": "/".join(segments[:-1]), "rtmp_playpath": playpath}
    if scheme == "srt":
        kept: list[tuple[str, str]] = []
        secrets: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() in SRT_SECRETS:
                secrets[key.lower()] = value
            else:
                kept.append((key, value))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), "")), secrets
    return url, {}


def preset_text(options: dict[str, str]) -> str:
    for key, value in options.items():
        if any(c in value for c in "\r\n") or "=" in key:
            raise ValueError(f"the {key} of an ingest URL cannot contain a line break")
    return "".join(f"{key}={value}\n" for key, value in options.items())


def concat_script(url: str, options: dict[str, str]) -> str:
    if any(c in url for c in "\r\n"):
        raise ValueError("a source URL cannot contain a line break")
    quoted = url.replace("'", "'\\''")  # the concat script's quoting: close, escaped quote, reopen
    lines = ["ffconcat version 1.0", f"file '{quoted}'", *(f"option {k} {v}" for k, v in options.items())]
    return "\n".join(lines) + "\n"
