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

from booth.core.frames import SourceFrame
from booth.core.source_state import SourceState, SourceStatus
from booth.devices.sources import FrameSource, SourceError
from booth.services.frame_slot import FrameSlot

log = logging.getLogger(__name__)

BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
JOIN_TIMEOUT_S = 3.0


class CaptureService:
    def __init__(self, role: str, source: FrameSource, clock: Callable[[], float] = time.monotonic) -> None:
        self.role = role
        self.source = source
        self.slot: FrameSlot[SourceFrame] = FrameSlot()
        self._clock = clock
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
        self._recent: deque[float] = deque(maxlen=240)
        self._frames_since_open = 0

    # -- control ----------------------------------------------------------------------------

    def start(self) -> None:
        # Daemon so a read stuck inside a device library can never hold the process open;
        # stop() still joins it with a timeout.
        self._thread = threading.Thread(target=self._run, name=f"booth-capture-{self.role}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return
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

    def _set(self, state: SourceState, message: str = "", next_attempt_at: float | None = None) -> None:
        with self._lock:
            self._state, self._message, self._next_attempt_at = state, message, next_attempt_at

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._set(SourceState.STARTING if failures == 0 else SourceState.RECONNECTING, self._message)
                self.source.open()
                self._read_loop()
            except SourceError as exc:
                message = str(exc)
            except Exception as exc:  # a device library bug must not kill the thread silently
                log.exception("capture %s crashed", self.role)
                message = f"{self.source.label}: unexpected error ({exc.__class__.__name__}: {exc})"
            else:
                message = ""
            finally:
                try:
                    self.source.close()
                except Exception:
                    log.exception("closing %s failed", self.role)
            if self._stop.is_set():
                break
            if self._frames_since_open > 0:
                failures = 0  # it was delivering before it failed: start the backoff over
            delay = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
            failures += 1
            with self._lock:
                self._reconnects += 1
            log.warning("%s source down: %s; retrying in %.1f s", self.role, message, delay)
            self._set(SourceState.DOWN, message, self._clock() + delay)
            self._wake.wait(delay)
            self._wake.clear()
            self._set(SourceState.RECONNECTING, message)
        self._set(SourceState.DOWN, "stopped")

    def _read_loop(self) -> None:
        source = self.source
        paced = not source.live
        interval = 1.0 / max(1.0, source.nominal_fps)
        next_due = self._clock()
        self._frames_since_open = 0
        while not self._stop.is_set():
            if paced:
                delay = next_due - self._clock()
                if delay > 0 and self._stop.wait(delay):
                    return
                # Stay on the grid but never try to catch up a burst after a hiccup.
                next_due = max(next_due + interval, self._clock() - interval)
            pixels = source.read()
            now = self._clock()
            with self._lock:
                seq = self._frames
                self._frames += 1
                self._last_frame_at = now
                self._recent.append(now)
                if self._state is not SourceState.LIVE:
                    self._state, self._message, self._next_attempt_at = SourceState.LIVE, "", None
            self._frames_since_open += 1
            self.slot.put(SourceFrame(pixels, seq, now))
