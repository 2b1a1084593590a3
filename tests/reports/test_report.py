"""`booth report` against a hand-computed drop: every number below was worked out on paper."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from booth.app import report as report_cli
from booth.core.config import BoothConfig
from booth.core.events import OfferEnded, SaleRecorded, SaleUndone, StockAdjusted, TimerStarted
from booth.reports.kpis import build_report
from booth.reports.render import render_html
from booth.store import kinds
from booth.store.db import DB_FILENAME
from booth.store.reader import SessionReader
from booth.store.recovery import config_snapshot
from booth.store.session_log import SessionLog

T0 = 1_700_000_000.0  # a multiple of the 10 s sample bucket


def build_fixture(data_dir: Path, config: BoothConfig) -> int:
    """tee: 10 in stock, cap: 4; a 60 s timer. Times are seconds after T0."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = SessionLog(data_dir / DB_FILENAME, wall=lambda: T0, sample_bucket_s=10.0).start()
    session_id = log.begin_session(config.drop.title, "live", config_snapshot(config))
    committed: list[str] = []

    def drop(event) -> None:
        log.append(event, lambda e: committed.append(e.kind), lambda e, r: pytest.fail(r))

    def other(at: float, kind: str, payload: dict) -> None:
        log.record(kind, payload, wall=T0 + at)

    drop(TimerStarted(T0 + 0, deadline_wall=T0 + 60))
    other(5, kinds.VIEWERS, {"count": 100, "origin": "host"})
    drop(SaleRecorded(T0 + 10, "tee", 2, "host"))
    drop(SaleRecorded(T0 + 20, "cap", 1, "shop"))
    drop(SaleRecorded(T0 + 30, "tee", 1, "host"))
    drop(SaleUndone(T0 + 31, "tee", 1))  # undoes the sale at 30
    other(40, kinds.SOURCE_SWITCH, {"from": "primary", "to": "secondary", "reason": "phone stream frozen",
                                   "automatic": True, "gap_ms": 180.0})
    drop(SaleRecorded(T0 + 50, "cap", 3, "shop"))  # cap sold out at 50 s
    other(55, kinds.SOURCE_SWITCH, {"from": "secondary", "to": "primary", "reason": "phone healthy again",
                                   "automatic": True, "gap_ms": 90.0})
    other(60, kinds.SOURCE_SWITCH, {"from": "primary", "to": "secondary", "reason": "host locked the secondary",
                                   "automatic": False, "gap_ms": 40.0})  # HOLD 2ND: a decision, not a failover
    other(62, kinds.SOURCE_SWITCH, {"from": "secondary", "to": "primary", "reason": "host forced the primary",
                                   "automatic": False, "gap_ms": 35.0})
    other(65, kinds.VIEWERS, {"count": 200, "origin": "platform"})
    drop(SaleRecorded(T0 + 70, "tee", 4, "host"))
    drop(StockAdjusted(T0 + 75, "tee", 2, "two damaged"))
    other(80, kinds.ALERT, {"level": "warn", "code": "battery_low", "message": "Battery: 11 min left, 15 min needed."})
    other(82, kinds.CLIP, {"path": "/tmp/clip.mp4", "seconds": 30.0})
    other(84, kinds.ALERT, {"level": 3, "code": "cpu", "message": "CPU 97 %: video may stutter"})  # old-style level
    drop(OfferEnded(T0 + 90, "host"))
    for at, value in [(1, 62.0), (12, 55.0), (85, 48.0), (86, 50.0)]:
        log.sample("battery_pct", value, wall=T0 + at)
    for at, value in [(2, 40.0), (3, 120.0), (50, 60.0)]:
        log.sample("rtt_ms", value, wall=T0 + at)
    assert log.flush()
    assert len(committed) == 9
    log.close()
    return session_id


@pytest.fixture
def fixture_dir(data_dir: Path, config: BoothConfig) -> Path:
    build_fixture(data_dir, config)
    return data_dir


def load(fixture_dir: Path):
    with SessionReader(fixture_dir / DB_FILENAME) as reader:
        session = reader.session()
        return build_report(session, reader.events(session.id), reader.samples(session.id))


