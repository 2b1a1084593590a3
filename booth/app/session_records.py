"""What the rig tells the session log, for the report and a later export: one named home for the
glue between the slices and the store.

Every method is a listener called on some worker's thread; it only enqueues a record.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future

from booth.core.health.alerts import AlertChange, Severity
from booth.core.health.snapshot import HealthSnapshot, health_samples
from booth.core.honest_scarcity import Decision
from booth.core.output import Moment
from booth.program_out.clips import ClipResult
from booth.program_out.export import ExportStatus, JobState
from booth.store import kinds
from booth.store.session_log import SessionLog
from booth.video.compositor import CompositorStats
from booth.video.program_gaps import ProgramCut

SAMPLE_EVERY_S = 1.0


class SessionRecords:
    def __init__(self, log: SessionLog, program_stats: Callable[[], CompositorStats]) -> None:
        self._log = log
        self._program_stats = program_stats
        self._last_sample = 0.0

    def program_cut(self, cut: ProgramCut) -> None:
        """A cut as viewers saw it: the switcher's reason, the gap measured in the program frames."""
        self._log.record(kinds.SOURCE_SWITCH, {
            "from": cut.from_source, "to": cut.to_source, "reason": cut.reason,
            "automatic": cut.automatic, "gap_ms": cut.gap_ms,
        })  # fmt: skip

    def alert(self, change: AlertChange) -> None:
        if change.alert.severity is not Severity.OK:
            self._log.record(kinds.ALERT, {
                "level": change.alert.severity.label, "code": change.alert.key, "message": change.alert.message,
            })  # fmt: skip

    def health_sample(self, snapshot: HealthSnapshot) -> None:
        """Rig figures, at most once a second (the log downsamples them further into buckets)."""
        if snapshot.taken_at - self._last_sample < SAMPLE_EVERY_S:
            return
        self._last_sample = snapshot.taken_at
        for metric, value in health_samples(snapshot, self._program_stats().fps).items():
            self._log.sample(metric, value)

    def overlay_decision(self, decision: Decision) -> None:
        """What the overlay showed because viewers see it late, and what was true (booth.core.honest_scarcity)."""
        self._log.record(kinds.OVERLAY, decision.to_dict())

    def input_delay_alert(self, role: str, sentence: str) -> None:
        """A source's delay behind its sender grew (a backlog building); "" when it is back to normal."""
        if sentence:
            self._log.record(kinds.ALERT, {"level": "warn", "code": f"input_delay.{role}", "message": sentence})

    def ingest_switch(self, before: str, after: str, reason: str) -> None:
        self._log.record(kinds.OUTPUT_SWITCH, {"output": "ingest", "from": before, "to": after, "reason": reason})

    def moment(self, moment: Moment) -> None:
        self._log.record(kinds.MOMENT, {"index": moment.index, "reason": moment.reason, "stream_s": moment.stream_s})

    def viewers(self, count: int) -> None:
        self._log.record(kinds.VIEWERS, {"count": count, "origin": "host"})

    def clip(self, future: Future[ClipResult]) -> Future[ClipResult]:
        """Record the clip once it is written; hands the same future back."""

        def done(finished: Future[ClipResult]) -> None:
            result = finished.result() if finished.exception() is None else None
            if result is not None and result.ok:
                self._log.record(kinds.CLIP, {"path": str(result.path), "seconds": result.duration_s})

        future.add_done_callback(done)
        return future

    def recording(self, paths: dict[str, str]) -> None:
        """The run's recording files (program with the overlay, clean without), once they are known."""
        if paths:
            self._log.record(kinds.RECORDING, dict(paths))

    def exported(self, status: ExportStatus) -> None:
        """A clip the export worker finished (9:16, captioned or clean): in the log like a plain clip."""
        if status.state is JobState.DONE and status.path is not None:
            self._log.record(kinds.CLIP, {"path": str(status.path), "seconds": status.duration_s,
                                          "label": status.label})  # fmt: skip
