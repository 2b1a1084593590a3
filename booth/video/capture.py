"""One capture worker per source: open, read into a newest-frame feed, reconnect on failure.

The worker never touches the GUI. A read that blocks forever only stalls this worker; the
switcher judges the source from outside (frame times, picture changes) and, when a read has hung,
abandons the reader and starts a fresh one (`abandon_reader`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from booth.core import timecode
from booth.core.failover import Observation
from booth.core.frames import SourceFrame
from booth.core.source_state import SourceState, SourceStatus
from booth.core.timing import InputDelayMeter
from booth.devices.imaging import picture_change, picture_sample
from booth.devices.sources import FrameSource, SourceError
from booth.runtime.feed import Feed
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
HISTORY = 256  # frame times and picture changes kept for the watchdog (> 2 s at 60 fps)
STAMP_PLAUSIBLE_S = (-2.0, 60.0)  # a sender stamp this far from our clock is another picture, not a stamp
ALERT_CHECK_S = 0.5


def default_retry_delay(failures: int) -> float:
    return BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]


class _Reader:
    """One generation of reading: a source, its worker, and where it is in its open/read cycle."""

    def __init__(self, capture: CaptureService, generation: int, source: FrameSource,
                 close_first: FrameSource | None = None) -> None:  # fmt: skip
        self.capture = capture
        self.close_first = close_first  # a hung predecessor's source: closing it may wait on a process
        self.generation = generation
        self.source = source
        self.is_open = False
        self.failures = 0
        self.frames_since_open = 0
        self.next_due = 0.0
        self.previous_sample: object = None
        self.worker = Worker(
            f"booth-capture-{capture.role}", self.step, f"{capture.role.capitalize()} camera", on_stop=self.close
        )

    def step(self) -> float:
        capture = self.capture
        if self.close_first is not None:
            hung, self.close_first = self.close_first, None
            try:
                hung.close()
            except Exception:
                log.exception("closing the hung %s source failed", capture.role)
        if not self.is_open:
            capture._set(self, SourceState.STARTING if self.failures == 0 else SourceState.RECONNECTING)
            try:
                self.source.open()
            except Exception as exc:
                return self._down(exc)
            self.is_open = True
            self.frames_since_open = 0
            self.previous_sample = None
            self.next_due = capture._clock()
            return 0.0
        if not self.source.live:
            # A file or the demo: pace it on a grid, but never catch up a burst after a hiccup.
            wait = self.next_due - capture._clock()
            if wait > 0:
                return wait
            interval = 1.0 / max(1.0, self.source.nominal_fps)
            self.next_due = max(self.next_due + interval, capture._clock() - interval)
        try:
            pixels = self.source.read()
        except Exception as exc:
            return self._down(exc)
        now = capture._clock()
        origin = capture._origin(pixels, now)
        sample = picture_sample(pixels)
        change = picture_change(self.previous_sample, sample)
        self.previous_sample = sample
        if not capture._publish(self, pixels, now, change, origin):
            return 60.0  # abandoned while blocked in read(): publish nothing, wait to be stopped
        self.frames_since_open += 1
        return 0.0

    def _down(self, exc: Exception) -> float:
        capture = self.capture
        if isinstance(exc, SourceError):
            message = str(exc)
        else:  # a device library bug must not kill the worker silently
            log.error("capture %s: unexpected error", capture.role, exc_info=exc)
            message = f"{self.source.label}: unexpected error ({exc.__class__.__name__}: {exc})"
        self.close()
        if self.frames_since_open > 0:
            self.failures = 0  # it was delivering before it failed: start the backoff over
        delay = capture._retry_delay(self.failures)
        self.failures += 1
        log.warning("%s source down: %s; retrying in %.1f s", capture.role, message, delay)
        capture._went_down(self, message, capture._clock() + delay)
        return delay

    def close(self) -> None:
        self.is_open = False
        # An abandoned reader sharing its source with its replacement must not close it under
        # the new reader (the abandoner already closed it once).
        if self.capture._owns(self) or self.source is not self.capture.source:
            try:
                self.source.close()
            except Exception:
                log.exception("closing %s failed", self.capture.role)


class CaptureService:
    def __init__(
        self,
        role: str,
        source: FrameSource,
        clock: Callable[[], float] = time.monotonic,
        retry_delay: Callable[[int], float] = default_retry_delay,
        make_source: Callable[[], FrameSource] | None = None,
        wall: Callable[[], float] = time.time,
        delay_warn_ms: float = 100.0,
    ) -> None:
        self.role = role
        self.source = source
        self.frames: Feed[SourceFrame, None] = Feed()
        self._clock = clock
        self._retry_delay = retry_delay
        self._make_source = make_source  # a fresh instance when a hung reader is abandoned
        self._lock = threading.Lock()
        self._reader: _Reader | None = None
        self._generation = 0
        self._abandoned: list[_Reader] = []
        self.abandoned_readers = 0
        self._state = SourceState.STARTING
        self._message = ""
        self._frames = 0
        self._reconnects = 0
        self._last_frame_at: float | None = None
        self._next_attempt_at: float | None = None
        self._recent: deque[float] = deque(maxlen=HISTORY)
        self._changes: deque[tuple[float, float]] = deque(maxlen=HISTORY)
        self._live_since: float | None = None
        self._wall = wall
        self._delay = InputDelayMeter(role, delay_warn_ms)
        self._alert_checked_at = 0.0
        self._alert = ""
        self._alert_listeners: list[Callable[[str, str], None]] = []

    # -- control ----------------------------------------------------------------------------

    def start(self, close_first: FrameSource | None = None) -> None:
        with self._lock:
            reader = self._reader = _Reader(self, self._generation, self.source, close_first)
        reader.worker.start()

    def stop(self) -> None:
        with self._lock:
            reader, self._reader = self._reader, None
            abandoned, self._abandoned = self._abandoned, []
        for old in abandoned:
            old.worker.request_stop()
        if reader is not None:
            reader.worker.request_stop()
            if not reader.worker.join():
                # Stuck in a device call. Closing the source from here kills a decoder process;
                # an in-process read is abandoned (its thread is a daemon).
                try:
                    self.source.close()
                except Exception:
                    log.exception("closing the stuck %s source failed", self.role)
        for old in abandoned:
            old.worker.join(0.5)  # decoder processes were killed, so these return; in-process ones may not

    def on_delay_alert(self, listener: Callable[[str, str], None]) -> None:
        """`listener(role, sentence)` on the reader's thread when the input delay alert is raised
        (a sentence) or cleared ("")."""
        self._alert_listeners.append(listener)

    def reconnect_now(self) -> None:
        reader = self._reader
        if reader is not None:
            reader.worker.wake()

    def abandon_reader(self, why: str) -> None:
        """Replace a reader stuck inside a device call (judged from outside by the watchdog).

        A decoder process is killed; an in-process read cannot be interrupted, so its thread is
        left behind (a daemon that publishes nothing more) and a fresh reader starts.
        """
        log.warning("capture %s: abandoning a hung reader (%s)", self.role, why)
        with self._lock:
            old = self._reader
            self._generation += 1
            self.abandoned_readers += 1
            self._reconnects += 1
            self._state, self._message = SourceState.RECONNECTING, f"reader hung ({why}); reopening"
            if old is not None:
                self._abandoned.append(old)
        if old is not None:
            old.worker.request_stop()
        if self._make_source is not None:
            self.source = self._make_source()
        # The new reader closes the hung source first, on its own thread: killing a decoder
        # process and waiting for it must not hold up the switcher that called us.
        self.start(close_first=old.source if old is not None else None)

    # -- reading from outside ---------------------------------------------------------------

    def observe(self) -> Observation:
        """What the watchdog needs, read from outside the reading worker."""
        with self._lock:
            return Observation(
                self._state, self._message, self.source.nominal_fps, self._last_frame_at,
                tuple(self._recent), tuple(self._changes), self._live_since,
            )  # fmt: skip

    def status(self) -> SourceStatus:
        now = self._clock()
        with self._lock:
            fps = sum(1 for t in self._recent if now - t <= 1.0)
            age = None if self._last_frame_at is None else now - self._last_frame_at
            next_in = None if self._next_attempt_at is None else max(0.0, self._next_attempt_at - now)
            delay = self._delay.reading(now)
            return SourceStatus(
                self.role, self.source.label, self._state, float(fps), age,
                self._frames, self._reconnects, self._message, next_in,
                delay.delay_ms, delay.alert, int(getattr(self.source, "dropped", 0)),
            )  # fmt: skip

    @property
    def problem(self) -> str | None:
        reader = self._reader
        return reader.worker.problem if reader is not None else None

    # -- called by the reader's worker ------------------------------------------------------

    def _owns(self, reader: _Reader) -> bool:
        return reader.generation == self._generation

    def _set(self, reader: _Reader, state: SourceState) -> None:
        with self._lock:
            if self._owns(reader):
                self._state = state

    def _went_down(self, reader: _Reader, message: str, next_at: float) -> None:
        with self._lock:
            if self._owns(reader):
                self._reconnects += 1
                self._live_since = None
                self._state, self._message, self._next_attempt_at = SourceState.DOWN, message, next_at

    def _origin(self, pixels: object, now: float) -> float | None:
        """When the sender took this picture (monotonic), if it stamped its wall clock into it."""
        stamped = timecode.read(pixels, timecode.Band.TOP)  # type: ignore[arg-type]
        if stamped is None:
            return None
        wall_ms = self._wall() * 1000
        age_s = (wall_ms - timecode.unwrap(stamped, round(wall_ms))) / 1000
        if not STAMP_PLAUSIBLE_S[0] <= age_s <= STAMP_PLAUSIBLE_S[1]:
            return None
        return now - age_s

    def _publish(self, reader: _Reader, pixels: object, now: float, change: float, origin: float | None) -> bool:
        alert: str | None = None
        with self._lock:
            if not self._owns(reader):
                return False
            seq = self._frames
            self._frames += 1
            self._last_frame_at = now
            self._recent.append(now)
            if change >= 0:
                self._changes.append((now, change))
            if self._state is not SourceState.LIVE:
                self._state, self._message, self._next_attempt_at = SourceState.LIVE, "", None
                self._live_since = now
                self._delay.reset()  # a new connection: a new baseline
            if origin is not None:
                self._delay.add(now, now - origin)
            if now - self._alert_checked_at >= ALERT_CHECK_S:
                self._alert_checked_at = now
                current = self._delay.reading(now).alert
                if bool(current) != bool(self._alert):
                    alert = current
                self._alert = current
        self.frames.put(SourceFrame(pixels, seq, now, origin))  # type: ignore[arg-type]
        if alert is not None:
            if alert:
                log.warning("%s", alert)
            else:
                log.info("%s source: input delay back to normal", self.role)
            for listener in self._alert_listeners:
                listener(self.role, alert)
        return True
