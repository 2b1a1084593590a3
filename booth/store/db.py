"""Opening the session database: durability settings, schema migrations, setting a bad file aside.

Durability: WAL journal + ``synchronous=FULL``. A sale is shown on the overlay only once it is
committed, so a committed sale must survive a power cut, not just a crash of Booth. In WAL mode
``synchronous=NORMAL`` survives an application crash but "a transaction committed ... might roll back
following a power loss" (sqlite.org/pragma.html#pragma_synchronous); FULL syncs the WAL on every
commit. Measured cost on ext4: ~0.6 ms per committed event, versus ~0.08 ms with NORMAL — nothing at
live-drop rates. On macOS ``fsync`` does not flush the drive cache, so ``fullfsync`` is turned on too.
``synchronous`` is a per-connection setting, so `connect` sets it on every open.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

log = logging.getLogger(__name__)

DB_FILENAME = "booth.sqlite3"
BUSY_TIMEOUT_S = 5.0


class StoreError(Exception):
    """Something about the session log the user has to know about, as one plain sentence."""


# -- schema ------------------------------------------------------------------------------------


def _v1(db: Database) -> None:
    db.table("sessions").create(
        {
            "id": int,
            "title": str,
            "kind": str,  # drop | rehearsal | live
            "config": str,  # JSON snapshot of the drop config (secrets redacted)
            "started_wall": float,
            "ended_wall": float,
            "state": str,  # open | closed
        },
        pk="id",
        not_null={"title", "kind", "config", "started_wall", "state"},
    )
    db.table("events").create(
        {
            "id": int,
            "session_id": int,
            "seq": int,  # 1, 2, 3 … per session, in commit order
            "wall": float,  # wall-clock time of the event (s since the epoch)
            "kind": str,  # a drop event kind (sale, undo, …) or one of booth.store.kinds
            "payload": str,  # JSON
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "seq", "wall", "kind", "payload"},
    )
    db.table("events").create_index(["session_id", "seq"], unique=True)
    db.table("events").create_index(["session_id", "kind"])
    db.table("health_samples").create(
        {
            "id": int,
            "session_id": int,
            "wall": float,  # start of the downsampling bucket
            "metric": str,  # see booth.store.kinds.HEALTH_METRICS
            "n": int,
            "min": float,
            "max": float,
            "mean": float,
            "last": float,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "wall", "metric", "n", "min", "max", "mean", "last"},
    )
    db.table("health_samples").create_index(["session_id", "metric", "wall"])


def _v2(db: Database) -> None:
    """Idempotency keys stored with their events: a retried request finds what it produced, also
    after a crash. One key per session at most: the index refuses a second event for the same key."""
    db.execute("ALTER TABLE events ADD COLUMN request_key TEXT")  # the caller's Idempotency-Key
    db.execute("ALTER TABLE events ADD COLUMN request_digest TEXT")  # what that request asked (a hash)
    db.execute(
        "CREATE UNIQUE INDEX idx_events_request_key ON events (session_id, request_key) "
        "WHERE request_key IS NOT NULL"
    )


# Append only: migration i takes the schema from user_version i to i + 1.
MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: Database) -> int:
    """Bring the schema up to `SCHEMA_VERSION`, one transaction per step; returns the version."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The session log was written by a newer Booth (schema {version}, this one reads up to "
            f"{SCHEMA_VERSION}). Update Booth or pick another folder with --data-dir."
        )
    for step in range(version, SCHEMA_VERSION):
        with db.atomic():
            MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {step + 1}")
        log.info("session log schema migrated to version %d", step + 1)
    return SCHEMA_VERSION


# -- connections -------------------------------------------------------------------------------


def connect(path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Database:
    """A writing connection with the durability settings above (call from the thread that uses it)."""
    conn = sqlite3.connect(str(path), timeout=busy_timeout_s)
    db = Database(conn)
    db.enable_wal()
    db.execute("PRAGMA synchronous=FULL")
    if sys.platform == "darwin":
        db.execute("PRAGMA fullfsync=ON")
    db.execute("PRAGMA foreign_keys=ON")
    return db


def connect_readonly(path: Path) -> Database:
    """A reading connection; readers never block the writer in WAL mode."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    return Database(conn)


def check_openable(path: Path, lock_timeout_s: float) -> str | None:
    """None if the database opens, passes a quick integrity check and can take the write lock.

    Otherwise a short reason: "it is not a valid database (…)" or "another program holds it locked".
    A missing file is fine (it will be created).
    """
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(str(path), timeout=lock_timeout_s, isolation_level=None)
    except sqlite3.Error as exc:
        return f"it cannot be opened ({exc})"
    try:
        row = conn.execute("PRAGMA quick_check(1)").fetchone()
        if row is None or row[0] != "ok":
            return f"it is damaged (integrity check: {row[0] if row else 'no answer'})"
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return None
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return "another program holds it locked (is a second Booth running?)"
        return f"it is not a valid database ({exc})"
    except sqlite3.DatabaseError as exc:
        return f"it is not a valid database ({exc})"
    finally:
        conn.close()


def move_aside(path: Path, why: str, now_wall: float | None = None) -> Path:
    """Rename the database and its -wal/-shm companions to `<name>.<why>-YYYYmmdd-HHMMSS`.

    The WAL must travel with its database: left behind, SQLite could apply stale frames to the
    fresh file created in its place.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now_wall if now_wall is not None else time.time()))
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    counter = 1
    while target.exists():
        counter += 1
        target = path.with_name(f"{path.name}.{why}-{stamp}-{counter}")
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            os.replace(companion, target.with_name(target.name + suffix))
    os.replace(path, target)
    return target
