"""The session log writer: one thread owns the SQLite connection; everyone else only enqueues.

`SessionLog` is the drop controller's `Journal`: `append(event, on_committed, on_failed)` returns at
once; the writer thread commits (WAL, synchronous=FULL — see `booth.store.db`) and then calls exactly
one of the callbacks per event, in append order. Whatever is waiting when the writer wakes is committed
in one transaction (group commit), so a burst of sales costs one fsync, not one each.

Non-drop events (`record`) and health samples (`sample`) may come from any thread. Samples are
downsampled on the writer into buckets (n/min/max/mean/last per metric).

Disk trouble:
- full disk (or a lock held too long by another program): the batch is retried with back-off and
  nothing is dropped; a warning is raised (throttled). The events wait in memory meanwhile.
  Beginning or resuming a session only *queues* its writes, so a full disk at start-up never
  holds up serving: sales wait in memory behind the session row like any other write.
- low free space (read from the disk guard, `free_bytes`): warned early, once, with the number
  (re-armed when space comes back).
- any other write error: the affected events fail with a plain sentence; the log keeps going.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from booth.core.events import DropEvent, Request
from booth.runtime.worker import Worker
from booth.store import kinds
from booth.store.db import StoreError, connect, migrate

log = logging.getLogger(__name__)

THREAD_NAME = "booth-session-writer"
LOW_SPACE_BYTES = 256 * 1024 * 1024
_MAX_BATCH = 500
_WARN_EVERY_S = 5.0
_SQLITE_FULL = 13
_TRANSIENT = {5, 6, 13}  # SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL: keep trying, never drop

Warning = Callable[[str], None]


# -- queue items -------------------------------------------------------------------------------


@dataclass
class _Event:
    kind: str
    wall: float
    payload: str
    on_committed: Callable[[], None] | None = None
    on_failed: Callable[[str], None] | None = None
    request: Request | None = None  # the idempotency key (and digest) the event answers


@dataclass
class _Call:
    """Run `fn(db)` inside the writer's transaction (session rows, tests)."""

    fn: Callable[[Database], Any]
    future: Future[Any] = field(default_factory=Future)


@dataclass
class _Sample:
    metric: str
    value: float
    wall: float


@dataclass
class _Flush:
    """Close every open health bucket and report back once everything before it is done."""

    future: Future[None] = field(default_factory=Future)


_STOP = object()


@dataclass
class _Bucket:
    start: float
    n: int = 0
    lo: float = math.inf
    hi: float = -math.inf
    total: float = 0.0
    last: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        self.lo = min(self.lo, value)
        self.hi = max(self.hi, value)
        self.total += value
        self.last = value


# -- the writer --------------------------------------------------------------------------------


