"""The pieces of program out that hold encoded bytes: the replay buffer, the recording, and one
running ingest push. `booth.program_out.output` wires them together.

Everything here keys time on the parent's monotonic clock at the moment a TS chunk arrived
from the encoder, so marks, clips and recording cuts all use the same timeline.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from booth.core.output import PushReport, describe_failure
from booth.core.redact import redact_text
from booth.devices.ingest import FfmpegPusher

log = logging.getLogger(__name__)

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Chunk:
    at: float  # monotonic arrival time
    keyframe: bool  # starts at a decoder entry point
    data: bytes


class ReplayBuffer:
    """The last `seconds` of the encoded program, whole GOPs, never raw frames.

    Trimmed a GOP at a time, so the oldest chunk is always a keyframe and at least `seconds`
    are kept (at most one GOP more). Thread-safe.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._chunks: deque[Chunk] = deque()
        self._keys: deque[float] = deque()  # arrival times of keyframe chunks
        self._bytes = 0
        self._lock = threading.Lock()

    def append(self, chunk: Chunk) -> None:
        with self._lock:
            if not self._chunks and not chunk.keyframe:
                return  # always start at a keyframe
            self._chunks.append(chunk)
            self._bytes += len(chunk.data)
            if chunk.keyframe:
                self._keys.append(chunk.at)
            # drop the oldest GOP while the rest still covers `seconds`
            while len(self._keys) >= 2 and chunk.at - self._keys[1] >= self.seconds:
                self._keys.popleft()
                while self._chunks and self._chunks[0].at < self._keys[0]:
                    self._bytes -= len(self._chunks.popleft().data)
                while self._chunks and not self._chunks[0].keyframe:
                    self._bytes -= len(self._chunks.popleft().data)

    @property
    def bytes(self) -> int:
        return self._bytes

    def span_s(self) -> float:
        with self._lock:
            return self._chunks[-1].at - self._chunks[0].at if self._chunks else 0.0

    def start_time(self) -> float | None:
        with self._lock:
            return self._chunks[0].at if self._chunks else None

    def window(self, start: float, end: float) -> tuple[bytes, float] | None:
        """Bytes from the last keyframe at or before `start` up to `end`, and the real start time."""
        with self._lock:
            chunks = list(self._chunks)
        if not chunks:
            return None
        begin = 0
        for i, chunk in enumerate(chunks):
            if chunk.keyframe and chunk.at <= start:
                begin = i
            elif chunk.at > start:
                break
        picked = [c.data for c in chunks[begin:] if c.at <= end]
        return (b"".join(picked), chunks[begin].at) if picked else None

    def last_gop(self) -> list[Chunk]:
        """From the newest keyframe on: what a fresh ingest connection starts with."""
        with self._lock:
            chunks = list(self._chunks)
        for i in range(len(chunks) - 1, -1, -1):
            if chunks[i].keyframe:
                return chunks[i:]
        return []