def test_numbers_match_the_hand_computed_drop(fixture_dir: Path) -> None:
    r = load(fixture_dir)
    # Surviving sales: tee 2 @10, cap 1 @20, cap 3 @50, tee 4 @70 (tee 1 @30 was undone).
    assert (r.units_sold, r.orders) == (10, 4)
    tee, cap = r.skus
    assert (tee.units_sold, tee.orders, tee.stock_left, tee.sold_out_after_s) == (6, 2, 2, None)
    assert (cap.units_sold, cap.orders, cap.stock_left, cap.sold_out_after_s) == (4, 2, 0, 50.0)
    assert tee.sell_through_pct == pytest.approx(75.0)  # 6 ÷ (6 + 2 left after the correction)
    assert cap.sell_through_pct == pytest.approx(100.0)
    assert r.sell_through_pct == pytest.approx(100 * 10 / 12)
    assert (r.offer_start_wall, r.offer_end_wall, r.offer_s) == (T0, T0 + 90, 90.0)
    assert r.sales_per_minute == pytest.approx(10 / 1.5)
    assert r.sales_per_minute_series == [6, 4]
    # Viewer windows: [5, 65) 100 viewers, 3 orders; [65, 90] 200 viewers, 1 order.
    assert [(w.viewers, w.orders) for w in r.viewer_windows] == [(100, 3), (200, 1)]
    assert [w.decision_rate_pct for w in r.viewer_windows] == pytest.approx([3.0, 0.5])
    mean_viewers = (100 * 60 + 200 * 25) / 85
    assert r.decision_rate_pct == pytest.approx(100 * 4 / mean_viewers)
    # one base for both shares: the stock on offer (10 sold + 2 left; tee was corrected from 10 to 8)
    assert r.stock_on_offer == 12
    assert r.velocity_72h_units == 10 and r.velocity_72h_pct == pytest.approx(100 * 10 / 12) == r.sell_through_pct
    (failover,) = r.failovers
    assert (failover.start_wall, failover.end_wall, failover.duration_s) == (T0 + 40, T0 + 55, 15.0)
    assert (failover.to, failover.reason, failover.switches, failover.gap_ms) == (
        "secondary", "phone stream frozen", 2, 180.0)
    # the host's HOLD 2ND / FORCE 1ST are listed on their own, not as a failover incident
    assert [(c.from_source, c.to_source, c.reason) for c in r.lock_changes] == [
        ("primary", "secondary", "host locked the secondary"), ("secondary", "primary", "host forced the primary")]
    assert [(a.level, a.code) for a in r.alerts] == [("warn", "battery_low"), ("critical", "cpu")]
    assert r.alert_counts == {"warn": 1, "critical": 1}
    assert [(c.path, c.seconds, c.wall) for c in r.clips] == [("/tmp/clip.mp4", 30.0, T0 + 82)]
    assert (r.lowest_battery_pct, r.lowest_battery_wall) == (48.0, T0 + 80)
    assert (r.worst_rtt_ms, r.worst_rtt_wall) == (120.0, T0)
    assert r.stock_series["cap"][-1] == (90.0, 0) and r.stock_series["tee"][-1] == (90.0, 2)
    # the time axis is the offer's: from its start (nothing changed before it) to its end at 90 s
    assert r.stock_series["tee"][0] == (0.0, 10) and r.stock_series["tee"][1] == (0.0, 10)


