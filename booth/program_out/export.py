"""Clip exports while the drop goes on: a queue owned by one thread (`booth-export`), each export
an ffmpeg process at the lowest CPU priority with few threads, so the program's fps and the
stream never pay for a clip.

```
hotkey / marked moment / Output-view range
   └─► ExportQueue.submit(ExportRequest) ─► job (queued) ─► booth-export (Worker) ─► ffmpeg (nice 19, 2 threads)
                                                 │  progress (-progress pipe:1) ─► listeners (UI: bar, folder)
                                                 └─ cancel(): the process is killed by PID, the .part removed
```

Input is MPEG-TS, as program out holds it: bytes from the replay buffer (starting at a keyframe),
or a recording file cut at the keyframe before the moment (`ts_window`). A 16:9 clip without a
caption is a remux (copy, ~0.1 s); everything else is encoded to the preset (`clip_presets`).
Jobs run one at a time: two encodes at once would only finish both later, and hold more memory.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from booth.core.clip_presets import (
    Aspect,
    ClipLayout,
    Framing,
    LayoutError,
    PresetError,
    Rect,
    check_duration,
    find_preset,
    plan_layout,
)
from booth.devices.clip_export import (
    ExportError,
    FfmpegJob,
    FfmpegRun,
    Progress,
    Segment,
    clip_command,
    find_ffmpeg,
    probe_video,
    remux_command,
    thumbnail_command,
)
from booth.program_out.ts_window import TsWindowError, read_ts_window
from booth.resources import resource
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)

THUMB_WIDTH = {Aspect.VERTICAL: 540, Aspect.LANDSCAPE: 640}


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ExportSource:
    """What to cut. Either `data`: MPEG-TS from the replay buffer, starting at a keyframe, with
    `start_s` counted from that keyframe; or `path`: a recording, `start_s` from its beginning.
    `spans` (recordings only): several (start, duration) stretches joined in order (a recap).
    Or `cut`: called on the export worker, it returns (MPEG-TS starting at a keyframe, `start_s`
    from it) — a live clip reads its megabytes out of the replay buffer there, never on the GUI thread."""

    start_s: float
    duration_s: float
    data: bytes | None = None
    path: Path | None = None
    spans: tuple[tuple[float, float], ...] = ()
    cut: Callable[[], tuple[bytes, float] | None] | None = None

    @classmethod
    def joined(cls, path: Path, spans: tuple[tuple[float, float], ...]) -> ExportSource:
        return cls(spans[0][0] if spans else 0.0, sum(d for _, d in spans), path=path, spans=spans)


@dataclass(frozen=True)
class ExportRequest:
    source: ExportSource
    folder: Path  # where the clip lands (the drop's recordings folder)
    name: str  # file name without extension, e.g. "clip-20310-sold-out"
    preset: str = "tiktok"  # booth.core.clip_presets.PRESETS key
    framing: Framing = Framing.CROP
    frame_size: tuple[int, int] | None = None  # the program frame; None: read from the input
    fps: float | None = None  # None: the input's rate
    overlay: Rect | None = None  # the burned-in plate in the program frame; None: a clean source
    focus_x: float = 0.5  # crop framing: where the window is centred (0 = left, 1 = right)
    caption: str = ""  # burned in; never on a command line
    remux: bool = False  # 16:9 exactly as encoded (no caption, no re-encode)
    thumbnail_at_s: float | None = None  # also write NAME.jpg from this second of the clip
    label: str = ""  # what the host sees in the export list
    problem: str = ""  # known at once why it cannot be made: the job fails with this sentence

    @property
    def title(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class ExportStatus:
    job_id: int
    label: str
    state: JobState
    fraction: float = 0.0  # 0 … 1
    message: str = ""  # a sentence for the host
    path: Path | None = None  # the finished clip
    thumbnail: Path | None = None
    folder: Path | None = None  # the result's folder, to open
    duration_s: float = 0.0
    elapsed_s: float = 0.0  # submitted → finished (or now)
    layout: ClipLayout | None = None

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class ExportJob:
    """A handle: its status, a future resolved with the final status, and cancel()."""

    def __init__(self, job_id: int, request: ExportRequest, submitted_at: float) -> None:
        self.id = job_id
        self.request = request
        self.submitted_at = submitted_at
        self.future: Future[ExportStatus] = Future()
        self.status = ExportStatus(job_id, request.title, JobState.QUEUED, folder=request.folder)
        self.cancelled = threading.Event()
        self.run: FfmpegRun | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "clip"


def unique_path(folder: Path, stem: str, suffix: str) -> Path:
    path = folder / f"{stem}{suffix}"
    n = 1
    while path.exists() or path.with_name(path.name + ".part").exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


class ExportQueue:
    def __init__(
        self,
        *,
        nice: int = 19,
        threads: int = 2,
        clock: Callable[[], float] = time.monotonic,
        font: Path | None = None,
    ) -> None:
        self.nice = nice
        self.threads = threads
        self._clock = clock
        self._font = font or resource("fonts", "DejaVuSans-Bold.ttf")
        self._ids = itertools.count(1)
        self._jobs: dict[int, ExportJob] = {}
        self._waiting: list[ExportJob] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._worker: Worker | None = None
        self._listeners: list[Callable[[ExportStatus], None]] = []
        self._workdir: Path | None = None

    # -- public API -------------------------------------------------------------------------

    def on_update(self, listener: Callable[[ExportStatus], None]) -> None:
        """`listener(status)` for every change: progress ≈ 4 a second, on the booth-export thread (the
        first, "queued", on the thread that submitted). Keep it short; marshal to the GUI yourself."""
        self._listeners.append(listener)

    def start(self) -> None:
        if self._worker is not None:
            return
        self._stop.clear()
        self._workdir = Path(tempfile.mkdtemp(prefix="booth-export-"))
        self._worker = Worker("booth-export", self._step, "Clip exports", join_timeout_s=15.0)
        self._worker.start()

    @property
    def problem(self) -> str | None:
        worker = self._worker
        return worker.problem if worker is not None else None

    def stop(self) -> None:
        """Cancel what runs and what waits (their futures resolve as cancelled), join the thread."""
        self._stop.set()
        with self._cond:
            waiting, self._waiting = self._waiting, []
            running = [j for j in self._jobs.values() if j.status.state is JobState.RUNNING]
            self._cond.notify_all()
        for job in running:
            self._cancel_job(job)
        for job in waiting:
            self._finish(job, JobState.CANCELLED, "Export cancelled: Booth is stopping.")
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def submit(self, request: ExportRequest) -> ExportJob:
        """Queue an export; never blocks. A request that cannot work fails at once with the reason."""
        job = ExportJob(next(self._ids), request, self._clock())
        with self._cond:
            self._jobs[job.id] = job
        problem = self._check(request)
        if problem:
            self._finish(job, JobState.FAILED, f"Clip not made: {problem}.")
            return job
        with self._cond:
            if self._worker is None or self._stop.is_set():
                stopped = True
            else:
                stopped = False
                self._waiting.append(job)
                self._cond.notify()
        if stopped:
            self._finish(job, JobState.FAILED, "Clip not made: the export queue is not running.")
        else:
            self._publish(job)
        return job

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running export; False when it is unknown or already finished."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None or job.status.finished:
                return False
            if job in self._waiting:
                self._waiting.remove(job)
                queued = True
            else:
                queued = False
        if queued:
            self._finish(job, JobState.CANCELLED, "Export cancelled.")
        else:
            self._cancel_job(job)
        return True

    def statuses(self) -> tuple[ExportStatus, ...]:
        with self._cond:
            return tuple(job.status for job in self._jobs.values())

    # -- the thread -------------------------------------------------------------------------

    def _check(self, request: ExportRequest) -> str:
        if request.problem:
            return request.problem
        src = request.source
        if sum(x is not None for x in (src.data, src.path, src.cut)) != 1:
            return "give either the replay-buffer bytes or a recording file"
        if src.duration_s <= 0:
            return f"a clip needs a length; {src.duration_s:g} s was asked for"
        if src.spans and (src.path is None or request.remux):
            return "joined stretches come from a recording and are always re-encoded"
        try:
            preset = find_preset(request.preset)
        except PresetError as exc:
            return str(exc)
        if request.remux:
            if preset.aspect is not Aspect.LANDSCAPE:
                return "only a 16:9 clip can be a remux; a 9:16 one is always re-encoded"
            if request.caption.strip():
                return "a caption has to be burned in, which a remux cannot do: use a 16:9 preset without remux"
            return ""
        return check_duration(preset, src.duration_s)

    def _step(self) -> float:
        with self._cond:
            if not self._waiting and not self._stop.is_set():
                self._cond.wait(0.5)
            if self._stop.is_set() or not self._waiting:
                return 0.0
            job = self._waiting.pop(0)
            job.status = replace(job.status, state=JobState.RUNNING, message="Exporting…")
        self._publish(job)
        try:
            self._export(job)
        except Exception as exc:  # one bad export never stops the queue
            log.exception("export %d failed", job.id)
            self._finish(job, JobState.FAILED, f"Clip not made: {exc}.")
        return 0.0

    def _export(self, job: ExportJob) -> None:
        request = job.request
        assert self._workdir is not None
        work = Path(tempfile.mkdtemp(prefix=f"job-{job.id}-", dir=self._workdir))
        try:
            segments = self._inputs(request, work)
            if job.cancelled.is_set():
                self._finish(job, JobState.CANCELLED, "Export cancelled.")
                return
            request.folder.mkdir(parents=True, exist_ok=True)
            output = unique_path(request.folder, _slug(request.name), ".mp4")
            ffmpeg = find_ffmpeg()
            preset = find_preset(request.preset)
            try:
                info = probe_video(segments[0].path)
            except ExportError:
                path = request.source.path
                what = f"the recording {path.name} holds" if path is not None else "the replay-buffer bytes hold"
                raise ExportError(f"{what} no readable video") from None
            frame_size = request.frame_size or (info.width, info.height)
            fps = request.fps or info.fps
            layout = None
            remux = request.remux
            if remux and info.profile.lower() != preset.profile:
                # e.g. the clean feed (x264 ultrafast is Baseline): a copy would not meet the preset
                remux = False
                preset = find_preset("landscape-720" if frame_size[1] <= 720 else "landscape")
            if remux:  # a copy starts at the keyframe: keep everything up to the wanted end
                first = segments[0]
                whole = replace(first, start_s=0.0, duration_s=first.start_s + (first.duration_s or 0.0))
                command = remux_command(ffmpeg, whole, output)
            else:
                framing = Framing.FULL if preset.aspect is Aspect.LANDSCAPE else request.framing
                layout = plan_layout(preset, *frame_size, framing, overlay=request.overlay, focus_x=request.focus_x,
                                     caption=request.caption)  # fmt: skip
                command = clip_command(ffmpeg, segments, layout, preset, fps, output, work, self._font,
                                       threads=self.threads)  # fmt: skip
            job.status = replace(job.status, layout=layout)
            result = self._ffmpeg(job, command)
            if result is None:
                return
            thumb = None
            if request.thumbnail_at_s is not None:
                thumb_path = output.with_suffix(".jpg")
                at = min(max(0.0, request.thumbnail_at_s), max(0.0, request.source.duration_s - 0.1))
                if self._ffmpeg(job, thumbnail_command(ffmpeg, output, at, thumb_path, THUMB_WIDTH[preset.aspect]),
                                progress=False) is not None:  # fmt: skip
                    thumb = thumb_path
            elapsed = self._clock() - job.submitted_at
            seconds = request.source.duration_s
            kind = "16:9 remux" if remux else preset.label
            self._finish(job, JobState.DONE, f"Clip saved: {seconds:.0f} s {kind}, {output.name} ({elapsed:.1f} s).",
                         path=output, thumbnail=thumb, duration_s=seconds)  # fmt: skip
            log.info("export %d saved %s in %.1f s", job.id, output, elapsed)
        except (ExportError, TsWindowError, LayoutError, OSError) as exc:
            self._finish(job, JobState.FAILED, f"Clip not made: {exc}.")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _inputs(self, request: ExportRequest, work: Path) -> list[Segment]:
        """The TS files the export reads, each starting at a keyframe at or before its wanted start."""
        src = request.source
        if src.cut is not None:
            got = src.cut()
            if got is None or not got[0]:
                raise ExportError("the replay buffer holds nothing of that stretch (no keyframe from the encoder yet)")
            src = replace(src, data=got[0], start_s=got[1])
        if src.data is not None:
            path = work / "input.ts"
            path.write_bytes(src.data)
            return [Segment(path, max(0.0, src.start_s), src.duration_s)]
        assert src.path is not None
        segments = []
        for i, (start, duration) in enumerate(src.spans or ((src.start_s, src.duration_s),)):
            window = read_ts_window(src.path, start, start + duration)
            path = work / f"input-{i}.ts"
            path.write_bytes(window.data)
            segments.append(Segment(path, max(0.0, start - window.start_s), duration))
        return segments

    def _ffmpeg(self, job: ExportJob, command: FfmpegJob, progress: bool = True) -> Path | None:
        run = FfmpegRun(command, nice=self.nice)
        with self._cond:
            if job.cancelled.is_set():
                self._finish(job, JobState.CANCELLED, "Export cancelled.")
                return None
            job.run = run

        def on_progress(p: Progress) -> None:
            if progress and not p.done:
                job.status = replace(job.status, fraction=p.fraction, elapsed_s=self._clock() - job.submitted_at)
                self._publish(job)

        result = run.run(on_progress)
        with self._cond:
            job.run = None
        if result.cancelled or job.cancelled.is_set():
            self._finish(job, JobState.CANCELLED, "Export cancelled.")
            return None
        if not result.ok:
            self._finish(job, JobState.FAILED, f"Clip not made: {result.message}.")
            return None
        return result.output

    # -- status -----------------------------------------------------------------------------

    def _cancel_job(self, job: ExportJob) -> None:
        job.cancelled.set()
        with self._cond:
            run = job.run
        if run is not None:
            run.cancel()

    def _finish(self, job: ExportJob, state: JobState, message: str, **fields: object) -> None:
        with self._cond:
            if job.status.finished:
                return
            job.status = replace(job.status, state=state, message=message, elapsed_s=self._clock() - job.submitted_at,
                                 fraction=1.0 if state is JobState.DONE else job.status.fraction,
                                 **fields)  # type: ignore[arg-type]  # fmt: skip
        if state is JobState.FAILED:
            log.error("export %d (%s): %s", job.id, job.request.title, message)
        self._publish(job)
        with contextlib.suppress(Exception):
            job.future.set_result(job.status)

    def _publish(self, job: ExportJob) -> None:
        status = job.status
        for listener in self._listeners:
            try:
                listener(status)
            except Exception:
                log.exception("an export listener failed")
