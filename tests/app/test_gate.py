"""The go-live gate: rehearsals of this very file (hashed), every drill passed, counted from the real
session log; every link of the drop resolving; a warning and a logged override, never a block."""

from __future__ import annotations

import pytest

from booth.app.gate import gate_items
from booth.app.options import Options
from booth.app.startup import open_session
from booth.core.config import load_config
from booth.core.drills import DRILL_NAMES, Scorecard, not_applicable, score
from booth.drop.session import start_drop_session
from booth.reports.kpis import build_report
from booth.reports.render import render_table
from booth.store import kinds
from booth.store.db import DB_FILENAME
from booth.store.reader import SessionReader
from tests.health.servers import ModeServer
from tests.program_out.conftest import NginxRtmp

DROP = """
[drop]
title = "Night market — tees"
[output]
primary = "{ingest}"
[[sku]]
id = "tee"
name = "TEE / BLACK"
stock = 50
[plan]
rehearsals = 2
codes_sheet = "codes.pdf"
[[plan.segment]]
name = "HEADLINE BURST"
start = "2030-06-01 19:00"
minutes = 15
quota = {{ tee = 40 }}
link = "{link}"
"""


def card(passed: bool = True, full: bool = True) -> Scorecard:
    """A scorecard as `booth rehearse` logs it (its figures are the drill runner's; here only their verdicts
    matter to the gate)."""
    names = DRILL_NAMES if full else DRILL_NAMES[:3]
    drills = [not_applicable(n, "no shop") if n == "shop-unreachable" else
              score(n, 900.0 if not passed and n == "pull-primary" else 0.0, "measured") for n in names]  # fmt: skip
    return Scorecard(tuple(drills), 60.0)


def rehearse(drop, data, scorecard: Scorecard) -> None:
    """A rehearsal session of the drop file as it is now, with its scorecard in the log."""
    session = start_drop_session(data, load_config(drop), kind="rehearsal", resume=False)
    session.log.record(kinds.SCORECARD, scorecard.to_json())
    session.end_on_close = True
    session.close()


def verdict(drop, data, go_anyway: bool = False) -> dict[str, tuple[str, str]]:
    return {i.name: (i.status.value, i.summary) for i in gate_items(load_config(drop), data, go_anyway)}


@pytest.fixture
def files(tmp_path):
    ingest = NginxRtmp(tmp_path / "ingest").start()
    page = ModeServer("http-ok")
    drop = tmp_path / "drop.toml"
    drop.write_text(DROP.format(ingest=ingest.url(), link=f"http://127.0.0.1:{page.port}/drop"))
    (tmp_path / "codes.pdf").write_bytes(b"%PDF-1.4 stickers")
    yield drop, tmp_path / "data", ingest, page
    page.close()
    ingest.kill()


def test_the_gate_counts_full_passed_rehearsals_of_this_very_file(files):
    drop, data, _ingest, _page = files
    status, summary = verdict(drop, data)["rehearsals"]
    assert status == "warn" and summary.startswith("0 of 2 full rehearsals with every drill passed")

    rehearse(drop, data, card())
    rehearse(drop, data, card(passed=False))  # the pull missed its target
    rehearse(drop, data, card(full=False))  # only three drills
    status, summary = verdict(drop, data)["rehearsals"]
    assert status == "warn" and summary.startswith("1 of 2 full rehearsals")
    assert "2 rehearsal(s) of this file had a drill missing or failed" in summary
    assert "--go-anyway" in summary

    rehearse(drop, data, card())
    status, summary = verdict(drop, data)["rehearsals"]
    assert status == "ok" and summary.startswith("2 full rehearsal(s) with every drill passed")

    drop.write_text(drop.read_text().replace("minutes = 15", "minutes = 20"))  # the plan changed after rehearsing
    status, summary = verdict(drop, data)["rehearsals"]
    assert status == "warn" and summary.startswith("0 of 2") and "2 passed before the file last changed" in summary
    status, summary = verdict(drop, data, go_anyway=True)["rehearsals"]
    assert status == "ok" and summary.startswith("overridden with --go-anyway (logged): 0 of 2")


def test_every_link_of_the_drop_is_checked(files, tmp_path):
    drop, data, ingest, page = files
    items = verdict(drop, data)
    assert items["primary ingest"][0] == "ok" and "accepts a connection" in items["primary ingest"][1]
    assert items["sticker-code sheet"] == ("ok", f"{tmp_path / 'codes.pdf'} is there")
    assert items["link of HEADLINE BURST"][0] == "ok" and "answers HTTP 204" in items["link of HEADLINE BURST"][1]

    ingest.kill()
    (tmp_path / "codes.pdf").unlink()
    page.mode = "http-500"
    items = verdict(drop, data)
    assert items["primary ingest"][0] == "FAIL" and "refused the connection" in items["primary ingest"][1]
    assert items["primary ingest"][1].startswith("rtmp://127.0.0.1:")  # the stream key stays masked
    assert "sk_live_0123456789" not in items["primary ingest"][1]
    assert items["sticker-code sheet"][0] == "FAIL" and "booth codes --out codes.pdf" in items["sticker-code sheet"][1]
    assert items["link of HEADLINE BURST"][0] == "FAIL" and "answers HTTP 503" in items["link of HEADLINE BURST"][1]


@pytest.mark.parametrize("go_anyway", [False, True], ids=["warned", "overridden"])
def test_going_live_unrehearsed_is_a_warning_or_a_logged_override_never_a_block(files, go_anyway):
    drop, data, _ingest, _page = files
    rehearse(drop, data, card())
    options = Options(drop=drop, data_dir=data, go_anyway=go_anyway)
    session = open_session(options, load_config(drop), resume=False)
    try:
        assert session.controller.view().show.next.name == "HEADLINE BURST"  # the drop opened either way
        warning = [m for m in session.messages if m.startswith("Not rehearsed as the drop file asks")]
        assert warning == ([] if go_anyway else [warning[0]]) and (go_anyway or "1 of 2" in warning[0])
        assert session.log.flush()
    finally:
        session.close()
    with SessionReader(data / DB_FILENAME) as reader:
        live = reader.session()  # the latest live drop, not the rehearsal
        events = reader.events(live.id)
        text = render_table(build_report(live, events, reader.samples(live.id)))
    (gate,) = [e.payload for e in events if e.kind == kinds.GATE]
    assert live.kind == "drop" and gate["ok"] is False and gate["override"] is go_anyway
    expected = "NOT rehearsed as the file asks — gone live anyway (--go-anyway)" if go_anyway else \
        "NOT rehearsed as the file asks: 1 of 2"  # fmt: skip
    assert f"Go-live gate: {expected}" in text