class Recorder:
    """Writes the TS program to one file on its own thread; fsyncs every second, so a power cut
    loses at most about a second. Keeps a keyframe index to cut moments from it later."""

    FSYNC_EVERY_S = 1.0

    def __init__(self, path: Path, clock: Callable[[], float], max_queue_bytes: int = 64 * MB) -> None:
        self.path = path
        self._clock = clock
        self._max_queue = max_queue_bytes
        self._queue: deque[Chunk] = deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._index: list[tuple[float, int]] = []  # (arrival time, file offset) of keyframe chunks
        self._lock = threading.Lock()
        self.bytes_written = 0
        self.error = ""
        self.dropped_chunks = 0
        self._started = False

    @property
    def active(self) -> bool:
        return self._thread is not None and not self.error

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="booth-output-record", daemon=True)
        self._thread.start()

    def put(self, chunk: Chunk) -> None:
        if self.error:
            return
        with self._cond:
            if self._queued + len(chunk.data) > self._max_queue:
                self.dropped_chunks += 1  # the disk is slower than the stream: never grow without bound
                return
            self._queue.append(chunk)
            self._queued += len(chunk.data)
            self._cond.notify()

    def fail(self, message: str) -> None:
        """Stop recording with a sentence for the host (the file so far is kept)."""
        if not self.error:
            self.error = message
            log.error("%s", message)
        with self._cond:
            self._cond.notify()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(10.0)
            if self._thread.is_alive():
                log.error("recording thread did not stop")
            self._thread = None

    def _run(self) -> None:
        file = None
        last_sync = self._clock()
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._stop.is_set() and not self.error:
                        self._cond.wait(0.5)
                    chunks = list(self._queue)
                    self._queue.clear()
                    self._queued = 0
                if self.error:
                    break
                for chunk in chunks:
                    if not self._started:
                        if not chunk.keyframe:
                            continue
                        self.path.parent.mkdir(parents=True, exist_ok=True)
                        file = open(self.path, "ab")  # noqa: SIM115 - held open for the whole show
                        self._started = True
                        log.info("recording the program to %s", self.path)
                    assert file is not None
                    if chunk.keyframe:
                        with self._lock:
                            self._index.append((chunk.at, self.bytes_written))
                    file.write(chunk.data)
                    self.bytes_written += len(chunk.data)
                if file is not None:
                    file.flush()
                    if self._clock() - last_sync >= self.FSYNC_EVERY_S or self._stop.is_set():
                        os.fsync(file.fileno())
                        last_sync = self._clock()
                if self._stop.is_set() and not self._queue:
                    break
        except OSError as exc:
            self.fail(self._describe(exc))
        finally:
            if file is not None:
                with contextlib.suppress(OSError):
                    file.flush()
                    os.fsync(file.fileno())
                with contextlib.suppress(OSError):
                    file.close()

    def _describe(self, exc: OSError) -> str:
        size = f"{self.bytes_written / MB:.0f} MB"
        if exc.errno == errno.ENOSPC:
            return f"Disk full: recording stopped after {size}; the file so far is kept ({self.path})."
        return f"Recording stopped after {size}: {exc.strerror or exc}; the file so far is kept ({self.path})."

    def read_window(self, start: float, end: float) -> bytes | None:
        """The recorded bytes from the last keyframe at or before `start` to the first one after `end`."""
        with self._lock:
            index = list(self._index)
        if not index:
            return None
        begin = 0
        stop_at: int | None = None
        for at, offset in index:
            if at <= start:
                begin = offset
            if at > end:
                stop_at = offset
                break
        try:
            with open(self.path, "rb") as f:
                f.seek(begin)
                return f.read((stop_at - begin) if stop_at is not None else self.bytes_written - begin)
        except OSError as exc:
            log.warning("could not read the recording %s: %s", self.path, exc)
            return None


class IngestRun:
    """One ffmpeg push: a writer thread feeding its stdin from a bounded queue, and a reader
    thread turning its stderr into progress (bytes out) and a tail of last words."""

    def __init__(
        self,
        pusher: FfmpegPusher,
        clock: Callable[[], float],
        max_queue_bytes: int,
    ) -> None:
        self.pusher = pusher
        self.name = pusher.target.name
        self._clock = clock
        self._max_queue = max_queue_bytes
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._need_key = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tail: deque[str] = deque(maxlen=12)
        self._total = 0
        self.started_at = clock()
        self.progressed_at: float | None = None
        self._first_progress: float | None = None
        self.dropped_chunks = 0

    def start(self, seed: list[Chunk]) -> None:
        self.started_at = self._clock()
        self.pusher.start()
        for chunk in seed:
            self.offer(chunk)
        for target, kind in ((self._write_loop, "push"), (self._log_loop, "log")):
            thread = threading.Thread(target=target, name=f"booth-output-{kind}-{self.name}", daemon=True)
            self._threads.append(thread)
            thread.start()

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

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            with self._cond:
                while not self._queue and not self._stop.is_set():
                    self._cond.wait(0.5)
                if self._stop.is_set():
                    break
                data = self._queue.popleft()
                self._queued -= len(data)
            try:
                self.pusher.write(data)
            except OSError:
                break  # ffmpeg is gone; the supervisor sees its exit

    def _log_loop(self) -> None:
        stream = self.pusher.stderr
        with contextlib.suppress(OSError, ValueError):
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").strip()
                key, sep, value = line.partition("=")
                if sep and " " not in key:
                    if key == "total_size" and value.isdigit() and int(value) > self._total:
                        self._total = int(value)
                        self.progressed_at = self._clock()
                        if self._first_progress is None:
                            self._first_progress = self.progressed_at
                    continue
                if line:
                    shown = redact_text(line)
                    self._tail.append(shown)
                    log.debug("ffmpeg %s: %s", self.name, shown)

    def report(self) -> PushReport:
        code = self.pusher.exit_code()
        if code is not None and self._threads and self._threads[1].is_alive():
            self._threads[1].join(0.5)  # let its last words arrive before judging them
        live_s = (self.progressed_at - self._first_progress) if self._first_progress and self.progressed_at else 0.0
        reason = describe_failure("\n".join(self._tail), code, live_s) if code is not None else ""
        return PushReport(self.started_at, self.progressed_at, code is not None, reason)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self.pusher.close()
        for thread in self._threads:
            thread.join(5.0)
            if thread.is_alive():
                log.error("thread %s did not stop", thread.name)
        self._threads.clear()
