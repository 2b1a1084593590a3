"""Live clips: the host's order (the last N seconds, or a marked moment, as a preset, framing, clean
or with the overlay, a caption) turned into one export on the low-priority export worker.

```
Shift+C / Output view ──ClipOrder──► LiveClips.export ──ExportRequest(cut=…)──► ExportQueue (booth-export)
                                         │ what to cut: the program's replay buffer (overlay burned in)
                                         │ or the clean feed's (no overlay); older than the buffer: the recording
                                         └─ the burned-in plate's place (for the crop's lift), from the overlay model
```

`export` never blocks: it only decides the stretch on the monotonic clock (the replay buffer's
timeline) and queues. The megabytes are read out of the buffer (or the recording) by the export
worker when the job starts; the buffer keeps at least `replay_seconds`, so what was there at the
key press is still there a queued clip later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from booth.core.clip_presets import Aspect, Framing, Rect, find_preset
from booth.program_out.export import ExportJob, ExportQueue, ExportRequest, ExportSource
from booth.program_out.recorder import Recorder
from booth.program_out.replay import ReplayBuffer

log = logging.getLogger(__name__)

MOMENT_BEFORE = 2 / 3  # a moment's clip: two thirds before it, one third after


@dataclass(frozen=True)
class ClipOrder:
    seconds: float = 30.0
    preset: str = "tiktok"  # booth.core.clip_presets key; "landscape" = 16:9
    framing: Framing = Framing.CROP
    focus_x: float = 0.5
    clean: bool = False  # from the clean feed (no overlay)
    caption: str = ""
    at: float | None = None  # a moment (monotonic) to clip around; None = the last `seconds`
    label: str = ""


@dataclass(frozen=True)
class Stretch:
    """Where a clip's bytes come from, on the monotonic clock."""

    replay: ReplayBuffer
    recorder: Callable[[], Recorder | None]


class LiveClips:
    """`program`/`clean`: the two encoded streams (the clean one is None without the clean feed);
    `overlay_box(start, end)`: every place the burned-in plate had in the program frame over that
    stretch (None: no overlay) — the crop lifts and hides all of it."""

    def __init__(
        self,
        exports: ExportQueue,
        folder: Path,
        frame_size: tuple[int, int],
        fps: float,
        program: Stretch,
        clean: Stretch | None,
        overlay_box: Callable[[float, float], Rect | None] = lambda _start, _end: None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.exports = exports
        self.folder = folder
        self.frame_size = frame_size
        self.fps = fps
        self._program = program
        self._clean = clean
        self._overlay_box = overlay_box
        self._clock = clock
        self._wall = wall

    @property
    def has_clean(self) -> bool:
        return self._clean is not None

    def export(self, order: ClipOrder) -> ExportJob:
        """Queue the clip; never blocks. A clip that cannot be made fails at once with the reason."""
        now = self._clock()
        if order.at is None:
            start, end = now - order.seconds, now
        else:
            start = order.at - order.seconds * MOMENT_BEFORE
            end = min(now, start + order.seconds)
        stretch = self._clean if order.clean else self._program
        preset = find_preset(order.preset) if order.preset else None
        landscape = preset is not None and preset.aspect is Aspect.LANDSCAPE
        what = "clean" if order.clean else "overlay"
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._wall()))
        kind = "16x9" if landscape else "9x16"
        name = f"clip-{stamp}-{kind}-{what}"
        shape = "16:9" if landscape else "9:16"
        label = f"{shape} {what}, {order.label}" if order.label else f"{shape} {what}, last {order.seconds:.0f} s"
        problem = ""
        if stretch is None:
            source = ExportSource(0.0, 0.0, cut=lambda: None)
            problem = "the clean feed is off (set clean = true in [clips] for clips without the overlay)"
        else:
            source = self._source(stretch, start, end)
        request = ExportRequest(
            source, self.folder, name, preset=order.preset,
            framing=Framing.FULL if landscape else order.framing,
            frame_size=self.frame_size, fps=self.fps,
            overlay=None if order.clean else self._overlay_box(start, end),
            focus_x=order.focus_x, caption=order.caption,
            remux=landscape and not order.caption.strip() and not order.clean,
            label=label, problem=problem,
        )  # fmt: skip
        job = self.exports.submit(request)
        log.info("clip %d queued: %s (%.1f s)", job.id, label, source.duration_s)
        return job

    def refuse(self, order: ClipOrder, problem: str) -> ExportJob:
        """A job that fails at once with `problem` (the host sees it where every export shows)."""
        request = ExportRequest(ExportSource(0.0, 0.0, cut=lambda: None), self.folder, "clip", preset=order.preset,
                                label=order.label or "clip", problem=problem)  # fmt: skip
        return self.exports.submit(request)

    def _source(self, stretch: Stretch, start: float, end: float) -> ExportSource:
        """From memory when the buffer still reaches back to `start`, else from the recording."""
        oldest = stretch.replay.start_time()
        if oldest is not None and oldest <= start + 0.5:
            replay = stretch.replay

            def cut_replay() -> tuple[bytes, float] | None:
                got = replay.window(start, end)
                return (got[0], max(0.0, start - got[1])) if got is not None else None

            return ExportSource(0.0, end - start, cut=cut_replay)
        recorder = stretch.recorder()
        if recorder is not None and recorder.active:

            def cut_recording() -> tuple[bytes, float] | None:
                got = recorder.window(start, end)
                return (got[0], max(0.0, start - got[1])) if got is not None else None

            return ExportSource(0.0, end - start, cut=cut_recording)
        available = end - max(start, oldest) if oldest is not None else 0.0
        replay = stretch.replay
        begin = max(start, oldest or start)

        def cut_what_is_there() -> tuple[bytes, float] | None:
            got = replay.window(begin, end)
            return (got[0], max(0.0, begin - got[1])) if got is not None else None

        return ExportSource(0.0, max(0.0, available), cut=cut_what_is_there)
