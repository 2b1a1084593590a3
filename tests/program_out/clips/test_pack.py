"""After the drop: the pack made from a real session log (SQLite) and a real recording."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest

from booth.app.report import main as report_main
from booth.core.clip_plan import pack_folder
from booth.core.config import parse_config
from booth.core.events import SaleRecorded, TimerStarted
from booth.program_out.pack import make_pack, moments_from_log
from booth.store import kinds
from booth.store.reader import SessionReader
from booth.store.recovery import config_snapshot
from booth.store.session_log import SessionLog
from tests.program_out.clips.conftest import FPS, streams, video_packets

T0 = 1_700_000_000.0
RECORDING = "booth-20231114-221320.ts"
DROP = {
    "drop": {"title": "Tee drop", "timer_seconds": 60, "low_stock_at": 3, "critical_stock_at": 1},
    "sku": [{"id": "tee", "name": "TEE / BLACK", "stock": 5}, {"id": "cap", "name": "CAP / RED", "stock": 4}],
}
# (seconds after T0 = seconds into the recording, reason, stock then as the overlay showed it)
MOMENTS = [
    (1.0, "first sale", 8),  # names no product: all units left (tee 4 + cap 4)
    (2.5, "TEE / BLACK low stock: 3 left", 3),
    (3.2, "camera switch: primary stalled: no frame for 210 ms", 7),
    (4.0, "TEE / BLACK sold out", 0),
]


@pytest.fixture
def session_log(tmp_path):
    config = parse_config(DROP, "drop.toml")
    log = SessionLog(tmp_path / "booth.sqlite3", wall=lambda: T0).start()
    log.begin_session(config.drop.title, "live", config_snapshot(config))

    def sale(at: float, qty: int) -> None:
        log.append(SaleRecorded(T0 + at, "tee", qty, "host"), lambda e: None, lambda e, r: pytest.fail(r))

    def moment(at: float, index: int, reason: str) -> None:
        log.record(kinds.MOMENT, {"index": index, "reason": reason, "stream_s": at}, wall=T0 + at)

    log.append(TimerStarted(T0, deadline_wall=T0 + 60), lambda e: None, lambda e, r: pytest.fail(r))
    log.record(kinds.RECORDING, {"program": str(tmp_path / RECORDING)}, wall=T0)  # as program out logs it
    sale(0.9, 1)
    moment(1.0, 0, "first sale")
    sale(2.4, 1)
    moment(2.5, 1, "TEE / BLACK low stock: 3 left")
    moment(3.2, 2, "camera switch: primary stalled: no frame for 210 ms")
    sale(3.9, 3)
    moment(4.0, 3, "TEE / BLACK sold out")
    log.record(kinds.MOMENT, {"index": 4, "reason": "first sale"}, wall=T0 + 4.5)  # no stream time: left out
    assert log.flush()
    log.close()
    return tmp_path / "booth.sqlite3"


def test_the_pack_has_a_clip_and_thumbnail_per_moment_a_recap_and_a_manifest_matching_the_log(
    program, exports, session_log, tmp_path
) -> None:
    with SessionReader(session_log) as reader:
        session = reader.session()
        moments = moments_from_log(session, reader.events(session.id))
    assert [(m.at_s, m.reason, m.stock_then) for m in moments] == MOMENTS
    recording = tmp_path / RECORDING
    recording.write_bytes(program.path.read_bytes())
    folder = Path(pack_folder(recording))  # beside the recording, where the report looks for it
    progress: list[tuple[int, int]] = []
    result = make_pack(moments, recording, folder, exports, preset="tiktok-720", overlay=program.overlay,
                       clip_s=3.0, on_progress=lambda done, total, _s: progress.append((done, total)))  # fmt: skip
    assert result.ok, result.problems
    assert progress[-1] == (5, 5)

    with open(folder / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    document = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [r["moment"] for r in rows] == [m[1] for m in MOMENTS] + ["recap"]
    assert [c["moment"] for c in document["clips"]] == [r["moment"] for r in rows]
    assert [r["kind"] for r in rows] == ["first sale", "low stock", "cut", "sold out", "recap"]
    for row, (at, _reason, stock) in zip(rows, MOMENTS, strict=False):
        assert float(row["time_s"]) == at and int(row["stock_then"]) == stock
        assert row["preset"] == "tiktok-720" and float(row["duration_s"]) == 3.0
        clip, thumb = folder / row["file"], folder / row["thumbnail"]
        assert clip.exists() and thumb.read_bytes()[:3] == b"\xff\xd8\xff"
        assert len(video_packets(clip)) == round(3.0 * FPS)
        assert (int(streams(clip)["video"]["width"]), int(streams(clip)["video"]["height"])) == (720, 1280)
        assert row["clock"].startswith("2023-11-1")  # the moment's wall time, local
    recap = rows[-1]
    assert recap["stock_then"] == "" and float(recap["duration_s"]) == pytest.approx(6.0, abs=0.05)
    assert len(video_packets(folder / recap["file"])) == pytest.approx(6.0 * FPS, abs=1)
    files = {p.name for p in folder.iterdir()}
    assert {r["file"] for r in rows} | {r["thumbnail"] for r in rows} | {"manifest.csv", "manifest.json"} == files

    # The HTML report links every clip and shows every thumbnail, found through the log's recording record.
    html = report_html(tmp_path)
    assert "<h2>Clip pack</h2>" in html
    for row in rows:
        assert f'href="{(folder / row["file"]).as_uri()}"' in html
        assert f'src="{(folder / row["thumbnail"]).as_uri()}"' in html
        assert row["moment"] in html


def report_html(data_dir: Path) -> str:
    out = data_dir / "report.html"
    assert report_main(["--format", "html", "--out", str(out), "--data-dir", str(data_dir)]) == 0
    return out.read_text(encoding="utf-8")


def test_a_pack_without_its_recording_says_so(exports, session_log, tmp_path) -> None:
    with SessionReader(session_log) as reader:
        session = reader.session()
        moments = moments_from_log(session, reader.events(session.id))
    result = make_pack(moments, tmp_path / "gone.ts", tmp_path / "pack", exports, clip_s=3.0)
    assert not result.ok and "needs the recording" in result.problems[0]
    assert "No pack made yet" in report_html(tmp_path)  # the report says where it would be


def test_booth_pack_cuts_the_logged_recording_and_the_report_links_it(program, session_log, tmp_path, capsys) -> None:
    from booth.app.pack_command import add_arguments, run

    recording = tmp_path / RECORDING
    recording.write_bytes(program.path.read_bytes())
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--data-dir", str(tmp_path), "--preset", "tiktok-720", "--clip-seconds", "3"])
    assert run(args) == 0, capsys.readouterr().err
    folder = Path(pack_folder(recording))
    assert f"Pack: 5 clips in {folder}" in capsys.readouterr().out
    document = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [c["moment"] for c in document["clips"]] == [m[1] for m in MOMENTS] + ["recap"]
    html = report_html(tmp_path)
    for clip in document["clips"]:
        assert f'href="{(folder / clip["file"]).as_uri()}"' in html
    clean = parser.parse_args(["--data-dir", str(tmp_path), "--clean"])
    assert run(clean) == 1 and "no clean recording in its log" in capsys.readouterr().err
