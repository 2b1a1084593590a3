"""The program compositor: active source + overlay → program frames, on its own thread and clock.

It composes as soon as the active source delivers (latency = compose time) and its own
clock fills in when the source does not (the last frame again, or the slate), so the
outputs never stall and every gap is visible in the program frames.

Pacing: the program clock (booth.core.program_clock). Each frame is composed FOR one slot of
the clock and carries it (the encoder's PTS is the slot). A frame is composed when a fresh source
frame is there and its slot's window is open, or when the window closes (a repeat); a slot whose
window passed while the machine was stalled is skipped (a gap in PTS, never a burst). When the
source runs at the program rate, the compose moment locks onto its arrivals within half a frame,
so its frames are composed the instant they land — and the program still runs at exactly its rate.

With `timecode`, each frame's slot is stamped in a thin strip at its bottom edge
(booth.core.timecode), so a read-back of what viewers get can tell which frame it is.

With `clean`, the composed picture is copied once before the overlay is burned in and published
as `clean` — the same slot, instant and source as its program frame — for the clean clips' own
light encode (booth.program_out). Only when clips want it: the copy costs ≈ 1 ms a frame at 720p.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from booth.core import timecode as program_timecode
from booth.core.config import ProgramConfig
from booth.core.frames import FrameStamp, Pixels, ProgramFrame, SourceFrame
from booth.core.overlay import OverlayModel
from booth.core.program_clock import ProgramClock, Window
from booth.devices.imaging import solid, to_program
from booth.runtime.feed import Feed
from booth.runtime.worker import RunsOnWorker, Worker
from booth.video.mark_render import MarkRenderer
from booth.video.overlay_render import OverlayRenderer, overlay_fonts

log = logging.getLogger(__name__)

STATS_WINDOW = 4000  # frames kept for percentiles (over a minute at 60 fps)


@dataclass(frozen=True)
class CompositorStats:
    fps: float
    frames: int
    repeats: int
    compose_ms_p50: float
    compose_ms_p95: float
    latency_ms_p50: float
    latency_ms_p95: float
    skipped_slots: int = 0  # program clock slots given up while the machine was too busy (PTS gaps)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Compositor(RunsOnWorker):
    """`feeds` are the sources' newest-frame feeds by role; `on_program()` names the role on program
    (or "slate"). Program frames go to `program`, a feed any number of readers follow."""

    def __init__(
        self,
        program: ProgramConfig,
        feeds: Mapping[str, Feed[SourceFrame, None]],
        on_program: Callable[[], str],
        overlay: Callable[[], OverlayModel],
        slate_text: str = "Back in a moment",
        clock: Callable[[], float] = time.monotonic,
        slate_picture: Pixels | None = None,
        timecode: bool = False,
        mark: str = "",
        clean: bool = False,
    ) -> None:
        self.config = program
        self.program: Feed[ProgramFrame, FrameStamp] = Feed(stamp=ProgramFrame.stamp)
        # the program without the overlay; None unless asked for (clean clips)
        self.clean: Feed[ProgramFrame, FrameStamp] | None = Feed(stamp=ProgramFrame.stamp) if clean else None
        self._readers = {role: feed.reader() for role, feed in feeds.items()}
        self._on_program = on_program
        self._overlay = overlay
        self._clock = clock
        self._renderer = OverlayRenderer(program.size)
        self.mark = MarkRenderer(program.size, mark) if mark else None  # "REHEARSAL", burned into every frame
        self._slate = (
            to_program(slate_picture, *program.size) if slate_picture is not None
            else render_slate(program.size, slate_text)
        )  # fmt: skip
        self._lock = threading.Lock()
        self._compose_ms: deque[float] = deque(maxlen=STATS_WINDOW)
        self._latency_ms: deque[float] = deque(maxlen=STATS_WINDOW)
        self._out_times: deque[float] = deque(maxlen=240)
        self._sender_delays: dict[str, deque[tuple[float, float]]] = {}  # role → (composed at, sender→program ms)
        self._frames = 0
        self._repeats = 0
        self._timecode = timecode
        self._program_clock: ProgramClock | None = None
        self._last: tuple[str, SourceFrame] | None = None
        self._worker = Worker("booth-compositor", self._step, "Program picture", join_timeout_s=5.0)

    def stats(self) -> CompositorStats:
        now = self._clock()
        with self._lock:
            compose = list(self._compose_ms)
            latency = list(self._latency_ms)
            fps = float(sum(1 for t in self._out_times if now - t <= 1.0))
            skipped = self._program_clock.skipped if self._program_clock is not None else 0
            return CompositorStats(
                fps, self._frames, self._repeats,
                percentile(compose, 50), percentile(compose, 95),
                percentile(latency, 50), percentile(latency, 95), skipped,
            )  # fmt: skip

    def sender_delay_ms(self, role: str, window_s: float = 1.0) -> float | None:
        """Sender → program for `role` (median over the last second of its fresh frames), where its
        sender stamps its pictures and it is on program; None otherwise."""
        now = self._clock()
        with self._lock:
            recent = sorted(d for t, d in self._sender_delays.get(role, ()) if now - t <= window_s)
        return recent[len(recent) // 2] if recent else None

    def reset_stats(self) -> None:
        with self._lock:
            self._compose_ms.clear()
            self._latency_ms.clear()

    # -- the worker -----------------------------------------------------------------------------

    @property
    def program_clock(self) -> ProgramClock | None:
        """The clock frames are composed for (None until the first frame)."""
        return self._program_clock

    def _step(self) -> float:
        """One program frame: wait for a fresh picture within its slot's window, else repeat one."""
        clock = self._program_clock
        if clock is None:
            # The first slot's window opens now.
            clock = self._program_clock = ProgramClock(self.config.fps, self._clock() + 0.5 / self.config.fps)
        window = clock.window()
        wait = window.opens - self._clock()
        if wait > 0:
            return wait  # the window for this frame is not open yet
        role = self._on_program()
        reader = self._readers.get(role)
        fresh: SourceFrame | None = None
        in_step = False
        if reader is not None:
            got = reader.wait(window.closes - self._clock())
            now_on = self._on_program()
            if now_on != role and now_on in self._readers:
                # The switcher cut away while we waited on a stalled source: take the new source's
                # newest frame now instead of holding the old picture one more frame — and never a
                # picture the old source sent after the cut (it may be recovering, not yet trusted).
                role, reader = now_on, self._readers[now_on]
                got = reader.latest()
            elif now_on != role:
                reader, got = None, None  # cut to the slate while we waited
            if reader is not None and got is not None:
                in_step = reader.last_skipped == 0
                fresh = got
                self._last = (role, got)
        if self._worker.stopping:
            return 0.0
        picked_at = self._clock()
        try:
            frame, clean = self._compose(fresh, self._last, reader is not None, picked_at, window)
            self.program.put(frame)
            if clean is not None and self.clean is not None:
                self.clean.put(clean)
            if frame.seq == 1:
                log.info("program running: first frame %dx%d composed from %s", *self.config.size, frame.source)
        finally:
            arrival = fresh.captured_at if fresh is not None and in_step else None
            skipped = clock.composed(self._clock(), arrival)
            if skipped:
                log.debug("program clock: %d slot(s) skipped (the compositor was late)", skipped)
        return 0.0

    def _compose(
        self,
        fresh: SourceFrame | None,
        last: tuple[str, SourceFrame] | None,
        has_source: bool,
        picked_at: float,
        window: Window,
    ) -> tuple[ProgramFrame, ProgramFrame | None]:
        w, h = self.config.size
        origin_at = None
        if has_source and last is not None:
            name, shown = last
            pixels = to_program(shown.pixels, w, h)
            source_seq, captured_at, origin_at = shown.seq, shown.captured_at, shown.origin_at
        else:
            name, pixels, source_seq, captured_at = "slate", self._slate.copy(), -1, picked_at
        plain = pixels.copy() if self.clean is not None else None  # before the overlay: the clean picture
        self._renderer.burn(pixels, self._overlay())
        if self._timecode:
            program_timecode.draw(pixels, window.slot, program_timecode.Band.BOTTOM)
        if self.mark is not None:
            self.mark.burn(pixels)
            if plain is not None:
                self.mark.burn(plain)  # a rehearsal's clean clips say REHEARSAL too: never posted as the real drop
        done = self._clock()
        repeat = fresh is None
        with self._lock:
            self._frames += 1
            self._repeats += repeat
            self._out_times.append(done)
            self._compose_ms.append((done - picked_at) * 1000)
            if not repeat:
                self._latency_ms.append((done - captured_at) * 1000)
                if origin_at is not None:
                    delays = self._sender_delays.setdefault(name, deque(maxlen=120))
                    delays.append((done, (done - origin_at) * 1000))
            seq = self._frames
        frame = ProgramFrame(pixels, seq, done, name, source_seq, captured_at, repeat, window.slot, window.at,
                             origin_at)  # fmt: skip
        return frame, (replace(frame, pixels=plain) if plain is not None else None)


def render_slate(size: tuple[int, int], text: str) -> Pixels:
    """A calm dark card with one line of text; the overlay is still burned on top of it."""
    w, h = size
    pixels = solid(w, h, (40, 30, 24))
    image = QImage(pixels.data, w, h, pixels.strides[0], QImage.Format.Format_RGB32)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    font = QFont(overlay_fonts()[0])
    font.setPixelSize(max(10, h // 14))
    painter.setFont(font)
    painter.setPen(QColor(235, 235, 235))
    painter.drawText(QRect(0, 0, w, h * 2 // 3), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixels
