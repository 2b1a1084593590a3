"""Clips: a window of the encoded program remuxed to MP4 on the clip worker, never re-encoded."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue

from booth.devices.clip import ClipError, remux_ts_to_mp4
from booth.program_out.recorder import Recorder
from booth.program_out.replay import ReplayBuffer
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipResult:
    path: Path | None
    duration_s: float
    message: str  # a sentence for the host
    reason: str = "clip"

    @property
    def ok(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class ClipStatus:
    last_clip: str = ""
    message: str = ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "clip"


def resolved_future(result: ClipResult) -> Future[ClipResult]:
    future: Future[ClipResult] = Future()
    future.set_result(result)
    return future


class ClipMaker:
    """Queues clip jobs (start/end on the monotonic clock) and answers each with a future."""

    def __init__(
        self,
        folder: Path,
        replay: ReplayBuffer,
        recorder: Callable[[], Recorder | None],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.folder = folder
        self._replay = replay
        self._recorder = recorder
        self._wall = wall
        self._jobs: Queue[tuple[str, float, float, Future[ClipResult]]] = Queue()
        self._lock = threading.Lock()
        self._status = ClipStatus()
        self._running = False
        self._worker = Worker("booth-output-clip", self._step, "Clips", on_stop=self._answer_the_rest)

    def start(self) -> None:
        self._running = True
        self._worker.start()

    def stop(self) -> None:
        self._running = False
        self._worker.stop()

    def status(self) -> ClipStatus:
        with self._lock:
            return self._status

    def queue(self, reason: str, start: float, end: float) -> Future[ClipResult]:
        if not self._running:
            return resolved_future(ClipResult(None, 0.0, "Output is not running: nothing to clip.", reason))
        future: Future[ClipResult] = Future()
        self._jobs.put((reason, start, end, future))
        return future

    # -- the worker ----------------------------------------------------------------------------

    def _step(self) -> float:
        try:
            reason, start, end, future = self._jobs.get(timeout=0.5)
        except Empty:
            return 0.0
        try:
            result = self.make(reason, start, end)
        except Exception as exc:  # answer the host whatever happens; the worker logs it
            future.set_result(ClipResult(None, 0.0, f"Clip not saved: {exc}", reason))
            raise
        with self._lock:
            self._status = ClipStatus(str(result.path) if result.path else self._status.last_clip, result.message)
        future.set_result(result)
        return 0.0

    def _answer_the_rest(self) -> None:
        while True:
            try:
                _reason, _s, _e, future = self._jobs.get_nowait()
            except Empty:
                return
            future.set_result(ClipResult(None, 0.0, "Output stopped before the clip was saved."))

    def make(self, reason: str, start: float, end: float) -> ClipResult:
        """Cut [start, end] from memory (or from the recording when it is older) into an MP4."""
        data: bytes | None = None
        oldest = self._replay.start_time()
        recorder = self._recorder()
        if oldest is not None and oldest <= start + 0.5:
            window = self._replay.window(start, end)
            data = window[0] if window else None
        elif recorder is not None:
            data = recorder.read_window(start, end)
        if data is None and oldest is not None:
            window = self._replay.window(start, end)  # part of it is still better than nothing
            data = window[0] if window else None
        if not data:
            return ClipResult(None, 0.0, "Nothing to clip yet: the encoder has not produced a keyframe.", reason)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._wall()))
        path = self.folder / f"clip-{stamp}-{_slug(reason)}.mp4"
        n = 1
        while path.exists() and n < 100:
            path = self.folder / f"clip-{stamp}-{_slug(reason)}-{n}.mp4"
            n += 1
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            info = remux_ts_to_mp4(data, path)
        except (ClipError, OSError) as exc:
            message = f"Clip not saved: {exc}"
            log.error("%s", message)
            return ClipResult(None, 0.0, message, reason)
        message = f"Clip saved: {info.duration_s:.0f} s, {path.name}"
        log.info("%s (%s)", message, reason)
        return ClipResult(path, info.duration_s, message, reason)