class SessionLog:
    """Single-writer session log. Create, `start()`, `begin_session()` or `resume_session()`, then log."""

    def __init__(
        self,
        path: Path,
        on_warning: Warning | None = None,
        low_space_bytes: int = LOW_SPACE_BYTES,
        sample_bucket_s: float = kinds.SAMPLE_BUCKET_S,
        wall: Callable[[], float] = time.time,
        free_bytes: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.path = Path(path)
        self._free_bytes = free_bytes
        self._warning_listeners: list[Warning] = [on_warning] if on_warning else []
        self._low_space_bytes = low_space_bytes
        self._bucket_s = sample_bucket_s
        self._wall = wall
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._closed = False
        self._accept_lock = threading.Lock()  # orders "closed?" checks against enqueueing
        self._worker = Worker(THREAD_NAME, self._step, "Sales log", on_stop=self._finish, join_timeout_s=10.0)
        self._current_session: int | None = None  # as queued (the writer's own view lags behind)
        # Writer-thread state.
        self._db: Database | None = None
        self._session_id: int | None = None
        self._seq = 0
        self._buckets: dict[str, _Bucket] = {}
        self._low_space_warned = False
        self._last_full_warning = -math.inf
        self._samples_dropped = 0
        self._capacity_pages: int | None = None  # simulate_capacity(): what the writer should apply
        self._applied_capacity: int | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> SessionLog:
        """Start the writer; raises `StoreError` if the database cannot be opened."""
        self._worker.start()
        if not self._ready.wait(timeout):
            raise StoreError(f"The session log at {self.path} did not open within {timeout:g} s.")
        if self._open_error is not None:
            self._worker.join(timeout)
            if isinstance(self._open_error, StoreError):
                raise self._open_error
            raise StoreError(f"The session log at {self.path} cannot be opened ({self._open_error}).")
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Commit everything already queued, checkpoint, close the connection and join the thread."""
        with self._accept_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._stop.set()
        self._worker.join(timeout)

    @property
    def session_id(self) -> int | None:
        """The session being logged (as soon as it was begun or resumed, even if not yet on disk)."""
        return self._current_session

    def simulate_capacity(self, pages: int | None) -> None:
        """Test seam: behave as if the disk only had room for `pages` database pages (None: no cap).

        Applied by the writer before its next write attempt, so it also reaches a writer that is
        stuck retrying a full disk — the way freeing real disk space would.
        """
        self._capacity_pages = pages

    def set_free_bytes(self, free_bytes: Callable[[], int | None]) -> None:
        """Where the low-space warning reads free space from (the disk guard)."""
        self._free_bytes = free_bytes

    def add_warning_listener(self, listener: Warning) -> None:
        self._warning_listeners.append(listener)

    # -- sessions (queued: a full disk must not hold up start-up) -------------------------------

    def next_session_id(self, timeout: float = 10.0) -> int:
        """The id the next session will get (a read: it works on a full disk)."""
        return int(self.call(lambda db: (db.execute("SELECT MAX(id) FROM sessions").fetchone()[0] or 0) + 1, timeout))

    def begin_session(self, title: str, kind: str, config: dict[str, Any], session_id: int | None = None) -> int:
        """Begin a session; its row is written in order before anything logged after this call.

        One writer per data folder (the instance lock), so the id read now is the one written."""
        if session_id is None:
            session_id = self.next_session_id()
        config_json = json.dumps(config, ensure_ascii=False, sort_keys=True)

        def create(db: Database) -> None:
            db.execute(
                "INSERT INTO sessions (id, title, kind, config, started_wall, state) VALUES (?, ?, ?, ?, ?, 'open')",
                (session_id, title, kind, config_json, self._wall()),
            )
            self._session_id = session_id
            self._seq = 0

        self.submit(create)
        self._current_session = session_id
        return session_id

    def resume_session(self, session_id: int, last_seq: int) -> None:
        """Go on logging session `session_id` after its event number `last_seq` (queued)."""

        def resume(db: Database) -> None:
            db.execute("UPDATE sessions SET state = 'open', ended_wall = NULL WHERE id = ?", (session_id,))
            self._session_id = session_id
            self._seq = last_seq

        self.submit(resume)
        self._current_session = session_id

    def end_session(self, timeout: float = 10.0) -> None:
        """Mark the current session closed: the next start will not offer to resume it."""

        def end(db: Database) -> None:
            self._flush_buckets(db, force=True)
            if self._session_id is not None:
                db.execute(
                    "UPDATE sessions SET state = 'closed', ended_wall = ? WHERE id = ?",
                    (self._wall(), self._session_id),
                )

        self.call(end, timeout)

    def submit(self, fn: Callable[[Database], Any]) -> Future[Any]:
        """Queue `fn(db)` to run on the writer thread in its own transaction; never waits."""
        item = _Call(fn)
        if not self._enqueue(item):
            item.future.set_exception(StoreError("The session log is closed."))
        return item.future

    def call(self, fn: Callable[[Database], Any], timeout: float = 10.0) -> Any:
        """Run `fn(db)` on the writer thread in its own committed transaction and return its result."""
        item = _Call(fn)
        if not self._enqueue(item):
            raise StoreError("The session log is closed.")
        return item.future.result(timeout)

    # -- logging (never blocks) ----------------------------------------------------------------

    def append(
        self,
        event: DropEvent,
        on_committed: Callable[[DropEvent], None],
        on_failed: Callable[[DropEvent, str], None],
    ) -> None:
        """The `Journal` protocol: exactly one callback per event, in append order."""
        item = _Event(
            event.kind,
            event.at_wall,
            json.dumps(event.to_dict(), ensure_ascii=False),
            lambda: on_committed(event),
            lambda reason: on_failed(event, reason),
            event.request,
        )
        if not self._enqueue(item):
            on_failed(event, "the session log is closed")

    def record(
        self,
        kind: str,
        payload: dict[str, Any],
        wall: float | None = None,
        on_committed: Callable[[], None] | None = None,
        request: Request | None = None,
        on_failed: Callable[[str], None] | None = None,
    ) -> None:
        """Log a non-drop event (see `booth.store.kinds`) from any thread.

        The payload must be JSON-serialisable; a bad payload raises here, in the caller. `request`
        stores the idempotency key the record answers (an API call's receipt).
        """
        if not isinstance(payload, dict):
            raise TypeError(f"payload for {kind!r} must be a dict, got {type(payload).__name__}")
        item = _Event(kind, self._wall() if wall is None else wall, json.dumps(payload, ensure_ascii=False),
                      on_committed, on_failed, request)  # fmt: skip
        if not self._enqueue(item):
            log.warning("session log closed; %s event not recorded", kind)
            if on_failed is not None:
                on_failed("the session log is closed")

    def sample(self, metric: str, value: float, wall: float | None = None) -> None:
        """One health reading (e.g. "battery_pct", 62.0); non-finite values are skipped."""
        if not math.isfinite(value):
            return
        self._enqueue(_Sample(metric, float(value), self._wall() if wall is None else wall))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (open health buckets are written too)."""
        item = _Flush()
        if not self._enqueue(item):
            return False
        try:
            item.future.result(timeout)
        except Exception:  # timed out, or the log could not write (already warned about)
            return False
        return True

    def _enqueue(self, item: object) -> bool:
        with self._accept_lock:
            if self._closed:
                return False
            self._queue.put(item)
            return True

    # -- writer thread ---------------------------------------------------------------------------

    def _step(self) -> float:
        if self._db is None:
            try:
                self._db = connect(self.path)
                migrate(self._db)
            except (sqlite3.Error, StoreError, OSError) as exc:
                self._db = None
                self._open_error = exc
                self._ready.set()
                self._worker.request_stop()
                return 0.0
            self._ready.set()
        db = self._db
        try:
            first = self._queue.get(timeout=1.0)
        except queue.Empty:
            self._housekeeping(db)
            return 0.0
        batch = [first]
        while len(batch) < _MAX_BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if _STOP in batch:
            # Nothing can be enqueued after _STOP, so it is always last.
            batch.remove(_STOP)
            self._worker.request_stop()
        for segment in _segments(batch):
            self._write(db, segment)
        self._housekeeping(db)
        return 0.0

    def _finish(self) -> None:
        db, self._db = self._db, None
        if db is None:
            return
        try:
            self._flush_buckets(db, force=True)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning("session log: final checkpoint failed (%s); the WAL keeps the data", exc)
        db.close()

    def _write(self, db: Database, batch: list[object]) -> None:
        attempt = 0
        while True:
            seq_before = self._seq
            session_before = self._session_id
            results: list[Any] = []
            try:
                self._apply_capacity(db)
                with db.atomic():
                    for item in batch:
                        results.append(self._write_item(db, item))
                break
            except sqlite3.Error as exc:
                self._seq, self._session_id = seq_before, session_before
                code = getattr(exc, "sqlite_errorcode", None)
                transient = code in _TRANSIENT or "full" in str(exc) or "locked" in str(exc)
                waiting = sum(isinstance(i, _Event) for i in batch)
                if transient and not (self._stop.is_set() and attempt > 0):
                    attempt += 1
                    self._warn_full(exc, waiting, code)
                    self._stop.wait(min(0.05 * 2**attempt, 1.0))
                    continue
                reason = _sentence(exc)
                log.error("session log write failed, %d events not saved: %s", waiting, exc)
                self._fail(batch, reason)
                return
            except Exception as exc:
                # A _Call refused (e.g. no such session); calls run in their own segment, so
                # only the caller hears about it.
                self._seq, self._session_id = seq_before, session_before
                self._fail(batch, str(exc), exc)
                return
        if attempt:
            self._emit_warning("The session log is saving again; nothing was lost.")
        for item, result in zip(batch, results, strict=True):
            self._done(item, result)

    def _apply_capacity(self, db: Database) -> None:
        wanted = self._capacity_pages
        if wanted == self._applied_capacity:
            return
        if wanted is None:
            db.execute("PRAGMA max_page_count = 4294967294").fetchall()
        else:
            db.execute(f"PRAGMA max_page_count = {int(wanted)}").fetchall()
        self._applied_capacity = wanted

    def _write_item(self, db: Database, item: object) -> Any:
        if isinstance(item, _Event):
            if self._session_id is None:
                raise StoreError("no session is open in the session log")
            self._seq += 1
            key, digest = (item.request.key, item.request.digest) if item.request is not None else (None, None)
            db.execute(
                "INSERT INTO events (session_id, seq, wall, kind, payload, request_key, request_digest) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._session_id, self._seq, item.wall, item.kind, item.payload, key, digest),
            )
            return None
        if isinstance(item, _Call):
            return item.fn(db)
        if isinstance(item, _Sample):
            self._add_sample(db, item)
            return None
        if isinstance(item, _Flush):
            self._flush_buckets(db, force=True)
            return None
        raise TypeError(f"unexpected queue item {item!r}")  # pragma: no cover

    def _done(self, item: object, result: Any) -> None:
        try:
            if isinstance(item, _Event) and item.on_committed is not None:
                item.on_committed()
            elif isinstance(item, _Call | _Flush):
                item.future.set_result(result)
        except Exception:
            log.exception("session log: a commit callback failed")

    def _fail(self, batch: list[object], reason: str, exc: BaseException | None = None) -> None:
        for item in batch:
            try:
                if isinstance(item, _Event) and item.on_failed is not None:
                    item.on_failed(reason)
                elif isinstance(item, _Call | _Flush):
                    item.future.set_exception(exc or StoreError(f"The session log could not save: {reason}."))
            except Exception:
                log.exception("session log: a failure callback failed")

    # -- health buckets ------------------------------------------------------------------------

    def _add_sample(self, db: Database, sample: _Sample) -> None:
        if self._session_id is None:
            self._samples_dropped += 1
            return
        start = math.floor(sample.wall / self._bucket_s) * self._bucket_s
        bucket = self._buckets.get(sample.metric)
        if bucket is not None and bucket.start != start:
            self._write_bucket(db, sample.metric, bucket)
            bucket = None
        if bucket is None:
            bucket = self._buckets[sample.metric] = _Bucket(start)
        bucket.add(sample.value)

    def _flush_buckets(self, db: Database, force: bool) -> None:
        now = self._wall()
        for metric, bucket in list(self._buckets.items()):
            if force or bucket.start + self._bucket_s <= now:
                self._write_bucket(db, metric, bucket)
                del self._buckets[metric]

    def _write_bucket(self, db: Database, metric: str, bucket: _Bucket) -> None:
        if self._session_id is None or bucket.n == 0:
            return
        db.execute(
            "INSERT INTO health_samples (session_id, wall, metric, n, min, max, mean, last) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self._session_id, bucket.start, metric, bucket.n, bucket.lo, bucket.hi, bucket.total / bucket.n,
             bucket.last),
        )

    # -- housekeeping: stale buckets, free space ------------------------------------------------

    def _housekeeping(self, db: Database) -> None:
        if self._buckets:
            try:
                with db.atomic():
                    self._flush_buckets(db, force=False)
            except sqlite3.Error as exc:
                log.warning("session log: health samples not saved (%s)", exc)
                self._buckets.clear()
        free = self._free_bytes()
        if free is None or self._session_id is None:
            return  # warned once a session is open, so the warning is in its log too
        if free < self._low_space_bytes and not self._low_space_warned:
            self._low_space_warned = True
            message = (
                f"Disk almost full: {free / 1e6:.0f} MB free where the session log is ({self.path.parent}). "
                "Free some space; sales keep being saved until the disk is full."
            )
            self._emit_warning(message)
            self._record_inline(db, kinds.ALERT, {"level": "warn", "code": "disk_low", "message": message})
        elif free > 2 * self._low_space_bytes:
            self._low_space_warned = False

    def _record_inline(self, db: Database, kind: str, payload: dict[str, Any]) -> None:
        if self._session_id is None:
            return
        item = _Event(kind, self._wall(), json.dumps(payload, ensure_ascii=False))
        seq_before = self._seq
        try:
            with db.atomic():
                self._write_item(db, item)
        except sqlite3.Error:
            self._seq = seq_before

    def _warn_full(self, exc: sqlite3.Error, waiting: int, code: int | None) -> None:
        now = time.monotonic()
        if now - self._last_full_warning < _WARN_EVERY_S:
            return
        self._last_full_warning = now
        if code == _SQLITE_FULL or "full" in str(exc):
            what = "The disk is full"
        else:
            what = "The session log is locked by another program"
        self._emit_warning(
            f"{what}: {waiting} event(s) are waiting to be saved. Booth keeps trying; "
            "nothing is lost while it runs. Free some space now."
            if "full" in what
            else f"{what}: {waiting} event(s) are waiting to be saved. Booth keeps trying."
        )

    def _emit_warning(self, message: str) -> None:
        log.warning("%s", message)
        for listener in self._warning_listeners:
            try:
                listener(message)
            except Exception:
                log.exception("session log: a warning listener failed")


def _segments(batch: list[object]) -> list[list[object]]:
    """Split a batch so each `_Call` gets its own transaction: its failure must not fail a sale."""
    segments: list[list[object]] = []
    current: list[object] = []
    for item in batch:
        if isinstance(item, _Call):
            if current:
                segments.append(current)
                current = []
            segments.append([item])
        else:
            current.append(item)
    if current:
        segments.append(current)
    return segments


def _sentence(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "disk I/O" in text:
        return "the disk reported an error while saving"
    if "readonly" in text or "read-only" in text:
        return "the session log became read-only"
    if "full" in text:
        return "the disk is full"
    return f"the session log could not be written ({text})"
