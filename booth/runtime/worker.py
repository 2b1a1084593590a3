"""The one way Booth runs code on its own thread: a named `Worker` calling a step until stopped.

A step does one unit of work — read a frame, compose a frame, probe an endpoint, write a batch —
and returns how long to wait before the next one (0: at once). The wait ends early on `wake()`
(a host lock change wakes the switcher) and on `stop()`.

A step that raises is logged once with its traceback; the same failure again is only counted
(with a one-line summary at most every `SUMMARY_EVERY_S`), so a broken compositor cannot flood the
log at frame rate. While it keeps failing, `problem` is one sentence for the host
("Program picture stopped: …"); it clears when a step succeeds again.

Threads are daemons so a step stuck in a native call can never hold the process open at exit;
`stop()` still joins with a bounded timeout and says so when the thread did not finish.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_S = 1.0
SUMMARY_EVERY_S = 10.0
JOIN_TIMEOUT_S = 3.0

Step = Callable[[], float | None]


@dataclass(frozen=True)
class Failure:
    """A step that keeps failing, for the host and the log."""

    worker: str
    label: str
    error: str  # "ValueError: bad frame size"
    count: int
    since: float  # monotonic time of the first failure in this run of failures

    @property
    def sentence(self) -> str:
        times = f" ({self.count} times)" if self.count > 1 else ""
        return f"{self.label} stopped: {self.error}{times}. Booth keeps retrying."


class Worker:
    """Runs `step()` on thread `name` until stopped.

    `label` names the work for the host ("Program picture", "Rig health"). `on_stop` runs on the
    worker's own thread after its last step (release what the steps opened).
    """

    def __init__(
        self,
        name: str,
        step: Step,
        label: str = "",
        *,
        on_stop: Callable[[], None] | None = None,
        join_timeout_s: float = JOIN_TIMEOUT_S,
        retry_after_failure_s: float = RETRY_AFTER_FAILURE_S,
    ) -> None:
        if not name.startswith("booth-"):
            raise ValueError(f"worker threads are named booth-…, got {name!r}")
        self.name = name
        self.label = label or name.removeprefix("booth-").replace("-", " ").capitalize()
        self._step = step
        self._on_stop = on_stop
        self._join_timeout_s = join_timeout_s
        self._retry_s = retry_after_failure_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._failure: Failure | None = None
        self._last_summary = 0.0
        self.steps = 0

    # -- control ---------------------------------------------------------------------------

    def start(self) -> Worker:
        if self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """End the current wait now (new work is there)."""
        self._wake.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; False (and a log line) if it is stuck in a call that does not return."""
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(self._join_timeout_s if timeout is None else timeout)
        if thread.is_alive():
            log.error("%s did not stop within %.1f s (blocked in a call); leaving it behind", self.name,
                      self._join_timeout_s if timeout is None else timeout)  # fmt: skip
            return False
        return True

    def stop(self, timeout: float | None = None) -> bool:
        self.request_stop()
        return self.join(timeout)

    # -- for steps -------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait inside a step; True when the worker is stopping (return at once)."""
        return self._stop.wait(max(0.0, seconds))

    # -- reading ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def failure(self) -> Failure | None:
        with self._lock:
            return self._failure

    @property
    def problem(self) -> str | None:
        failure = self.failure
        return failure.sentence if failure is not None else None

    # -- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                wait = self._one_step()
                if wait is None or wait <= 0:
                    continue
                if self._wake.wait(wait):
                    self._wake.clear()
        finally:
            if self._on_stop is not None:
                try:
                    self._on_stop()
                except Exception:
                    log.exception("%s: cleaning up failed", self.name)

    def _one_step(self) -> float | None:
        try:
            wait = self._step()
        except Exception as exc:
            self._failed(exc)
            return self._retry_s
        self.steps += 1
        if self._failure is not None:
            with self._lock:
                failure, self._failure = self._failure, None
            log.info("%s working again after %d failure(s)", self.name, failure.count)
        return wait

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            previous = self._failure
            same = previous is not None and previous.error == error
            count = previous.count + 1 if same and previous is not None else 1
            since = previous.since if same and previous is not None else now
            self._failure = Failure(self.name, self.label, error, count, since)
        if not same:
            log.error("%s failed: %s", self.name, error, exc_info=exc)
            self._last_summary = now
        elif now - self._last_summary >= SUMMARY_EVERY_S:
            log.error("%s still failing: %s (%d times in %.0f s)", self.name, error, count, now - since)
            self._last_summary = now


class RunsOnWorker:
    """A part whose whole life is one `Worker` in `self._worker`: its start, stop and host sentence."""

    _worker: Worker

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    @property
    def problem(self) -> str | None:
        return self._worker.problem


def every(interval_s: float, work: Callable[[], object]) -> Step:
    """A step that runs `work()` at a fixed rate (the time `work` takes is not added to the wait)."""

    def step() -> float:
        started = time.monotonic()
        work()
        return max(0.0, interval_s - (time.monotonic() - started))

    return step
