"""Crash recovery in-process: same stock, same deadline (wall clock), same phase; bad files set aside."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from booth.core.clock import ManualClock
from booth.core.drop import Phase
from booth.drop.session import start_drop_session
from booth.store import kinds
from booth.store.db import DB_FILENAME, StoreError
from booth.store.reader import SessionReader
from booth.store.recovery import open_session_log, peek_open_session


def crash(session) -> None:
    """What a kill leaves behind: committed events, no clean-shutdown event."""
    session.log.close()


def test_a_crash_mid_drop_resumes_same_stock_deadline_and_phase(data_dir: Path, config) -> None:
    clock = ManualClock(mono=500.0, wall_time=1_700_000_000.0)
    first = start_drop_session(data_dir, config, clock=clock)
    c = first.controller
    c.start_timer()
    clock.advance(5)
    c.sell("tee", 3)
    c.sell("cap")
    c.undo_last_sale()
    c.sell("cap", 2)
    assert first.log.flush()
    before = c.view()
    crash(first)

    # The machine was down 20 s; after a reboot the monotonic clock starts somewhere else entirely.
    later = ManualClock(mono=3.0, wall_time=clock.wall_time + 20)
    second = start_drop_session(data_dir, config, clock=later)
    try:
        view = second.controller.view()
        assert second.opened.resumed and second.session_id == first.session_id
        assert {s.id: s.left for s in view.skus} == {"tee": 7, "cap": 2} == {s.id: s.left for s in before.skus}
        assert view.phase is Phase.LIVE
        assert view.remaining_s == pytest.approx(60 - 5 - 20)
        assert second.messages == second.good_news == [
            "Resumed the drop 'Tee drop' after a crash: 2 sales replayed, same stock and deadline "
            "(Booth was down for 20 s)."
        ]  # 3 sales, one undone: the number the resume prompt gave too
        assert second.controller.sell("tee").accepted  # selling goes on from the recovered stock
        assert second.log.flush()
        assert second.controller.view().sku("tee").left == 6
    finally:
        second.close()
    with SessionReader(data_dir / DB_FILENAME) as reader:
        incidents = [e.payload for e in reader.events(first.session_id) if e.kind == kinds.INCIDENT]
    assert [(i["what"], i["down_s"]) for i in incidents] == [("recovered after crash", 20.0)]


def test_time_passed_while_down_counts_and_an_expired_offer_is_closed(data_dir: Path, config) -> None:
    clock = ManualClock()
    first = start_drop_session(data_dir, config, clock=clock)
    first.controller.start_timer()
    first.controller.sell("tee")
    assert first.log.flush()
    crash(first)

    later = ManualClock(mono=1.0, wall_time=clock.wall_time + 300)  # down longer than the offer
    second = start_drop_session(data_dir, config, clock=later)
    try:
        c = second.controller
        assert c.view().phase is Phase.ENDED and c.view().remaining_s == 0
        refused = c.sell("tee")
        assert refused.refusal is not None and refused.refusal.message.startswith("Offer ended")
        c.tick()  # records the end of the offer, from the log's point of view too
        assert second.log.flush()
        assert c.events()[-1].kind == "offer_end"
    finally:
        second.close()
    # The offer ended, so a clean close closes the session: the next start begins a new one.
    third = start_drop_session(data_dir, config, clock=later)
    try:
        assert not third.opened.resumed and third.session_id == first.session_id + 1
        assert third.controller.view().sku("tee").left == 10
    finally:
        third.close()


def test_a_clean_quit_mid_drop_resumes_after_a_restart(data_dir: Path, config) -> None:
    clock = ManualClock()
    first = start_drop_session(data_dir, config, clock=clock)
    first.controller.start_timer()
    first.close()
    info = peek_open_session(data_dir)
    assert info is not None and info.title == "Tee drop" and info.id == first.session_id
    second = start_drop_session(data_dir, config, clock=clock)
    try:
        assert second.opened.resumed
        assert "after a restart" in second.messages[0]
    finally:
        second.close()


def test_not_resuming_closes_the_unfinished_drop_and_begins_anew(data_dir: Path, config) -> None:
    first = start_drop_session(data_dir, config, clock=ManualClock())
    first.controller.start_timer()
    first.controller.sell("tee", 4)
    crash(first)
    second = start_drop_session(data_dir, config, clock=ManualClock(), resume=False)
    try:
        assert not second.opened.resumed and second.controller.view().sku("tee").left == 10
        assert second.messages == ["The unfinished drop 'Tee drop' (session 1) was closed without resuming."]
    finally:
        second.close()
    assert peek_open_session(data_dir) is None or peek_open_session(data_dir).id == second.session_id


def _aside_files(data_dir: Path, why: str) -> list[Path]:
    return sorted(
        p for p in data_dir.iterdir()
        if p.name.startswith(f"{DB_FILENAME}.{why}-") and not p.name.endswith(("-wal", "-shm"))
    )


def test_a_file_that_is_not_a_database_is_kept_aside_and_booth_starts_clean(data_dir: Path, config) -> None:
    data_dir.mkdir()
    garbage = b"this is not SQLite at all\x00" * 200
    (data_dir / DB_FILENAME).write_bytes(garbage)
    session = start_drop_session(data_dir, config, clock=ManualClock())
    try:
        (aside,) = _aside_files(data_dir, "damaged")
        assert aside.read_bytes() == garbage  # kept, not deleted
        assert len(session.messages) == 1
        assert session.messages[0].startswith(f"The session log {data_dir / DB_FILENAME} could not be used: ")
        assert f"It was kept as {aside.name} and Booth started a new, empty log." in session.messages[0]
        assert not session.opened.resumed and session.controller.view().sku("tee").left == 10
    finally:
        session.close()


def test_a_database_with_damaged_pages_is_kept_aside(data_dir: Path, config) -> None:
    first = start_drop_session(data_dir, config, clock=ManualClock())
    for n in range(40):
        first.log.record(kinds.ALERT, {"level": "info", "code": "filler", "message": "x" * 800, "n": n})
    first.close()
    path = data_dir / DB_FILENAME
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[2 * 4096 : 6 * 4096] = b"\xa5" * (4 * 4096)  # scribble over b-tree pages, keep the header
    path.write_bytes(bytes(data))
    second = start_drop_session(data_dir, config, clock=ManualClock())
    try:
        assert len(_aside_files(data_dir, "damaged")) == 1
        assert "could not be used: it is" in second.messages[0]
        assert second.session_id == 1 and not second.opened.resumed
    finally:
        second.close()


def test_a_locked_database_is_kept_aside_and_reported(data_dir: Path, config) -> None:
    first = start_drop_session(data_dir, config, clock=ManualClock())
    first.controller.start_timer()
    first.close()
    holder = sqlite3.connect(data_dir / DB_FILENAME, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holding the write lock
    try:
        opened = open_session_log(data_dir, config, lock_timeout_s=0.2)
        try:
            assert len(_aside_files(data_dir, "locked")) == 1
            assert "another program holds it locked (is a second Booth running?)" in opened.messages[0]
            assert not opened.resumed
        finally:
            opened.log.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_data_dir_that_cannot_be_created_is_a_clear_error(tmp_path: Path, config) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder's parent should be")
    with pytest.raises(StoreError) as caught:
        start_drop_session(blocker / "booth", config)
    assert str(caught.value).startswith(f"Booth cannot create its data folder {blocker / 'booth'} (")
    assert str(caught.value).endswith("Pick a folder you can write to with --data-dir.")


def test_a_read_only_data_dir_is_a_clear_error(tmp_path: Path, config) -> None:
    import os

    if os.geteuid() == 0:
        # Root writes through permission bits (CI runs as root); a /proc folder refuses everyone.
        with pytest.raises(StoreError, match="cannot write to its data folder /proc/self"):
            start_drop_session(Path("/proc/self"), config)
        return
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="cannot write to its data folder"):
            start_drop_session(folder, config)
    finally:
        folder.chmod(0o700)


def test_the_config_snapshot_never_holds_a_stream_key(data_dir: Path) -> None:
    from booth.core.config import parse_config

    raw = {
        "drop": {"title": "Keyed"},
        "sku": [{"id": "tee", "name": "TEE", "stock": 5}],
        "sources": {"primary": "rtmp://127.0.0.1/live/live_sk_9f8e7d6c5b4a"},
    }
    session = start_drop_session(data_dir, parse_config(raw, "keyed.toml"), clock=ManualClock())
    session.close()
    assert b"live_sk_9f8e7d6c5b4a" not in (data_dir / DB_FILENAME).read_bytes()
    with SessionReader(data_dir / DB_FILENAME) as reader:
        assert reader.session().config["primary"] == "rtmp://127.0.0.1/live/liv…4a"


def test_a_log_from_before_idempotency_keys_is_migrated_and_resumes(tmp_path, config) -> None:
    """A data folder written by schema 1 gets the key columns; its sales replay without keys."""
    import json
    import sqlite3

    from booth.store.db import MIGRATIONS, SCHEMA_VERSION
    from booth.store.recovery import config_snapshot, open_session_log

    path = tmp_path / "booth.sqlite3"
    from sqlite_utils import Database

    db = Database(sqlite3.connect(path))
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO sessions (id, title, kind, config, started_wall, state) VALUES (1, 'Tee drop', 'drop', ?, "
               "1000.0, 'open')", (json.dumps(config_snapshot(config)),))  # fmt: skip
    db.execute("INSERT INTO events (session_id, seq, wall, kind, payload) VALUES (1, 1, 1001.0, 'sale', ?)",
               (json.dumps({"kind": "sale", "at_wall": 1001.0, "sku_id": "tee", "qty": 2, "origin": "host"}),))
    db.conn.commit()
    db.close()

    opened = open_session_log(tmp_path, config)
    try:
        assert opened.resumed and [e.request for e in opened.recovered_events] == [None]
        version = opened.log.call(lambda d: d.execute("PRAGMA user_version").fetchone()[0])
        columns = opened.log.call(lambda d: [r[1] for r in d.execute("PRAGMA table_info(events)")])
    finally:
        opened.log.close()
    assert version == SCHEMA_VERSION == 2 and {"request_key", "request_digest"} <= set(columns)
