"""Opening the session log at start: set a bad database aside, resume the open session or begin one.

The one call an app makes::

    opened = open_session_log(data_dir, config)          # may raise StoreError (show its text)
    controller = DropController(opened.spec, clock, journal=opened.log)
    controller.replay(opened.recovered_events)             # same stock, deadline and phase as before
    for line in opened.messages: show(line)                # set-aside database, resumed drop …
    ...
    opened.log.close()                                     # on quit (after end_session() if the drop is over)

`peek_open_session(data_dir)` tells a UI, before that call, whether there is a drop to offer resuming.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from booth.core.config import BoothConfig
from booth.core.drop import DropSpec, spec_from_dict
from booth.core.event_kinds import EVENT_TYPES, event_from_dict
from booth.core.events import DropEvent, Request
from booth.core.plan import plan_to_dict
from booth.store import kinds
from booth.store.db import StoreError, check_openable, connect_readonly, move_aside
from booth.store.paths import db_path, ensure_writable, resolve_data_dir
from booth.store.session_log import SessionLog

log = logging.getLogger(__name__)

SESSION_KINDS = ("drop", "rehearsal", "live")


@dataclass(frozen=True)
class OpenSessionInfo:
    id: int
    title: str
    kind: str
    started_wall: float
    events: int
    last_wall: float | None
    sales: int = 0  # sales not undone: what the host remembers selling


@dataclass
class OpenedSession:
    """What `open_session_log` hands back; `log` is the controller's journal."""

    log: SessionLog
    session_id: int
    spec: DropSpec  # the drop to run: the resumed session's own snapshot, else the config's
    recovered_events: list[DropEvent]  # committed drop events to replay, oldest first ([] if new)
    resumed: bool
    db_path: Path
    messages: list[str] = field(default_factory=list)  # plain sentences for the host
    # The control API's other answered calls (clip, lock, …), each with its key: a retry after the
    # restart gets the same answer. Drop events carry their own keys (`DropEvent.request`).
    recovered_calls: list[RecoveredCall] = field(default_factory=list)
    good_news: list[str] = field(default_factory=list)  # those of `messages` that report a success (a resume)
    kind: str = "drop"  # drop | rehearsal | live: a resumed session keeps the kind it was begun with


@dataclass(frozen=True)
class RecoveredCall:
    request: Request
    answer: dict[str, Any]  # the `api_call` record's payload: {"action", "status", "body"}


# -- config snapshots ---------------------------------------------------------------------------


def config_snapshot(config: BoothConfig, spec: DropSpec | None = None) -> dict[str, Any]:
    """The config as it was when the session began; source URLs are redacted (no stream keys).
    `spec`: the drop as this session runs it (a rehearsal's plan is re-timed), default the config's."""
    spec = spec or config.drop
    drop = asdict(spec)
    if spec.plan is not None:
        drop["plan"] = plan_to_dict(spec.plan)
    return {
        "drop": drop,
        "file_sha256": config.file_sha256,
        "corner": str(config.corner),
        "program": asdict(config.program),
        "primary": config.primary.label,
        "secondary": config.secondary.label if config.secondary else None,
        "path": str(config.path) if config.path else None,
    }


def spec_from_snapshot(snapshot: dict[str, Any]) -> DropSpec:
    return spec_from_dict(snapshot["drop"])


# -- opening ----------------------------------------------------------------------------------


def peek_open_session(data_dir: Path | str | None) -> OpenSessionInfo | None:
    """The session a crash or quit left open, if any (read-only; never raises on a bad file)."""
    path = db_path(resolve_data_dir(data_dir))
    if not path.exists():
        return None
    try:
        db = connect_readonly(path)
        try:
            return _find_open(db)
        finally:
            db.close()
    except Exception as exc:  # a damaged file is dealt with by open_session_log
        log.info("no open session readable in %s: %s", path, exc)
        return None


def open_session_log(
    data_dir: Path | str | None,
    config: BoothConfig,
    kind: str = "drop",
    resume: bool = True,
    on_warning: Callable[[str], None] | None = None,
    lock_timeout_s: float = 2.0,
    wall: Callable[[], float] = time.time,
) -> OpenedSession:
    """Open the session log in `data_dir` (None: the platform's user data folder).

    - A damaged or locked database is renamed aside with a timestamp and Booth starts a new one;
      `messages` says so.
    - With `resume`, an open session (left by a crash or a quit mid-drop) is resumed: its drop
      events come back in `recovered_events` and an ``incident`` event is logged. Without it, the
      open session is closed and a new one begins.
    Raises `StoreError` (a sentence for the user) if the folder is not writable or the log was
    written by a newer Booth.
    """
    if kind not in SESSION_KINDS:
        raise ValueError(f"session kind must be one of {', '.join(SESSION_KINDS)}, got {kind!r}")
    folder = ensure_writable(resolve_data_dir(data_dir))
    path = db_path(folder)
    messages: list[str] = []
    session_log = _start_log(path, messages, on_warning, lock_timeout_s, wall)
    try:
        return _open_session(session_log, path, config, kind, resume, messages, wall)
    except BaseException:
        session_log.close()
        raise


def _start_log(
    path: Path,
    messages: list[str],
    on_warning: Callable[[str], None] | None,
    lock_timeout_s: float,
    wall: Callable[[], float],
) -> SessionLog:
    problem = check_openable(path, lock_timeout_s)
    if problem is not None:
        _set_aside(path, problem, messages)
    try:
        return SessionLog(path, on_warning=on_warning, wall=wall).start()
    except StoreError as exc:
        if "newer Booth" in str(exc) or not path.exists():
            raise
        # Passed the quick check but still cannot be used: set it aside too, once.
        _set_aside(path, str(exc), messages)
        return SessionLog(path, on_warning=on_warning, wall=wall).start()