def test_the_stock_time_axis_covers_the_offer_when_the_sales_came_before_it(data_dir: Path, config) -> None:
    """A pre-sale drop sold out 16 s before its timer ran for 82 s: the axis runs -16 s … 82 s."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = SessionLog(data_dir / DB_FILENAME, wall=lambda: T0).start()
    log.begin_session(config.drop.title, "live", config_snapshot(config))
    for event in (SaleRecorded(T0 - 16, "cap", 4, "host"), TimerStarted(T0, deadline_wall=T0 + 82),
                  OfferEnded(T0 + 82, "deadline")):
        log.append(event, lambda e: None, lambda e, r: pytest.fail(r))
    assert log.flush()
    log.close()
    r = load(data_dir)
    cap = r.stock_series["cap"]
    assert (cap[0][0], cap[-1][0]) == (-16.0, 82.0)
    assert [y for _, y in cap] == [4, 0, 0, 0, 0]
    page = render_html(r)
    assert ">0:00<" in page and ">1:20<" in page  # ticks across the whole offer, in min:s
    assert 'class="mark"' in page  # and a line where the offer opened, after the early sales
    assert "time since the offer opened (min:s)" in page and ">units left<" in page  # both axes say what they are


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = report_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_table_shows_the_key_numbers(fixture_dir: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "--data-dir", str(fixture_dir))
    assert code == 0
    assert "Session 1: Tee drop (live, open)" in out
    assert re.search(r"Sell-through:\s+83\.3%", out)
    assert re.search(r"Sales per minute:\s+6\.67 units/min", out)
    assert re.search(r"Lowest battery:\s+48\.0%", out) and re.search(r"Worst RTT:\s+120\.0 ms", out)
    assert re.search(r"cap\s+CAP / RED\s+4\s+4\s+0\s+100\.0%\s+50\.0 s", out)
    assert "phone stream frozen" in out and "Battery: 11 min left" in out
    assert re.search(r"Failover incidents:\s+1\n", out) and re.search(r"Host lock changes:\s+2\n", out)
    assert "/tmp/clip.mp4" in out and re.search(r"critical\s+CPU 97 %", out)


def test_json_and_csv_carry_the_same_numbers(fixture_dir: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "1", "--format", "json", "--data-dir", str(fixture_dir))
    data = json.loads(out)
    assert code == 0 and data["units_sold"] == 10 and data["failovers"][0]["gap_ms"] == 180.0
    assert data["skus"][1]["sold_out_after_s"] == 50.0
    code, out, _ = run_cli(capsys, "--format", "csv", "--data-dir", str(fixture_dir))
    rows = {(r["section"], r["name"], r["sku"]): r["value"] for r in csv.DictReader(io.StringIO(out))}
    assert rows[("summary", "units_sold", "")] == "10"
    assert rows[("sku", "sell_through_pct", "tee")] == "75.0"
    assert rows[("summary", "worst_rtt_ms", "")] == "120.0"
    assert rows[("failover", "incident_1_gap_ms", "")] == "180.0"


def test_html_is_one_self_contained_file_with_charts(fixture_dir: Path, tmp_path: Path, capsys) -> None:
    out_path = tmp_path / "report.html"
    code, out, _ = run_cli(capsys, "--format", "html", "--out", str(out_path), "--data-dir", str(fixture_dir))
    assert code == 0 and out.strip() == f"Report written to {out_path}"
    page = out_path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.count("<svg") >= 4  # stock, per minute, battery, RTT
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched from anywhere
    assert "<script" not in page
    assert "Tee drop" in page and "phone stream frozen" in page
    assert "/tmp/clip.mp4" in page and "Host lock changes" in page and "host locked the secondary" in page
    assert "<td>critical</td><td>CPU 97 %: video may stutter</td>" in page  # levels by name, not 3
    assert page.count('class="label"') >= 8  # every chart labels both axes


def test_list_shows_every_session(fixture_dir: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "--list", "--data-dir", str(fixture_dir))
    assert code == 0
    assert re.search(r"^1\s+Tee drop\s+live\s+open\s+.*\s10$", out, re.MULTILINE)


def test_a_missing_session_is_a_clear_message(fixture_dir: Path, capsys) -> None:
    code, out, err = run_cli(capsys, "7", "--data-dir", str(fixture_dir))
    assert (code, out) == (1, "")
    assert err == (
        f"booth report: There is no session 7 in {fixture_dir / DB_FILENAME} (only session 1 exists); "
        "`booth report --list` shows them.\n"
    )


def test_a_folder_without_a_log_is_a_clear_message(tmp_path: Path, capsys) -> None:
    code, _, err = run_cli(capsys, "--data-dir", str(tmp_path / "empty"))
    assert code == 1
    assert err.startswith(f"booth report: There is no session log in {tmp_path / 'empty'} yet: run a drop first")


def test_report_runs_through_the_booth_command(fixture_dir: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "booth", "report", "--list", "--data-dir", str(fixture_dir)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "Tee drop" in result.stdout
