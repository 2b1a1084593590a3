"""Moments and ingest switches reach the session log (the report and later exports read them)."""

from __future__ import annotations

from booth.app.session_records import SessionRecords
from booth.core.config import ProgramConfig, demo_config
from booth.core.frames import ProgramFrame
from booth.core.output import OutputConfig
from booth.drop.session import start_drop_session
from booth.program_out.program_out import ProgramOut
from booth.runtime.feed import Feed
from booth.store.reader import SessionReader


def test_marked_moments_are_in_the_session_log(tmp_path):
    config = demo_config()
    session = start_drop_session(tmp_path, config)
    output = ProgramOut(OutputConfig(), ProgramConfig(640, 360, 30), Feed(stamp=ProgramFrame.stamp))
    records = SessionRecords(session.log, lambda: None)  # type: ignore[arg-type, return-value]
    output.on_moment(records.moment)
    output.watch_drop(session.controller)
    session.controller.start_timer()
    session.controller.sell()  # the first sale is a moment
    output.mark("camera switch: primary stalled: no frame for 210 ms")
    assert session.log.flush()
    session.close()
    with SessionReader(tmp_path / "booth.sqlite3") as reader:
        moments = [e.payload["reason"] for e in reader.events(reader.session().id) if e.kind == "moment"]
    assert sorted(moments) == ["camera switch: primary stalled: no frame for 210 ms", "first sale"]
