"""Moments and ingest switches reach the session log (the report and later exports read them)."""

from __future__ import annotations

from booth.app.root import record_output_events
from booth.core.config import ProgramConfig, demo_config
from booth.core.output import OutputConfig
from booth.drop.session import start_drop_session
from booth.program_out.output import OutputService
from booth.store.reader import SessionReader


def test_marked_moments_are_in_the_session_log(tmp_path):
    session = start_drop_session(tmp_path, demo_config())
    output = OutputService(OutputConfig(recording_dir=""), ProgramConfig(640, 360, 30), base_dir=tmp_path)
    record_output_events(output, session.log)
    output.watch_drop(session.controller)
    session.controller.sell()  # the first sale is a moment
    output.mark("camera switch: primary stalled: no frame for 210 ms")
    assert session.log.flush()
    session.close()
    with SessionReader(tmp_path / "booth.sqlite3") as reader:
        moments = [e.payload["reason"] for e in reader.events(reader.session().id) if e.kind == "moment"]
    assert sorted(moments) == ["camera switch: primary stalled: no frame for 210 ms", "first sale"]
