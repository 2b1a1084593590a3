"""Where the session log lives: the platform's user data folder, or ``--data-dir``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

from booth.store.db import DB_FILENAME, StoreError


def default_data_dir() -> Path:
    """e.g. ~/.local/share/booth on Linux, ~/Library/Application Support/booth on macOS."""
    return Path(platformdirs.user_data_dir("booth", appauthor=False))


def resolve_data_dir(data_dir: Path | str | None) -> Path:
    return Path(data_dir).expanduser() if data_dir else default_data_dir()


def ensure_writable(data_dir: Path) -> Path:
    """Create the folder if needed and prove we can write in it; otherwise a clear `StoreError`."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Booth cannot create its data folder {data_dir} ({exc.strerror or exc}). "
            "Pick a folder you can write to with --data-dir."
        ) from None
    if not data_dir.is_dir():
        raise StoreError(f"The data folder {data_dir} is a file, not a folder. Pick another with --data-dir.")
    try:
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise StoreError(
            f"Booth cannot write to its data folder {data_dir} ({exc.strerror or exc}), so no sale could "
            "be saved. Pick a folder you can write to with --data-dir."
        ) from None
    if not os.access(data_dir, os.W_OK):  # pragma: no cover - TemporaryFile already proved it
        raise StoreError(f"Booth cannot write to its data folder {data_dir}. Pick another with --data-dir.")
    return data_dir


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_FILENAME
