"""One Booth per data folder: a lock file held for the life of the process.

A second Booth on the same folder would resume the first one's live session ("after a crash")
and the first would then fail every sale. The lock is an OS file lock (`flock`), so it is released
by the kernel when the holder dies — even by kill -9 — and a stale file never blocks a restart.
The file names its holder (PID, start time, command) so the second process can say who it is.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import IO

from booth.store.db import StoreError
from booth.store.paths import ensure_writable

LOCK_FILENAME = "booth.lock"


class FolderInUse(StoreError):
    """Another Booth holds the data folder; the message names it."""


class InstanceLock:
    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILENAME
        self._file: IO[str] | None = None

    def acquire(self) -> InstanceLock:
        """Take the lock or raise `FolderInUse` naming the holder (never waits); a folder that cannot
        be used raises `StoreError` saying why."""
        ensure_writable(self.path.parent)
        try:
            file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the life of the process
        except OSError as exc:
            raise StoreError(f"Booth cannot create its lock file {self.path} ({exc.strerror or exc}).") from None
        try:
            _lock(file)
        except OSError:
            file.seek(0)
            holder = _describe(file.read())
            file.close()
            raise FolderInUse(
                f"Another Booth is already using the data folder {self.path.parent} ({holder}). "
                "Quit it first, or pick another folder with --data-dir."
            ) from None
        file.seek(0)
        file.truncate()
        json.dump({"pid": os.getpid(), "started": time.time(), "command": " ".join(sys.argv[:2])}, file)
        file.flush()
        self._file = file
        return self

    def release(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.seek(0)
                file.truncate()
            file.close()  # closing drops the lock


def _describe(text: str) -> str:
    try:
        holder = json.loads(text)
        started = time.strftime("%H:%M:%S", time.localtime(float(holder["started"])))
        return f"PID {int(holder['pid'])}, started {started}"
    except (ValueError, KeyError, TypeError):
        return "its PID is unknown"


if sys.platform == "win32":  # pragma: no cover - Booth's desktop target is Linux; kept honest elsewhere
    import msvcrt

    def _lock(file: IO[str]) -> None:
        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(file: IO[str]) -> None:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
