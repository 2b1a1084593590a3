"""Where the shop's secrets live: one TOML file only its owner can read, never the drop file.

Why a file and not the OS keyring: the market laptop is often a plain Linux box without a running
Secret Service (no GNOME keyring, no D-Bus session over SSH), CI has none, and a keyring entry cannot be
copied to the second booth of a market. A user-only file works the same everywhere, is checked like
ssh checks a private key (refused when group/others can read it), and the tech lead can copy it.

    ~/.config/booth/shop.toml   (platformdirs' user config folder; chmod 600)
    client_id = "…"             from the app's settings in the Shopify Dev Dashboard
    client_secret = "…"         the same page; also verifies webhooks
    codes_secret = "…"          signs sticker codes; `booth codes` adds one when missing
"""

from __future__ import annotations

import os
import secrets
import sys
import tomllib
from pathlib import Path

from platformdirs import user_config_dir

from booth.core.shop.settings import CredentialsError, ShopCredentials, parse_credentials, permission_problem


def default_credentials_path() -> Path:
    return Path(user_config_dir("booth", appauthor=False)) / "shop.toml"


def _read_private(path: Path) -> str:
    try:
        if sys.platform != "win32":
            problem = permission_problem(path.stat().st_mode, str(path))
            if problem:
                raise CredentialsError(problem)
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(
            f"{path} does not exist: create it with client_id and client_secret (chmod 600), see README "
            "'Selling from the shop'"
        ) from None
    except OSError as exc:
        raise CredentialsError(f"{path} cannot be read ({exc.strerror})") from None


def load_credentials(path: Path | None) -> ShopCredentials:
    where = path or default_credentials_path()
    return parse_credentials(_read_private(where), str(where))


def codes_secret(path: Path | None, create: bool = True) -> tuple[bytes, bool]:
    """The secret that signs sticker codes, and whether it was just made (then it was added to the file)."""
    where = path or default_credentials_path()
    text = _read_private(where) if where.exists() or not create else ""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsError(f"{where}: not valid TOML ({exc})") from None
    value = raw.get("codes_secret")
    if isinstance(value, str) and len(value) >= 32:
        return value.encode(), False
    if value is not None:
        raise CredentialsError(f"{where}: codes_secret must be at least 32 characters")
    if not create:
        raise CredentialsError(f"{where} has no codes_secret: run `booth codes` once to make one")
    new = secrets.token_hex(32)
    where.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(("" if not text or text.endswith("\n") else "\n") + f'codes_secret = "{new}"\n')
    return new.encode(), True
