"""Reading the session log with its own read-only connection (reports, `booth report --list`)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from booth.store.db import StoreError, connect_readonly
from booth.store.paths import db_path


@dataclass(frozen=True)
class SessionRow:
    id: int
    title: str
    kind: str
    config: dict[str, Any]
    started_wall: float
    ended_wall: float | None
    state: str


@dataclass(frozen=True)
class SessionSummary:
    id: int
    title: str
    kind: str
    state: str
    started_wall: float
    ended_wall: float | None
    events: int
    units_sold: int  # sold minus undone


@dataclass(frozen=True)
class EventRow:
    seq: int
    wall: float
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class SampleRow:
    wall: float
    metric: str
    n: int
    min: float
    max: float
    mean: float
    last: float


class SessionReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db: Database = connect_readonly(path)
            self._db.execute("SELECT 1 FROM sessions LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"The session log {path} cannot be read ({exc}).") from None

    @classmethod
    def open(cls, data_dir: Path) -> SessionReader:
        path = db_path(data_dir)
        if not path.exists():
            raise StoreError(
                f"There is no session log in {data_dir} yet: run a drop first, or point --data-dir "
                "at the folder that has one."
            )
        return cls(path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SessionReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def list_sessions(self) -> list[SessionSummary]:
        rows = self._db.query(
            "SELECT s.id, s.title, s.kind, s.state, s.started_wall, s.ended_wall, "
            "(SELECT COUNT(*) FROM events e WHERE e.session_id = s.id) AS events, "
            "(SELECT COALESCE(SUM(CASE e.kind WHEN 'sale' THEN 1 ELSE -1 END "
            "   * json_extract(e.payload, '$.qty')), 0) "
            " FROM events e WHERE e.session_id = s.id AND e.kind IN ('sale', 'undo')) AS units_sold "
            "FROM sessions s ORDER BY s.id"
        )
        return [SessionSummary(**row) for row in rows]

    def session(self, session_id: int | None = None) -> SessionRow:
        """One session; None means the latest live one (a rehearsal only when there is nothing else).
        A missing one is a `StoreError` saying what exists."""
        if session_id is None:
            rows = list(self._db.query("SELECT * FROM sessions ORDER BY kind = 'rehearsal', id DESC LIMIT 1"))
            if not rows:
                raise StoreError(f"The session log {self.path} has no sessions yet.")
        else:
            rows = list(self._db.query("SELECT * FROM sessions WHERE id = ?", [session_id]))
            if not rows:
                ids = [row["id"] for row in self._db.query("SELECT id FROM sessions ORDER BY id")]
                if not ids:
                    known = "there are no sessions yet"
                elif len(ids) == 1:
                    known = f"only session {ids[0]} exists"
                else:
                    known = f"sessions {ids[0]}–{ids[-1]} exist"
                raise StoreError(
                    f"There is no session {session_id} in {self.path} ({known}); `booth report --list` "
                    "shows them."
                )
        row = rows[0]
        return SessionRow(
            id=row["id"],
            title=row["title"],
            kind=row["kind"],
            config=json.loads(row["config"]),
            started_wall=row["started_wall"],
            ended_wall=row["ended_wall"],
            state=row["state"],
        )

    def events(self, session_id: int) -> list[EventRow]:
        return [
            EventRow(row["seq"], row["wall"], row["kind"], json.loads(row["payload"]))
            for row in self._db.query(
                "SELECT seq, wall, kind, payload FROM events WHERE session_id = ? ORDER BY seq", [session_id]
            )
        ]

    def samples(self, session_id: int) -> list[SampleRow]:
        return [
            SampleRow(**row)
            for row in self._db.query(
                "SELECT wall, metric, n, min, max, mean, last FROM health_samples "
                "WHERE session_id = ? ORDER BY wall, id",
                [session_id],
            )
        ]
