"""Program out: encode the program once, then stream it (primary + backup ingest), record it,
and keep the last minutes encoded in memory for clips.

```
compositor ──offer()──► newest-wins slot ──booth-output-feed──► encoder process (shared memory)
                                                                        │ MPEG-TS chunks
                               booth-output-reader ◄────────────────────┘
                                 ├─► replay buffer (90 s, encoded) ──► clips (booth-output-clip)
                                 ├─► recording (booth-output-record, fsync 1 s)
                                 └─► ingest pushes (ffmpeg -c copy, one per ingest)
                                        ▲ started / stopped by booth-output-ingest (policy, disk guard)
```

The compositor's listener only swaps a reference; every blocking call (shared-memory copy,
pipe writes, network, disk, remux) happens on this service's own threads or in child
processes, so a stalled ingest or a full disk never reaches the preview or the drop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from queue import Empty, Queue
from typing import Protocol

from booth.core.config import ProgramConfig
from booth.core.drop import DropView
from booth.core.events import DropEvent
from booth.core.frames import ProgramFrame
from booth.core.output import (
    IngestHealth,
    IngestPolicy,
    IngestTarget,
    IngestUrlError,
    Moment,
    MomentDetector,
    OutputConfig,
    OutputState,
    OutputStatus,
    PolicyTimes,
    PushReport,
    judge,
)
from booth.devices.clip import ClipError, remux_ts_to_mp4
from booth.devices.encoder import EncoderDied, EncoderProcess, EncoderSettings
from booth.devices.ingest import FfmpegMissing, FfmpegPusher
from booth.program_out.parts import MB, Chunk, IngestRun, Recorder, ReplayBuffer

log = logging.getLogger(__name__)

TICK_S = 0.1
DISK_CHECK_S = 2.0
ENCODER_RESTART_S = 1.0
ACK_TIMEOUT_S = 2.0


class Subscribable(Protocol):
    def subscribe(self, listener: Callable[[ProgramFrame], None]) -> None: ...


class DropSource(Protocol):
    def on_applied(self, listener: Callable[[DropEvent], None]) -> None: ...

    def view(self) -> DropView: ...


@dataclass(frozen=True)
class ClipResult:
    path: Path | None
    duration_s: float
    message: str  # a sentence for the host
    reason: str = "clip"

    @property
    def ok(self) -> bool:
        return self.path is not None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "clip"


class OutputService:
    def __init__(
        self,
        config: OutputConfig,
        program: ProgramConfig,
        compositor: Subscribable | None = None,
        *,
        base_dir: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        times: PolicyTimes | None = None,
        disk_usage: Callable[[Path], tuple[int, int, int]] = shutil.disk_usage,  # type: ignore[assignment]
        encoder_factory: Callable[[EncoderSettings], EncoderProcess] = EncoderProcess,
        pusher_factory: Callable[[IngestTarget], FfmpegPusher] = FfmpegPusher,
    ) -> None:
        self.config = config
        self.program = program
        self._clock = clock
        self._wall = wall
        self._times = times or PolicyTimes()
        self._disk_usage = disk_usage
        self._encoder_factory = encoder_factory
        self._pusher_factory = pusher_factory
        base = base_dir or Path.cwd()
        self.recording_dir = (base / config.recording_dir).expanduser() if config.recording_dir else None
        self.clips_dir = (self.recording_dir or base / "recordings") / "clips"
        self.settings = EncoderSettings(
            program.width, program.height, program.fps,
            config.bitrate_kbps, config.audio_kbps, config.keyframe_s, config.preset,
        )  # fmt: skip
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._running = False
        self._threads: list[threading.Thread] = []
        # frames in
        self._pending: ProgramFrame | None = None
        self._frame_ready = threading.Event()
        self._acked = threading.Event()
        self._t0: float | None = None
        self._frames_offered = 0
        self._frames_sent = 0
        self._dropped = 0
        # the encoder
        self._encoder: EncoderProcess | None = None
        self._encoder_error = ""
        self._encoder_ready = False
        self._encoder_failed_at: float | None = None
        self._encoder_stats: dict[str, float] = {}
        self._reader: threading.Thread | None = None
        # encoded out
        self.replay = ReplayBuffer(config.replay_s)
        self._recorder: Recorder | None = None
        self._byte_window: deque[tuple[float, int]] = deque()
        self._last_chunk_at: float | None = None
        # ingests
        self._targets: dict[str, IngestTarget] = {}
        self._url_error = ""
        self._policy: IngestPolicy | None = None
        self._runs: dict[str, IngestRun] = {}
        self._live_since: float | None = None
        self._ingest_message = ""
        # disk
        self._free_disk: int | None = None
        self._disk_warning = ""
        # clips and moments
        self._clip_jobs: Queue[tuple[str, float, float, Future[ClipResult]]] = Queue()
        self._last_clip = ""
        self._clip_message = ""
        self._moments: list[Moment] = []
        self._detector = MomentDetector()
        self._moment_listeners: list[Callable[[Moment], None]] = []
        self._switch_listeners: list[Callable[[str, str, str], None]] = []
        if compositor is not None:
            compositor.subscribe(self.offer)

    # -- public API -------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        self._stop.clear()
        self._running = True
        try:
            self._targets = {t.name: t for t in self.config.targets()}
        except IngestUrlError as exc:
            self._url_error = f"Not streaming: {exc}."
            log.error("%s", self._url_error)
        if self._targets:
            try:
                from booth.devices.ingest import ffmpeg_path

                ffmpeg_path()
                self._policy = IngestPolicy("backup" in self._targets, self._times)
            except FfmpegMissing as exc:
                self._url_error = f"Not streaming: {exc}."
                self._targets = {}
        if self.recording_dir is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._wall()))
            self._recorder = Recorder(self.recording_dir / f"booth-{stamp}.ts", self._clock)
            self._recorder.start()
        self._start_encoder()
        for target, name in ((self._feed_loop, "feed"), (self._supervise_loop, "ingest"), (self._clip_loop, "clip")):
            thread = threading.Thread(target=target, name=f"booth-output-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Stop pushes, finish the recording, stop the encoder; join every thread."""
        if not self._running:
            return
        self._stop.set()
        self._frame_ready.set()
        self._acked.set()
        for thread in self._threads:
            thread.join(10.0)
            if thread.is_alive():
                log.error("thread %s did not stop", thread.name)
        self._threads.clear()
        for run in list(self._runs.values()):
            run.stop()
        self._runs.clear()
        self._stop_encoder()
        if self._recorder is not None:
            self._recorder.stop()
        self._running = False
        log.info("program out stopped: %d frames sent, %d dropped", self._frames_sent, self._dropped)

    def offer(self, frame: ProgramFrame) -> None:
        """The compositor listener: newest wins, a replaced frame counts as dropped. Never blocks."""
        if not self._running:
            return
        with self._lock:
            if self._pending is not None and self._encoder_ready:
                self._dropped += 1  # (frames replaced while the encoder process starts are not counted)
            self._pending = frame
            self._frames_offered += 1
        self._frame_ready.set()

    def push_audio(self, pcm: bytes) -> None:
        """The microphone seam (issue 5): PCM s16le mono 48 kHz, in order, from one capture thread.
        Without it the stream carries silence; gaps are filled with silence too."""
        encoder = self._encoder
        if encoder is not None and self._encoder_ready:
            with contextlib.suppress(EncoderDied):  # the reader reports it
                encoder.send_audio(pcm, 0.0)

    def clip(self, seconds: float | None = None) -> Future[ClipResult]:
        """Save the last `seconds` (default `clip_seconds`) as an MP4; the future resolves in ~1 s."""
        now = self._clock()
        return self._queue_clip("clip", now - (seconds or self.config.clip_s), now)

    def on_moment(self, listener: Callable[[Moment], None]) -> None:
        """`listener(moment)` for every marked moment, on the thread that marked it."""
        self._moment_listeners.append(listener)

    def on_ingest_switch(self, listener: Callable[[str, str, str], None]) -> None:
        """`listener(from, to, reason)` when the stream moves between ingests (booth-output-ingest thread)."""
        self._switch_listeners.append(listener)

    def mark(self, reason: str) -> Moment:
        """Remember this instant as a moment worth a clip (first sale, sold out, failover…)."""
        with self._lock:
            moment = Moment(len(self._moments), reason, self._clock() - (self._t0 or self._clock()), self._wall())
            self._moments.append(replace(moment, stream_s=self._clock()))  # keep the monotonic time inside
        log.info("moment %d marked: %s", moment.index, reason)
        for listener in self._moment_listeners:
            listener(moment)
        return moment

    def moments(self) -> tuple[Moment, ...]:
        """Marked moments; `stream_s` is seconds since the output started."""
        with self._lock:
            t0 = self._t0 or 0.0
            return tuple(replace(m, stream_s=max(0.0, m.stream_s - t0)) for m in self._moments)

    def export_moment(self, index: int) -> Future[ClipResult]:
        """A clip around a marked moment (2/3 before it, 1/3 after), from memory or the recording."""
        with self._lock:
            if not 0 <= index < len(self._moments):
                future: Future[ClipResult] = Future()
                future.set_result(ClipResult(None, 0.0, f"There is no moment {index}."))
                return future
            moment = self._moments[index]
        before = self.config.clip_s * 2 / 3
        return self._queue_clip(moment.reason, moment.stream_s - before, moment.stream_s + self.config.clip_s - before)

    def watch_drop(self, drop: DropSource) -> None:
        """Mark commerce moments automatically: first sale, each low-stock level, sold out."""

        def on_applied(_event: DropEvent) -> None:
            for reason in self._detector.feed(drop.view()):
                self.mark(reason)

        drop.on_applied(on_applied)

    def status(self) -> OutputStatus:
        now = self._clock()
        with self._lock:
            while self._byte_window and now - self._byte_window[0][0] > 2.0:
                self._byte_window.popleft()
            window_bytes = sum(n for _, n in self._byte_window)
            stats = dict(self._encoder_stats)
            frames_sent, dropped = self._frames_sent, self._dropped
            moments = len(self._moments)
        state, ingest, message = self._ingest_state(now)
        recorder = self._recorder
        free = self._free_disk
        bytes_per_s = (self.config.bitrate_kbps + self.config.audio_kbps) * 125
        problems = [m for m in (self._url_error, self._encoder_error, message) if m]
        return OutputStatus(
            state=state,
            ingest=ingest,
            message=" ".join(problems),
            encoding=self._encoder is not None and not self._encoder_error,
            bitrate_kbps=window_bytes * 8 / 1000 / 2.0,
            encode_fps=stats.get("fps", 0.0),
            frames_sent=frames_sent,
            dropped_frames=dropped,
            time_live_s=(now - self._live_since) if self._live_since is not None else 0.0,
            switches=self._policy.switches if self._policy else 0,
            recording_path=str(recorder.path) if recorder else "",
            recording_bytes=recorder.bytes_written if recorder else 0,
            recording_error=recorder.error if recorder else "",
            free_disk_bytes=free,
            disk_minutes_left=(free / bytes_per_s / 60) if free is not None else None,
            disk_warning=self._disk_warning,
            replay_s=self.replay.span_s(),
            replay_bytes=self.replay.bytes,
            last_clip=self._last_clip,
            clip_message=self._clip_message,
            moments=moments,
        )

    # -- frames to the encoder --------------------------------------------------------------

    def _start_encoder(self) -> None:
        encoder = self._encoder_factory(self.settings)
        try:
            encoder.start()
        except OSError as exc:
            self._encoder_error = f"The encoder could not start: {exc}."
            self._encoder_failed_at = self._clock()
            log.error("%s", self._encoder_error)
            return
        self._encoder = encoder
        self._encoder_ready = False
        self._acked.clear()  # the first frame goes once the child says it is ready
        self._reader = threading.Thread(target=self._read_loop, args=(encoder,), name="booth-output-reader",
                                        daemon=True)  # fmt: skip
        self._reader.start()

    def _stop_encoder(self) -> None:
        encoder, self._encoder = self._encoder, None
        if encoder is not None:
            encoder.stop()
        if self._reader is not None:
            self._reader.join(5.0)
            if self._reader.is_alive():
                log.error("encoder reader thread did not stop")
            self._reader = None

    def _feed_loop(self) -> None:
        while not self._stop.is_set():
            if not self._acked.wait(ACK_TIMEOUT_S):
                continue  # the encoder is still on the last frame: newer ones replace each other
            if not self._frame_ready.wait(0.5):
                continue
            with self._lock:
                frame, self._pending = self._pending, None
                self._frame_ready.clear()
            encoder = self._encoder
            if frame is None or encoder is None or self._stop.is_set():
                continue
            if self._t0 is None:
                self._t0 = frame.composed_at
            self._acked.clear()
            try:
                encoder.send_frame(frame.pixels, frame.composed_at - self._t0)
            except EncoderDied:
                self._acked.set()
                continue  # the reader reports it and the supervisor restarts the encoder
            with self._lock:
                self._frames_sent += 1

    def _read_loop(self, encoder: EncoderProcess) -> None:
        frames_at: deque[tuple[float, float]] = deque(maxlen=8)
        while True:
            try:
                message = encoder.read_message()
            except EncoderDied as exc:
                if not self._stop.is_set() and self._encoder is encoder:
                    self._encoder_error = f"Encoder stopped ({exc}); restarting it. Preview and drop go on."
                    self._encoder_failed_at = self._clock()
                    log.error("%s", self._encoder_error)
                self._acked.set()
                return
            kind = message.kind
            if kind == b"T":
                self._on_chunk(Chunk(self._clock(), bool(message.flags & 1), message.payload))
            elif kind == b"K":
                self._acked.set()
            elif kind == b"S":
                stats = json.loads(message.payload)
                now = self._clock()
                frames_at.append((now, float(stats["frames"])))
                fps = 0.0
                if len(frames_at) >= 2 and frames_at[-1][0] > frames_at[0][0]:
                    fps = (frames_at[-1][1] - frames_at[0][1]) / (frames_at[-1][0] - frames_at[0][0])
                with self._lock:
                    self._encoder_stats = {**stats, "fps": fps}
            elif kind == b"R":
                self._encoder_ready = True
                self._acked.set()
                if self._encoder_error:
                    log.info("encoder running again")
                self._encoder_error = ""
            elif kind == b"E":
                self._encoder_error = message.payload.decode("utf-8", "replace")
                log.error("%s", self._encoder_error)

    def _on_chunk(self, chunk: Chunk) -> None:
        self.replay.append(chunk)
        if self._recorder is not None:
            self._recorder.put(chunk)
        for run in list(self._runs.values()):
            run.offer(chunk)
        with self._lock:
            self._byte_window.append((chunk.at, len(chunk.data)))
            self._last_chunk_at = chunk.at

    # -- ingests, disk, encoder restarts ----------------------------------------------------

    def _supervise_loop(self) -> None:
        next_disk = 0.0
        while not self._stop.wait(TICK_S):
            now = self._clock()
            if self._encoder_failed_at is not None and now - self._encoder_failed_at >= ENCODER_RESTART_S:
                self._encoder_failed_at = None
                self._stop_encoder()
                self._start_encoder()
            if self._policy is not None and self.replay.last_gop():
                self._step_ingests(now)
            if now >= next_disk:
                next_disk = now + DISK_CHECK_S
                self._check_disk()

    def _reports(self, now: float) -> dict[str, PushReport]:
        reports = {name: run.report() for name, run in self._runs.items()}
        idle = self._last_chunk_at is None or now - self._last_chunk_at > 1.0
        if idle:  # nothing to send: a quiet pusher is not a stalled one
            reports = {n: replace(r, progressed_at=now) if r.progressed_at else r for n, r in reports.items()}
        return reports

    def _step_ingests(self, now: float) -> None:
        policy = self._policy
        assert policy is not None
        reports = self._reports(now)
        before = policy.active
        for action in policy.step(now, reports):
            target = self._targets[action.target]
            if action.kind == "stop":
                run = self._runs.pop(action.target, None)
                if run is not None:
                    run.stop()
                log.warning("%s ingest %s: %s", action.target, target.label, action.reason)
            else:
                run = IngestRun(self._pusher_factory(target), self._clock, self._queue_limit())
                try:
                    run.start(self.replay.last_gop())
                except (OSError, FfmpegMissing) as exc:
                    log.error("could not start pushing to %s: %s", target.label, exc)
                    continue
                self._runs[action.target] = run
        if policy.active != before:
            words = f"program out switched {before} → {policy.active} ingest: {policy.last_switch_reason}"
            log.warning("%s", words)
            self.mark(f"ingest {before} → {policy.active}")
            for listener in self._switch_listeners:
                listener(before, policy.active, policy.last_switch_reason)
        active_run = self._runs.get(policy.active)
        live = active_run is not None and judge(active_run.report(), now, self._times) is IngestHealth.LIVE
        if live and self._live_since is None:
            self._live_since = now

    def _queue_limit(self) -> int:
        return max(MB, (self.config.bitrate_kbps + self.config.audio_kbps) * 125 * 4)  # 4 s of stream

    def _ingest_state(self, now: float) -> tuple[OutputState, str, str]:
        if self._policy is None or not self._targets:
            return OutputState.OFF, "", ""
        policy = self._policy
        active = policy.active
        run = self._runs.get(active)
        label = self._targets[active].label
        live = run is not None and judge(run.report(), now, self._times) is IngestHealth.LIVE
        if live and active == "primary":
            return OutputState.LIVE, label, ""
        if live:
            why = policy.last_error("primary") or "failed"
            return OutputState.BACKUP, label, f"On the backup ingest: the primary {why}; retrying the primary."
        errors = [f"{n} {policy.last_error(n)}" for n in self._targets if policy.last_error(n)]
        if not errors and self._live_since is None:
            return OutputState.CONNECTING, label, ""
        retry = [policy.next_try_in(n, now) for n in self._targets]
        due = min((r for r in retry if r is not None), default=0.0)
        return (
            OutputState.RECONNECTING,
            label,
            f"Stream not reaching viewers: {'; '.join(errors) or 'connecting'}. Retrying in {due:.0f} s.",
        )

    def _check_disk(self) -> None:
        directory = self.recording_dir
        if directory is None:
            return
        probe = directory if directory.exists() else directory.parent
        try:
            free = self._disk_usage(probe)[2]
        except OSError:
            return
        self._free_disk = free
        bytes_per_s = (self.config.bitrate_kbps + self.config.audio_kbps) * 125
        minutes = free / bytes_per_s / 60
        recorder = self._recorder
        if recorder is not None and recorder.active and free < self.config.disk_min_mb * MB:
            recorder.fail(
                f"Disk almost full ({free / MB:.0f} MB free): recording stopped so the sales log can still "
                f"write; the file so far is kept ({recorder.path})."
            )
        if minutes < self.config.disk_warn_minutes:
            self._disk_warning = f"Only {minutes:.0f} min of recording space left ({free / MB / 1024:.1f} GB free)."
        else:
            self._disk_warning = ""

    # -- clips ------------------------------------------------------------------------------

    def _queue_clip(self, reason: str, start: float, end: float) -> Future[ClipResult]:
        future: Future[ClipResult] = Future()
        if not self._running:
            future.set_result(ClipResult(None, 0.0, "Output is not running: nothing to clip.", reason))
            return future
        self._clip_jobs.put((reason, start, end, future))
        return future

    def _clip_loop(self) -> None:
        while not self._stop.is_set():
            try:
                reason, start, end, future = self._clip_jobs.get(timeout=0.5)
            except Empty:
                continue
            result = self._make_clip(reason, start, end)
            self._clip_message = result.message
            if result.path is not None:
                self._last_clip = str(result.path)
            future.set_result(result)
        while True:  # answer what is still queued
            try:
                _reason, _s, _e, future = self._clip_jobs.get_nowait()
            except Empty:
                break
            future.set_result(ClipResult(None, 0.0, "Output stopped before the clip was saved."))

    def _make_clip(self, reason: str, start: float, end: float) -> ClipResult:
        data: bytes | None = None
        oldest = self.replay.start_time()
        if oldest is not None and oldest <= start + 0.5:
            window = self.replay.window(start, end)
            data = window[0] if window else None
        elif self._recorder is not None:
            data = self._recorder.read_window(start, end)
        if data is None and oldest is not None:
            window = self.replay.window(start, end)  # part of it is still better than nothing
            data = window[0] if window else None
        if not data:
            return ClipResult(None, 0.0, "Nothing to clip yet: the encoder has not produced a keyframe.", reason)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._wall()))
        path = self.clips_dir / f"clip-{stamp}-{_slug(reason)}.mp4"
        n = 1
        while path.exists() and n < 100:
            path = self.clips_dir / f"clip-{stamp}-{_slug(reason)}-{n}.mp4"
            n += 1
        try:
            self.clips_dir.mkdir(parents=True, exist_ok=True)
            info = remux_ts_to_mp4(data, path)
        except (ClipError, OSError) as exc:
            message = f"Clip not saved: {exc}"
            log.error("%s", message)
            return ClipResult(None, 0.0, message, reason)
        message = f"Clip saved: {info.duration_s:.0f} s, {path.name}"
        log.info("%s (%s)", message, reason)
        return ClipResult(path, info.duration_s, message, reason)