def _set_aside(path: Path, problem: str, messages: list[str]) -> None:
    why = "locked" if "locked" in problem else "damaged"
    try:
        aside = move_aside(path, why)
    except OSError as exc:
        raise StoreError(
            f"The session log {path} cannot be used ({problem}) and could not be moved aside "
            f"({exc.strerror or exc}). Close the program using it or pick another folder with --data-dir."
        ) from None
    message = (
        f"The session log {path} could not be used: {problem}. It was kept as {aside.name} "
        "and Booth started a new, empty log."
    )
    log.warning("%s", message)
    messages.append(message)


def _open_session(
    session_log: SessionLog,
    path: Path,
    config: BoothConfig,
    kind: str,
    resume: bool,
    messages: list[str],
    wall: Callable[[], float],
) -> OpenedSession:
    # Reads first, writes queued after them: on a full disk the reads still answer and the writes
    # wait in memory, so start-up never waits on the disk.
    found = session_log.call(_find_open)
    if found is not None and resume:
        return _resume(session_log, path, found, config, messages, wall)
    session_id = session_log.next_session_id()
    news: list[str] = []
    if found is not None:
        session_log.submit(lambda db: _close_abandoned(db, found))
        news.append(f"The unfinished drop '{found.title}' (session {found.id}) was closed without resuming.")
        messages.extend(news)
    # A rehearsal sells a shadow of the stock, marked as such, and runs the plan's segments back to back from now.
    spec = config.drop.as_rehearsal(wall()) if kind == "rehearsal" else config.drop
    session_log.begin_session(config.drop.title, kind, config_snapshot(config, spec), session_id)
    log.info("session %d begun: %s (%s)", session_id, config.drop.title, kind)
    return OpenedSession(session_log, session_id, spec, [], False, path, messages, good_news=news, kind=kind)


def _resume(
    session_log: SessionLog,
    path: Path,
    found: OpenSessionInfo,
    config: BoothConfig,
    messages: list[str],
    wall: Callable[[], float],
) -> OpenedSession:
    rows: list[tuple[str, str, str | None, str | None]] = session_log.call(
        lambda db: db.execute(
            "SELECT kind, payload, request_key, request_digest FROM events WHERE session_id = ? ORDER BY seq",
            (found.id,),
        ).fetchall()
    )
    last_seq: int = session_log.call(
        lambda db: db.execute("SELECT MAX(seq) FROM events WHERE session_id = ?", (found.id,)).fetchone()[0] or 0
    )
    config_json: str = session_log.call(
        lambda db: db.execute("SELECT config FROM sessions WHERE id = ?", (found.id,)).fetchone()[0]
    )
    spec = spec_from_snapshot(json.loads(config_json))
    if found.kind == "rehearsal" and not spec.rehearsal:  # logged before rehearsals were marked in the spec
        spec = replace(spec, rehearsal=True)
    events: list[DropEvent] = []
    calls: list[RecoveredCall] = []
    unreadable = 0
    last_kind = None
    for row_kind, payload, key, digest in rows:
        last_kind = row_kind
        request = Request(key, digest or "") if key is not None else None
        if row_kind == kinds.API_CALL and request is not None:
            try:
                calls.append(RecoveredCall(request, json.loads(payload)))
            except ValueError:
                unreadable += 1
            continue
        if row_kind not in EVENT_TYPES:
            continue
        try:
            events.append(event_from_dict(json.loads(payload), request))
        except (ValueError, TypeError, KeyError):
            unreadable += 1
    now = wall()
    down_s = max(0.0, now - (found.last_wall or found.started_wall))
    crashed = last_kind != kinds.SHUTDOWN
    what = "recovered after crash" if crashed else "resumed after restart"
    sales = sum(1 for e in events if e.kind == "sale") - sum(1 for e in events if e.kind == "undo")
    message = (
        f"Resumed the drop '{spec.title}' {'after a crash' if crashed else 'after a restart'}: "
        f"{_count(sales, 'sale')} replayed, same stock and deadline (Booth was down for {down_s:.0f} s)."
    )
    if unreadable:
        message += f" {unreadable} unreadable events were skipped."
    if spec.title != config.drop.title:
        message += f" (The drop file now says '{config.drop.title}'; end this drop to start that one.)"
    session_log.resume_session(found.id, last_seq)
    session_log.record(
        kinds.INCIDENT,
        {"what": what, "message": message, "down_s": round(down_s, 3), "events_replayed": len(events)},
        wall=now,
    )
    log.warning("session %d: %s", found.id, message)
    messages.append(message)
    return OpenedSession(session_log, found.id, spec, events, True, path, messages, calls, good_news=[message],
                         kind=found.kind)


def _count(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n} {noun}s"


def _find_open(db: Database) -> OpenSessionInfo | None:
    row = db.execute(
        "SELECT id, title, kind, started_wall FROM sessions WHERE state = 'open' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    count, last_wall, sales, undos = db.execute(
        "SELECT COUNT(*), MAX(wall), TOTAL(kind = 'sale'), TOTAL(kind = 'undo') FROM events WHERE session_id = ?",
        (row[0],),
    ).fetchone()
    return OpenSessionInfo(int(row[0]), row[1], row[2], float(row[3]), int(count), last_wall, int(sales - undos))


def _close_abandoned(db: Database, found: OpenSessionInfo) -> None:
    db.execute(
        "UPDATE sessions SET state = 'closed', ended_wall = ? WHERE id = ?",
        (found.last_wall or found.started_wall, found.id),
    )
    # Older open sessions (several crashes without resuming) are closed as well.
    db.execute("UPDATE sessions SET state = 'closed', ended_wall = started_wall WHERE state = 'open'")
