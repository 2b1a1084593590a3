"""The ingest supervisor: runs the primary/backup pushes the policy asks for, on its own worker.

Every tick (`booth-output-ingest`, 10×/s) it judges the running pushes, starts and stops
`ffmpeg -c copy` processes, and publishes an immutable `IngestStatus`. Everything that can wait
— starting a process, stopping one, reading its last words — happens here; `status()` only hands
back the snapshot, so the GUI can call it at any rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from booth.core.output import (
    IngestHealth,
    IngestPolicy,
    IngestTarget,
    OutputState,
    PolicyTimes,
    PushReport,
    judge,
)
from booth.devices.ingest import FfmpegMissing, FfmpegPusher
from booth.program_out.ingest_run import IngestRun
from booth.program_out.replay import Chunk, ReplayBuffer
from booth.runtime.worker import Worker, every

log = logging.getLogger(__name__)

TICK_S = 0.1
MB = 1024 * 1024


@dataclass(frozen=True)
class IngestStatus:
    state: OutputState = OutputState.OFF
    ingest: str = ""  # redacted URL of the ingest carrying the program
    message: str = ""  # a sentence for the host when the stream is not reaching viewers
    time_live_s: float = 0.0
    switches: int = 0


class IngestSupervisor:
    """`switched(from, to, reason)` runs on the supervisor's worker when the stream changes ingest."""

    def __init__(
        self,
        targets: dict[str, IngestTarget],
        replay: ReplayBuffer,
        queue_limit_bytes: int,
        clock: Callable[[], float] = time.monotonic,
        times: PolicyTimes | None = None,
        pusher_factory: Callable[[IngestTarget], FfmpegPusher] = FfmpegPusher,
        switched: Callable[[str, str, str], None] = lambda _a, _b, _c: None,
    ) -> None:
        self._targets = targets
        self._replay = replay
        self._queue_limit = queue_limit_bytes
        self._clock = clock
        self._times = times or PolicyTimes()
        self._pusher_factory = pusher_factory
        self._switched = switched
        self._policy = IngestPolicy("backup" in targets, self._times)
        self._runs: dict[str, IngestRun] = {}
        self._runs_lock = threading.Lock()  # offer() comes from the encoder reader's worker
        self._live_since: float | None = None
        self._last_chunk_at: float | None = None
        self._lock = threading.Lock()
        self._status = IngestStatus(OutputState.CONNECTING, targets["primary"].label) if targets else IngestStatus()
        self._worker = Worker("booth-output-ingest", every(TICK_S, self._tick), "Streaming", join_timeout_s=10.0)

    def start(self) -> None:
        if self._targets:
            self._worker.start()

    def stop(self) -> None:
        self._worker.stop()
        with self._runs_lock:
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            run.stop()

    def offer(self, chunk: Chunk) -> None:
        """A new TS chunk for every running push (the encoder reader's worker)."""
        self._last_chunk_at = chunk.at
        with self._runs_lock:
            runs = list(self._runs.values())
        for run in runs:
            run.offer(chunk)

    def status(self) -> IngestStatus:
        with self._lock:
            return self._status

    @property
    def problem(self) -> str | None:
        return self._worker.problem

    # -- the worker ----------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self._clock()
        if self._replay.last_gop():
            self._step(now)
        status = self._judge(now)
        with self._lock:
            self._status = status

    def _reports(self, now: float) -> dict[str, PushReport]:
        with self._runs_lock:
            runs = dict(self._runs)
        reports = {name: run.report(now) for name, run in runs.items()}
        idle = self._last_chunk_at is None or now - self._last_chunk_at > 1.0
        if idle:  # nothing to send: a quiet pusher is not a stalled one
            reports = {n: replace(r, progressed_at=now) if r.progressed_at else r for n, r in reports.items()}
        return reports

    def _step(self, now: float) -> None:
        policy = self._policy
        before = policy.active
        for action in policy.step(now, self._reports(now)):
            target = self._targets[action.target]
            if action.kind == "stop":
                with self._runs_lock:
                    run = self._runs.pop(action.target, None)
                if run is not None:
                    run.stop()
                log.warning("%s ingest %s: %s", action.target, target.label, action.reason)
                continue
            run = IngestRun(self._pusher_factory(target), self._clock, self._queue_limit)
            try:
                run.start(self._replay.last_gop())
            except (OSError, FfmpegMissing) as exc:
                log.error("could not start pushing to %s: %s", target.label, exc)
                continue
            with self._runs_lock:
                self._runs[action.target] = run
        if policy.active != before:
            log.warning("program out switched %s → %s ingest: %s", before, policy.active, policy.last_switch_reason)
            self._switched(before, policy.active, policy.last_switch_reason)

    def _judge(self, now: float) -> IngestStatus:
        policy = self._policy
        active = policy.active
        with self._runs_lock:
            run = self._runs.get(active)
        label = self._targets[active].label
        live = run is not None and judge(run.report(now), now, self._times) is IngestHealth.LIVE
        if live and self._live_since is None:
            self._live_since = now
        time_live = (now - self._live_since) if self._live_since is not None else 0.0
        base = IngestStatus(OutputState.OFF, label, "", time_live, policy.switches)
        if live and active == "primary":
            return replace(base, state=OutputState.LIVE)
        if live:
            why = policy.last_error("primary") or "failed"
            return replace(base, state=OutputState.BACKUP,
                           message=f"On the backup ingest: the primary {why}; retrying the primary.")  # fmt: skip
        errors = [f"{n} {policy.last_error(n)}" for n in self._targets if policy.last_error(n)]
        if not errors and self._live_since is None:
            return replace(base, state=OutputState.CONNECTING)
        retry = [policy.next_try_in(n, now) for n in self._targets]
        due = min((r for r in retry if r is not None), default=0.0)
        return replace(
            base,
            state=OutputState.RECONNECTING,
            message=f"Stream not reaching viewers: {'; '.join(errors) or 'connecting'}. Retrying in {due:.0f} s.",
        )


def queue_limit(bytes_per_s: float) -> int:
    """What a push may queue before it is judged not to be taking the stream: 4 s of it."""
    return max(MB, int(bytes_per_s * 4))
