"""The session log writer: durability settings, ordering, concurrency, disk trouble."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from booth.core.clock import ManualClock
from booth.core.drop import DropSpec, Sku
from booth.core.events import SaleRecorded
from booth.drop.controller import DropController
from booth.store import kinds
from booth.store.db import SCHEMA_VERSION, StoreError
from booth.store.reader import SessionReader


def sale(n: int, sku: str = "tee") -> SaleRecorded:
    return SaleRecorded(1_700_000_000.0 + n, sku)


def test_database_is_wal_with_full_sync_and_versioned(open_log, tmp_path: Path) -> None:
    log = open_log()
    log.begin_session("Tee drop", "drop", {"drop": {}})
    assert log.call(lambda db: db.execute("PRAGMA synchronous").fetchone()[0]) == 2  # FULL
    conn = sqlite3.connect(tmp_path / "log.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_a_database_from_a_newer_booth_is_refused_with_a_sentence(open_log, tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer Booth"):
        open_log(path)


def test_each_event_gets_exactly_one_callback_in_append_order(open_log, recorder) -> None:
    log = open_log()
    log.begin_session("Tee drop", "drop", {})
    for n in range(200):
        log.append(sale(n), lambda e: recorder.add(("ok", e.at_wall)), lambda e, r: recorder.add(("failed", r)))
    assert recorder.wait_for(lambda items: len(items) >= 200)
    assert log.flush()
    assert recorder.items == [("ok", sale(n).at_wall) for n in range(200)]


def test_concurrent_writers_lose_nothing_and_keep_each_threads_order(open_log, tmp_path: Path) -> None:
    log = open_log()
    session_id = log.begin_session("Tee drop", "drop", {})
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for n in range(100):
                log.record(kinds.ALERT, {"level": "info", "code": f"w{index}", "message": str(n)})
                log.sample("rtt_ms", float(n))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,), name=f"booth-test-writer-{i}") for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert log.flush()
    with SessionReader(tmp_path / "log.sqlite3") as reader:
        events = reader.events(session_id)
    assert [e.seq for e in events] == list(range(1, 801))
    for index in range(8):
        mine = [int(e.payload["message"]) for e in events if e.payload["code"] == f"w{index}"]
        assert mine == list(range(100))


def test_committed_sales_show_and_replay_to_the_same_stock(open_log, tmp_path: Path) -> None:
    spec = DropSpec("Tee drop", (Sku("tee", "TEE", 10),))
    log = open_log()
    session_id = log.begin_session("Tee drop", "drop", {})
    clock = ManualClock()
    controller = DropController(spec, clock, journal=log)
    controller.start_timer()
    for _ in range(3):
        controller.sell("tee")
    controller.undo_last_sale()
    assert log.flush()
    assert controller.view().sku("tee").left == 8
    with SessionReader(tmp_path / "log.sqlite3") as reader:
        from booth.core.event_kinds import event_from_dict

        events = [event_from_dict(e.payload) for e in reader.events(session_id)]
    again = DropController(spec, clock)
    again.replay(events)
    assert again.view() == controller.view()


def test_health_samples_are_downsampled_keeping_extremes(open_log, tmp_path: Path) -> None:
    log = open_log(sample_bucket_s=10.0)
    session_id = log.begin_session("Tee drop", "drop", {})
    t0 = 1_700_000_000.0
    for offset, value in [(0, 62.0), (3, 58.0), (9, 60.0), (12, 55.0)]:
        log.sample("battery_pct", value, wall=t0 + offset)
    log.sample("battery_pct", float("nan"), wall=t0 + 13)  # skipped, not stored
    assert log.flush()
    with SessionReader(tmp_path / "log.sqlite3") as reader:
        rows = reader.samples(session_id)
    assert [(r.wall - t0, r.n, r.min, r.max, r.last) for r in rows] == [
        (0.0, 3, 58.0, 62.0, 60.0),
        (10.0, 1, 55.0, 55.0, 55.0),
    ]


def test_a_full_disk_keeps_the_sale_waiting_then_saves_it(open_log, recorder) -> None:
    warnings: list[str] = []
    warned = threading.Event()

    def on_warning(message: str) -> None:
        warnings.append(message)
        warned.set()

    log = open_log(on_warning=on_warning)
    log.begin_session("Tee drop", "drop", {})
    # No room beyond the file's current size: the next inserts fail with SQLITE_FULL, like a full disk.
    log.simulate_capacity(log.call(lambda db: db.execute("PRAGMA page_count").fetchone()[0]))
    for n in range(200):
        log.record(kinds.ALERT, {"level": "info", "code": "filler", "message": "x" * 500, "n": n})
    log.append(sale(1), lambda e: recorder.add("committed"), lambda e, r: recorder.add(("failed", r)))
    assert warned.wait(10)
    assert "disk is full" in warnings[0] and "nothing is lost" in warnings[0]
    assert recorder.items == []  # still waiting: neither committed nor failed
    log.simulate_capacity(None)  # space was freed
    assert recorder.wait_for(lambda items: items == ["committed"])
    assert any("saving again" in w for w in warnings)


def test_low_free_space_is_warned_early_and_logged_as_an_alert(open_log, tmp_path: Path) -> None:
    warned = threading.Event()
    messages: list[str] = []
    free = {"bytes": 10**12}
    log = open_log(on_warning=lambda m: (messages.append(m), warned.set()), low_space_bytes=256 * 10**6,
                   free_bytes=lambda: free["bytes"])  # what the disk guard read  # fmt: skip
    free["bytes"] = 120 * 10**6
    session_id = log.begin_session("Tee drop", "drop", {})
    log.record(kinds.VIEWERS, {"count": 10, "origin": "host"})  # wakes the writer
    assert warned.wait(10)
    assert messages[0].startswith("Disk almost full:") and "MB free" in messages[0]
    assert log.flush()
    with SessionReader(tmp_path / "log.sqlite3") as reader:
        alerts = [e.payload for e in reader.events(session_id) if e.kind == kinds.ALERT]
    assert alerts and alerts[0]["code"] == "disk_low"


def test_a_write_error_fails_the_event_with_a_sentence_and_the_log_goes_on(open_log, recorder) -> None:
    log = open_log()
    log.begin_session("Tee drop", "drop", {})
    log.call(lambda db: db.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN json_extract(NEW.payload, '$.sku_id') = 'bad' "
        "BEGIN SELECT RAISE(ABORT, 'simulated write error'); END"
    ))
    log.append(sale(1, "bad"), lambda e: recorder.add("committed"), lambda e, r: recorder.add(("failed", r)))
    assert recorder.wait_for(lambda items: len(items) == 1)
    assert recorder.items[0] == ("failed", "the session log could not be written (simulated write error)")
    log.append(sale(2), lambda e: recorder.add("committed"), lambda e, r: recorder.add(("failed", r)))
    assert recorder.wait_for(lambda items: items[-1] == "committed")


def test_the_host_sees_a_sale_that_was_not_saved_refused(open_log) -> None:
    log = open_log()
    log.begin_session("Tee drop", "drop", {})
    log.call(lambda db: db.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.kind = 'sale' "
        "BEGIN SELECT RAISE(ABORT, 'simulated write error'); END"
    ))
    controller = DropController(DropSpec("Tee drop", (Sku("tee", "TEE", 10),), pre_sale=True), ManualClock(),
                                journal=log)  # fmt: skip
    refused = threading.Event()
    refusals: list[str] = []
    controller.on_refused(lambda r: (refusals.append(r.message), refused.set()))
    assert controller.sell("tee").accepted
    assert refused.wait(10)
    assert refusals == [
        "Not recorded (the session log could not be written (simulated write error)): sale was not counted."
    ]
    assert controller.view().sku("tee").left == 10


def test_after_close_appends_fail_plainly(open_log, recorder) -> None:
    log = open_log()
    log.begin_session("Tee drop", "drop", {})
    log.close()
    log.append(sale(1), lambda e: recorder.add("committed"), lambda e, r: recorder.add(("failed", r)))
    assert recorder.items == [("failed", "the session log is closed")]
    assert log.flush() is False
