"""The API's bearer token: one per data folder, created on first use, readable by this user only.

It lives beside the session log (`api-token`), so a phone paired with one booth's folder cannot
drive another; `booth api token` prints it, the tech-lead view shows it masked. The file is
created with mode 0600 in one step (never world-readable, not even for an instant), and a file
that other users can read is refused with a sentence saying how to fix it.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from pathlib import Path

TOKEN_FILENAME = "api-token"
TOKEN_BYTES = 32  # 256 bits, urlsafe base64: 43 characters


class TokenError(Exception):
    """The token file is unusable, as a sentence for the user."""


def token_path(data_dir: Path) -> Path:
    return Path(data_dir) / TOKEN_FILENAME


def load_or_create_token(data_dir: Path) -> str:
    """The folder's token; a new random one is written (0600) if there is none yet."""
    path = token_path(data_dir)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another Booth on this folder made it first: use that one
        return _read(path)
    except OSError as exc:
        raise TokenError(f"The API token cannot be written to {path} ({exc.strerror or exc}).") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return token


def _read(path: Path) -> str:
    info = path.stat()
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError(
            f"The API token file {path} can be read by other users (mode {stat.S_IMODE(info.st_mode):o}). "
            f"Run: chmod 600 {path}"
        )
    token = path.read_text(encoding="ascii").strip()
    if len(token) < 32:
        raise TokenError(f"The API token file {path} is damaged (too short). Delete it: a new token is made.")
    return token


def same_token(given: str, token: str) -> bool:
    """Constant-time comparison: the answer's timing says nothing about how much was right."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("ascii"))
