"""One running ingest push: an ffmpeg process fed from a bounded queue, its progress and last words."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from booth.core.output import PushReport, describe_failure
from booth.core.redact import redact_text
from booth.devices.ingest import FfmpegPusher
from booth.program_out.replay import Chunk
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)


class IngestRun:
    """One ffmpeg push: a writer worker feeding its stdin from a bounded queue, and a reader
    worker turning its stderr into progress (bytes out) and a tail of last words.

    `report()` only reads what the workers published: it never waits, so the ingest supervisor
    can judge every run on every tick. A run whose process has exited but whose last words are
    still arriving reports `settled=False`; the supervisor judges it on a later tick."""

    def __init__(self, pusher: FfmpegPusher, clock: Callable[[], float], max_queue_bytes: int) -> None:
        self.pusher = pusher
        self.name = pusher.target.name
        self._clock = clock
        self._max_queue = max_queue_bytes
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._need_key = False
        self._cond = threading.Condition()
        self._tail: deque[str] = deque(maxlen=12)
        self._total = 0
        self._stderr_done = threading.Event()
        self.started_at = clock()
        self.progressed_at: float | None = None
        self._first_progress: float | None = None
        self.dropped_chunks = 0
        self._writer = Worker(f"booth-output-push-{self.name}", self._write_step, f"Stream to the {self.name} ingest")
        self._log = Worker(f"booth-output-log-{self.name}", self._log_step, f"{self.name} ingest log")

    def start(self, seed: list[Chunk]) -> None:
        self.started_at = self._clock()
        self.pusher.start()
        for chunk in seed:
            self.offer(chunk)
        self._writer.start()
        self._log.start()

    def offer(self, chunk: Chunk) -> None:
        with self._cond:
            if self._need_key and not chunk.keyframe:
                self.dropped_chunks += 1
                return
            if self._queued + len(chunk.data) > self._max_queue:
                # the ingest is not taking it: drop what waits and restart at the next keyframe
                self.dropped_chunks += len(self._queue) + 1
                self._queue.clear()
                self._queued = 0
                self._need_key = True
                if not chunk.keyframe:
                    return
            self._need_key = False
            self._queue.append(chunk.data)
            self._queued += len(chunk.data)
            self._cond.notify()

    def queued_bytes(self) -> int:
        return self._queued

    def _write_step(self) -> float:
        with self._cond:
            if not self._queue:
                self._cond.wait(0.5)
            if not self._queue:
                return 0.0
            data = self._queue.popleft()
            self._queued -= len(data)
        try:
            self.pusher.write(data)
        except OSError:
            return 0.5  # ffmpeg is gone; the supervisor sees its exit and stops this run
        return 0.0

    def _log_step(self) -> float:
        if self._stderr_done.is_set():
            return 0.5
        try:
            raw = self.pusher.stderr.readline()
        except (OSError, ValueError):
            raw = b""
        if not raw:
            self._stderr_done.set()  # EOF: ffmpeg has said its last words
            return 0.5
        line = raw.decode("utf-8", "replace").strip()
        key, sep, value = line.partition("=")
        if sep and " " not in key:
            if key == "total_size" and value.isdigit() and int(value) > self._total:
                self._total = int(value)
                self.progressed_at = self._clock()
                if self._first_progress is None:
                    self._first_progress = self.progressed_at
        elif line:
            shown = redact_text(line)
            self._tail.append(shown)
            log.debug("ffmpeg %s: %s", self.name, shown)
        return 0.0

    def report(self, now: float | None = None) -> PushReport:
        code = self.pusher.exit_code()
        if code is not None and not self._stderr_done.is_set():
            # exited, last words still on their way: judge it when they are in (≤ a tick or two)
            elapsed = (now if now is not None else self._clock()) - self.started_at
            if elapsed < 30.0:
                return PushReport(self.started_at, self.progressed_at, False, "")
        live_s = (self.progressed_at - self._first_progress) if self._first_progress and self.progressed_at else 0.0
        reason = describe_failure("\n".join(self._tail), code, live_s) if code is not None else ""
        return PushReport(self.started_at, self.progressed_at, code is not None, reason)

    def stop(self) -> None:
        self._writer.request_stop()
        self._log.request_stop()
        with self._cond:
            self._cond.notify_all()
        self.pusher.close()  # ends the process: stderr reaches EOF, the log worker returns
        self._writer.join(5.0)
        self._log.join(5.0)
