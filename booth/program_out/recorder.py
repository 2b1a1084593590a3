"""The recording: the encoded program written to one file, fsynced every second."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from booth.core.health.system import format_bytes
from booth.program_out.replay import Chunk
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)

MB = 1024 * 1024  # memory bounds only; sizes shown to people use decimal units (format_bytes)


class Recorder:
    """Writes the TS program to one file on its own worker; fsyncs every second, so a power cut
    loses at most about a second. Keeps a keyframe index to cut moments from it later.

    `disk_low()` says when the disk guard wants recording to stop (the session log needs the rest)."""

    FSYNC_EVERY_S = 1.0

    def __init__(
        self,
        path: Path,
        clock: Callable[[], float],
        max_queue_bytes: int = 64 * MB,
        disk_low: Callable[[], str | None] = lambda: None,
        name: str = "booth-output-record",
    ) -> None:
        self.path = path
        self._clock = clock
        self._max_queue = max_queue_bytes
        self._disk_low = disk_low
        self._queue: deque[Chunk] = deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._index: list[tuple[float, int]] = []  # (arrival time, file offset) of keyframe chunks
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._last_sync = 0.0
        self.bytes_written = 0
        self.error = ""
        self.dropped_chunks = 0
        self._worker = Worker(name, self._step, "Recording", on_stop=self._finish,
                              join_timeout_s=10.0)  # fmt: skip

    @property
    def active(self) -> bool:
        return self._worker.running and not self.error

    def start(self) -> None:
        self._worker.start()

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
        self._worker.request_stop()
        with self._cond:
            self._cond.notify()
        self._worker.join()

    def _take(self, wait_s: float) -> list[Chunk]:
        with self._cond:
            if not self._queue and not self.error:
                self._cond.wait(wait_s)
            chunks = list(self._queue)
            self._queue.clear()
            self._queued = 0
        return chunks

    def _step(self) -> float:
        chunks = self._take(0.5)
        if self.error:
            return 0.5  # stopped for good: the chunks are dropped, the file so far is kept
        low = self._disk_low()
        if low:
            self.fail(f"{low}: recording stopped so the sales log can still write; the file so far is kept "
                      f"({self.path}).")  # fmt: skip
            self._close()
            return 0.5
        self._write(chunks)
        return 0.0

    def _write(self, chunks: list[Chunk]) -> None:
        try:
            for chunk in chunks:
                if self._file is None:
                    if not chunk.keyframe:
                        continue  # a recording starts at a keyframe, so every player can open it
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = open(self.path, "ab")  # noqa: SIM115 - held open for the whole show
                    log.info("recording the program to %s", self.path)
                if chunk.keyframe:
                    with self._lock:
                        self._index.append((chunk.at, self.bytes_written))
                self._file.write(chunk.data)
                self.bytes_written += len(chunk.data)
            if self._file is not None:
                self._file.flush()
                if self._clock() - self._last_sync >= self.FSYNC_EVERY_S:
                    os.fsync(self._file.fileno())
                    self._last_sync = self._clock()
        except OSError as exc:
            self.fail(self._describe(exc))
            self._close()

    def _finish(self) -> None:
        """On the worker's thread after its last step: write what is queued, fsync, close."""
        if not self.error:
            self._write(self._take(0.0))
        self._close()

    def _close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):
                file.flush()
                os.fsync(file.fileno())
            with contextlib.suppress(OSError):
                file.close()

    def _describe(self, exc: OSError) -> str:
        size = format_bytes(self.bytes_written)
        if exc.errno == errno.ENOSPC:
            return f"Disk full: recording stopped after {size}; the file so far is kept ({self.path})."
        return f"Recording stopped after {size}: {exc.strerror or exc}; the file so far is kept ({self.path})."

    def read_window(self, start: float, end: float) -> bytes | None:
        """The recorded bytes from the last keyframe at or before `start` to the first one after `end`."""
        got = self.window(start, end)
        return got[0] if got is not None else None

    def window(self, start: float, end: float) -> tuple[bytes, float] | None:
        """As `read_window`, with the arrival time of the keyframe the bytes start at."""
        with self._lock:
            index = list(self._index)
        if not index:
            return None
        begin = 0
        begin_at = index[0][0]
        stop_at: int | None = None
        for at, offset in index:
            if at <= start:
                begin, begin_at = offset, at
            if at > end:
                stop_at = offset
                break
        try:
            with open(self.path, "rb") as f:
                f.seek(begin)
                return f.read((stop_at - begin) if stop_at is not None else self.bytes_written - begin), begin_at
        except OSError as exc:
            log.warning("could not read the recording %s: %s", self.path, exc)
            return None
