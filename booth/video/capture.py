"""One capture thread per source: open, read into a newest-frame slot, reconnect on failure.

The thread never touches the GUI. A read that blocks forever only stalls this thread;
the compositor and the watchdog look at the slot's timestamps from outside.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from booth.core.failover import Observation
from booth.core.frames import SourceFrame
from booth.core.source_state import SourceState, SourceStatus
from booth.devices.imaging import picture_change, picture_sample
from booth.devices.sources import FrameSource, SourceError
from booth.runtime.feed import FrameSlot

log = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
JOIN_TIMEOUT_S = 3.0
HISTORY = 256  # frame times and picture changes kept for the watchdog (> 2 s at 60 fps)


def default_retry_delay(failures: int) -> float:
    return BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]


class CaptureService:
    def __init__(
        self,
        role: str,
        source: FrameSource,
        clock: Callable[[], float] = time.monotonic,
        retry_delay: Callable[[int], float] = default_retry_delay,
        make_source: Callable[[], FrameSource] | None = None,
    ) -> None:
        self.role = role
        self.source = source
        self.slot: FrameSlot[SourceFrame] = FrameSlot()
        self._clock = clock
        self._retry_delay = retry_delay
        self._make_source = make_source  # a fresh instance when a hung reader is abandoned
        self._generation = 0
        self._abandoned: list[threading.Thread] = []
        self.abandoned_readers = 0
        self._stop = threading.Event()
        self._wake = threading.Event()  # "reconnect now"
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._state = SourceState.STARTING
        self._message = ""
        self._frames = 0
        self._reconnects = 0
        self._last_frame_at: float | None = None
        self._next_attempt_at: float | None = None
        self._recent: deque[float] = deque(maxlen=HISTORY)
        self._changes: deque[tuple[float, float]] = deque(maxlen=HISTORY)
        self._live_since: float | None = None
        self._frames_since_open = 0

    # -- control ----------------------------------------------------------------------------

    def start(self) -> None:
        # Daemon so a read stuck inside a device library can never hold the process open;
        # stop() still joins it with a timeout.
        self._thread = threading.Thread(
            target=self._run, args=(self._generation, self.source), name=f"booth-capture-{self.role}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return
        for old in self._abandoned:
            old.join(0.5)  # decoder processes were killed, so these return; in-process ones may not
        thread.join(JOIN_TIMEOUT_S)
        if thread.is_alive():
            # A zombie reader: stuck in a device call. Closing the source from here kills a
            # decoder process; an in-process read is abandoned (the thread is a daemon).
            log.warning("capture %s did not stop within %.0f s; abandoning its reader", self.role, JOIN_TIMEOUT_S)
            try:
                self.source.close()
            except Exception:
                log.exception("closing the stuck %s source failed", self.role)
            thread.join(JOIN_TIMEOUT_S)
        self._thread = None

    def reconnect_now(self) -> None:
        self._wake.set()

    def abandon_reader(self, why: str) -> None:
        """Replace a reader stuck inside a device call (judged from outside by the watchdog).

        A decoder process is killed; an in-process read cannot be interrupted, so its thread
        is left behind (it is a daemon and publishes nothing more) and a fresh one starts.
        """
        log.warning("capture %s: abandoning a hung reader (%s)", self.role, why)
        old = self.source
        with self._lock:
            self._generation += 1
            self.abandoned_readers += 1
            self._reconnects += 1
            self._state, self._message = SourceState.RECONNECTING, f"reader hung ({why}); reopening"
        try:
            old.close()
        except Exception:
            log.exception("closing the hung %s source failed", self.role)
        if self._make_source is not None:
            self.source = self._make_source()
        if self._thread is not None:
            self._abandoned.append(self._thread)
        self.start()

    def observe(self) -> Observation:
        """What the watchdog needs, read from outside the reading thread."""
        with self._lock:
            return Observation(
                self._state, self._message, self.source.nominal_fps, self._last_frame_at,
                tuple(self._recent), tuple(self._changes), self._live_since,
            )  # fmt: skip

    # -- reading ----------------------------------------------------------------------------

    def status(self) -> SourceStatus:
        now = self._clock()
        with self._lock:
            fps = sum(1 for t in self._recent if now - t <= 1.0)
            age = None if self._last_frame_at is None else now - self._last_frame_at
            next_in = None if self._next_attempt_at is None else max(0.0, self._next_attempt_at - now)
            return SourceStatus(
                self.role, self.source.label, self._state, float(fps), age,
                self._frames, self._reconnects, self._message, next_in,
            )  # fmt: skip

    # -- the thread ---------------------------------------------------------------------------

    def _set(self, generation: int, state: SourceState, message: str = "", next_at: float | None = None) -> None:
        with self._lock:
            if generation == self._generation:
                self._state, self._message, self._next_attempt_at = state, message, next_at

    def _current(self, generation: int) -> bool:
        return generation == self._generation and not self._stop.is_set()

    def _run(self, generation: int, source: FrameSource) -> None:
        failures = 0
        while self._current(generation):
            try:
                opening = SourceState.STARTING if failures == 0 else SourceState.RECONNECTING
                self._set(generation, opening, self._message)
                source.open()
                self._read_loop(generation, source)
            except SourceError as exc:
                message = str(exc)
            except Exception as exc:  # a device library bug must not kill the thread silently
                log.exception("capture %s crashed", self.role)
                message = f"{source.label}: unexpected error ({exc.__class__.__name__}: {exc})"
            else:
                message = ""
            finally:
                # An abandoned reader sharing its source with its replacement must not close it
                # under the new reader (the abandoner already closed it once).
                if generation == self._generation or source is not self.source:
                    try:
                        source.close()
                    except Exception:
                        log.exception("closing %s failed", self.role)
            if not self._current(generation):
                break
            if self._frames_since_open > 0:
                failures = 0  # it was delivering before it failed: start the backoff over
            delay = self._retry_delay(failures)
            failures += 1
            with self._lock:
                self._reconnects += 1
                self._live_since = None
            log.warning("%s source down: %s; retrying in %.1f s", self.role, message, delay)
            self._set(generation, SourceState.DOWN, message, self._clock() + delay)
            self._wake.wait(delay)
            self._wake.clear()
        self._set(generation, SourceState.DOWN, "stopped")

    def _read_loop(self, generation: int, source: FrameSource) -> None:
        paced = not source.live
        interval = 1.0 / max(1.0, source.nominal_fps)
        next_due = self._clock()
        self._frames_since_open = 0
        previous = None
        while self._current(generation):
            if paced:
                delay = next_due - self._clock()
                if delay > 0 and self._stop.wait(delay):
                    return
                # Stay on the grid but never try to catch up a burst after a hiccup.
                next_due = max(next_due + interval, self._clock() - interval)
            pixels = source.read()
            now = self._clock()
            sample = picture_sample(pixels)
            change = picture_change(previous, sample)
            previous = sample
            with self._lock:
                if generation != self._generation:
                    return  # abandoned while blocked in read(): publish nothing
                seq = self._frames
                self._frames += 1
                self._last_frame_at = now
                self._recent.append(now)
                if change >= 0:
                    self._changes.append((now, change))
                if self._state is not SourceState.LIVE:
                    self._state, self._message, self._next_attempt_at = SourceState.LIVE, "", None
                    self._live_since = now
            self._frames_since_open += 1
            self.slot.put(SourceFrame(pixels, seq, now))
