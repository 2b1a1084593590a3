"""Program out: encode the program once, then stream it (primary + backup ingest), record it,
and keep the last minutes encoded in memory for clips.

```
program feed ──► encoder link (process) ──TS chunks──┬─► replay buffer (90 s) ──► clip maker
                                                     ├─► recorder (file, fsync 1 s; stops when the disk guard says so)
                                                     └─► ingest supervisor ──► ffmpeg -c copy per ingest
moments (first sale, low stock, sold out, cuts) ─────────► clips around them
clean feed (program without overlay, optional) ──► clean encoder link (nice 10) ──┬─► clean replay buffer
                                                                                  └─► clean recording
Shift+C / Output view ──► live clips ──► export queue (booth-export, ffmpeg at nice 19) ──► 9:16 / 16:9 MP4
```

Each part runs on its own named worker and publishes an immutable status; `status()` only
combines the newest snapshots, so nothing the GUI calls ever joins a thread or waits on I/O.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

from booth.core.clip_presets import Rect
from booth.core.config import ProgramConfig
from booth.core.frames import FrameStamp, ProgramFrame
from booth.core.health.system import MB, DiskStatus, format_bytes
from booth.core.output import (
    CLEAN_AUDIO_KBPS,
    CLEAN_KBPS,
    IngestTarget,
    IngestUrlError,
    Moment,
    OutputConfig,
    OutputState,
    OutputStatus,
    PolicyTimes,
)
from booth.core.recording import RecordingConfig
from booth.devices.encoder import EncoderProcess, EncoderSettings
from booth.devices.ingest import FfmpegMissing, FfmpegPusher, ffmpeg_path
from booth.program_out.clips import ClipMaker, ClipResult, resolved_future
from booth.program_out.encoder_link import EncoderLink
from booth.program_out.export import ExportJob, ExportQueue
from booth.program_out.ingests import IngestSupervisor, queue_limit
from booth.program_out.live_clips import ClipOrder, LiveClips, Stretch
from booth.program_out.moments import DropSource, MomentLog
from booth.program_out.overlay_history import OverlayHistory
from booth.program_out.recorder import Recorder
from booth.program_out.replay import Chunk, ReplayBuffer
from booth.runtime.feed import Feed

log = logging.getLogger(__name__)

# The clean feed (booth bench clips, README "The clean picture"): an intermediate every clean clip is
# re-encoded from, so cheap settings; below the program's encoder (0) and above exports (19).
CLEAN_PRESET = "ultrafast"
CLEAN_NICE = 10


class ProgramOut:
    """`recording_folder`: where recordings (and clips) go, already resolved; None = no recording.
    `disk()`: the disk guard's newest reading (None: not known yet)."""

    def __init__(
        self,
        config: OutputConfig,
        program: ProgramConfig,
        feed: Feed[ProgramFrame, FrameStamp],
        *,
        recording: RecordingConfig | None = None,
        recording_folder: Path | None = None,
        clips_folder: Path | None = None,
        disk: Callable[[], DiskStatus | None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        times: PolicyTimes | None = None,
        encoder_factory: Callable[[EncoderSettings], EncoderProcess] = EncoderProcess,
        pusher_factory: Callable[[IngestTarget], FfmpegPusher] = FfmpegPusher,
        clean_feed: Feed[ProgramFrame, FrameStamp] | None = None,
        overlay_box: Callable[[], Rect | None] = lambda: None,
    ) -> None:
        """`clean_feed`: the program without the overlay (the compositor's `clean`), encoded lightly
        for clean clips; None = no clean clips. `overlay_box()`: the burned-in plate's place now."""
        self.config = config
        self.program = program
        self.recording = recording or RecordingConfig()
        self.recording_folder = recording_folder
        self.clips_folder = clips_folder or (recording_folder or Path.cwd() / "recordings") / "clips"
        self._disk = disk
        self._clock = clock
        self._wall = wall
        self._times = times
        self._pusher_factory = pusher_factory
        self.settings = EncoderSettings(
            program.width, program.height, program.fps,
            config.bitrate_kbps, config.audio_kbps, config.keyframe_s, config.preset,
        )  # fmt: skip
        self.replay = ReplayBuffer(config.replay_s)
        self.moments_log = MomentLog(clock, wall)
        self.encoder = EncoderLink(self.settings, feed, self._on_chunk, clock, encoder_factory)
        self.recorder: Recorder | None = None
        self.ingests: IngestSupervisor | None = None
        self.clips = ClipMaker(self.clips_folder, self.replay, lambda: self.recorder, wall)
        self.clean_settings = replace(self.settings, bitrate_kbps=CLEAN_KBPS, audio_kbps=CLEAN_AUDIO_KBPS,
                                      preset=CLEAN_PRESET)  # fmt: skip
        self.clean_replay: ReplayBuffer | None = None
        self.clean_encoder: EncoderLink | None = None
        self.clean_recorder: Recorder | None = None
        if clean_feed is not None:
            self.clean_replay = ReplayBuffer(config.replay_s)
            self.clean_encoder = EncoderLink(self.clean_settings, clean_feed, self._on_clean_chunk, clock,
                                             encoder_factory, name="clean", nice=CLEAN_NICE)  # fmt: skip
        self.exports = ExportQueue(clock=clock)
        clean = Stretch(self.clean_replay, lambda: self.clean_recorder) if self.clean_replay is not None else None
        self.overlay_history = OverlayHistory(overlay_box, config.replay_s, clock)
        self.live_clips = LiveClips(self.exports, self.clips_folder, program.size, program.fps,
                                    Stretch(self.replay, lambda: self.recorder), clean, self.overlay_history.union,
                                    clock, wall)  # fmt: skip
        self._url_error = ""
        self._switch_listeners: list[Callable[[str, str, str], None]] = []
        self._bytes: deque[tuple[float, int]] = deque()
        self._bytes_lock = threading.Lock()
        self._running = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self.moments_log.started_at = self._clock()
        targets: dict[str, IngestTarget] = {}
        try:
            targets = {t.name: t for t in self.config.targets()}
            if targets:
                ffmpeg_path()
        except (IngestUrlError, FfmpegMissing) as exc:
            self._url_error = f"Not streaming: {exc}."
            log.error("%s", self._url_error)
            targets = {}
        if targets:
            self.ingests = IngestSupervisor(
                targets, self.replay, queue_limit(self.config.stream_bytes_per_s), self._clock, self._times,
                self._pusher_factory, self._ingest_switched,
            )  # fmt: skip
        if self.recording_folder is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self._wall()))
            self.recorder = Recorder(self.recording_folder / f"booth-{stamp}.ts", self._clock, disk_low=self._disk_low)
            self.recorder.start()
            if self.clean_encoder is not None:
                self.clean_recorder = Recorder(self.recording_folder / f"booth-{stamp}-clean.ts", self._clock,
                                               disk_low=self._disk_low, name="booth-clean-record")  # fmt: skip
                self.clean_recorder.start()
        self.encoder.start()
        if self.clean_encoder is not None:
            self.clean_encoder.start()
        self.exports.start()
        self.overlay_history.start()
        if self.ingests is not None:
            self.ingests.start()
        self.clips.start()

    def stop(self) -> None:
        """Stop pushes, finish the recording, stop the encoder; join every worker."""
        if not self._running:
            return
        if self.ingests is not None:
            self.ingests.stop()
        self.clips.stop()
        self.overlay_history.stop()
        self.exports.stop()
        self.encoder.stop()
        if self.clean_encoder is not None:
            self.clean_encoder.stop()
        if self.recorder is not None:
            self.recorder.stop()
        if self.clean_recorder is not None:
            self.clean_recorder.stop()
        self._running = False
        status = self.encoder.status()
        log.info("program out stopped: %d frames sent, %d dropped", status.frames_sent, status.dropped_frames)

    # -- the host's actions ------------------------------------------------------------------

    def push_audio(self, pcm: bytes, captured_at: float) -> None:
        """The microphone seam: PCM s16le mono 48 kHz, in order, its first sample captured at
        `captured_at` (monotonic). Without it the stream carries silence."""
        self.encoder.push_audio(pcm, captured_at)
        if self.clean_encoder is not None:
            self.clean_encoder.push_audio(pcm, captured_at)

    def export_clip(self, order: ClipOrder) -> ExportJob:
        """A 9:16 (or captioned / clean 16:9) clip on the export worker; never blocks. Progress:
        `exports.on_update`; the job's future resolves with the final status."""
        return self.live_clips.export(order)

    def export_moment_clip(self, index: int, order: ClipOrder) -> ExportJob:
        """`order` around marked moment `index` (two thirds before it), from memory or the recording."""
        at = self.moments_log.at(index)
        moments = self.moments_log.moments()
        if at is None:
            return self.live_clips.refuse(order, f"there is no moment {index}")
        return self.live_clips.export(replace(order, at=at, label=order.label or moments[index].reason))

    @property
    def recordings(self) -> dict[str, str]:
        """The recording files of this run: program (overlay burned in) and clean, where made."""
        found = {}
        if self.recorder is not None:
            found["program"] = str(self.recorder.path)
        if self.clean_recorder is not None:
            found["clean"] = str(self.clean_recorder.path)
        return found

    def clip(self, seconds: float | None = None) -> Future[ClipResult]:
        """Save the last `seconds` (default `clip_seconds`) as an MP4; the future resolves in ~1 s."""
        now = self._clock()
        return self.clips.queue("clip", now - (seconds or self.config.clip_s), now)

    def mark(self, reason: str) -> Moment:
        """Remember this instant as a moment worth a clip (first sale, sold out, failover…)."""
        return self.moments_log.mark(reason)

    def moments(self) -> tuple[Moment, ...]:
        """Marked moments; `stream_s` is seconds since the output started."""
        return self.moments_log.moments()

    def export_moment(self, index: int) -> Future[ClipResult]:
        """A clip around a marked moment (2/3 before it, 1/3 after), from memory or the recording."""
        at = self.moments_log.at(index)
        if at is None:
            return resolved_future(ClipResult(None, 0.0, f"There is no moment {index}."))
        before = self.config.clip_s * 2 / 3
        reason = self.moments_log.moments()[index].reason
        return self.clips.queue(reason, at - before, at + self.config.clip_s - before)

    def watch_drop(self, drop: DropSource) -> None:
        self.moments_log.watch_drop(drop)

    def on_moment(self, listener: Callable[[Moment], None]) -> None:
        self.moments_log.on_moment(listener)

    def on_ingest_switch(self, listener: Callable[[str, str, str], None]) -> None:
        """`listener(from, to, reason)` when the stream moves between ingests (the supervisor's worker)."""
        self._switch_listeners.append(listener)

    # -- reading -------------------------------------------------------------------------------

    def status(self) -> OutputStatus:
        """Combines the parts' newest snapshots: never waits on a thread, a process or the disk."""
        now = self._clock()
        with self._bytes_lock:
            while self._bytes and now - self._bytes[0][0] > 2.0:
                self._bytes.popleft()
            window_bytes = sum(n for _, n in self._bytes)
        encoder = self.encoder.status()
        ingest = self.ingests.status() if self.ingests is not None else None
        clips = self.clips.status()
        recorder = self.recorder
        disk = self._disk()
        free = disk.free_bytes if disk is not None else None
        per_s = self.config.recording_bytes_per_s(self.clean_encoder is not None)
        minutes = (free / per_s / 60) if free is not None else None
        disk_warning = ""
        if recorder is not None and minutes is not None and minutes < self.recording.warn_minutes:
            disk_warning = f"Only {minutes:.0f} min of recording space left ({format_bytes(free or 0)} free)."
        message = " ".join(m for m in (self._url_error, encoder.error, ingest.message if ingest else "") if m)
        return OutputStatus(
            state=ingest.state if ingest is not None else OutputState.OFF,
            ingest=ingest.ingest if ingest is not None else "",
            message=message,
            encoding=encoder.encoding,
            bitrate_kbps=window_bytes * 8 / 1000 / 2.0,
            encode_fps=encoder.fps,
            frames_sent=encoder.frames_sent,
            dropped_frames=encoder.dropped_frames,
            time_live_s=ingest.time_live_s if ingest is not None else 0.0,
            switches=ingest.switches if ingest is not None else 0,
            recording_path=str(recorder.path) if recorder else "",
            recording_bytes=recorder.bytes_written if recorder else 0,
            recording_error=recorder.error if recorder else "",
            free_disk_bytes=free,
            disk_minutes_left=minutes,
            disk_warning=disk_warning,
            replay_s=self.replay.span_s(),
            replay_bytes=self.replay.bytes,
            last_clip=clips.last_clip,
            clip_message=clips.message,
            moments=len(self.moments_log),
        )

    @property
    def problems(self) -> list[str]:
        found = self.encoder.problems
        if self.clean_encoder is not None:
            found += self.clean_encoder.problems
        if self.exports.problem:
            found.append(self.exports.problem)
        if self.ingests is not None and self.ingests.problem:
            found.append(self.ingests.problem)
        return found

    # -- internals -----------------------------------------------------------------------------

    def _on_chunk(self, chunk: Chunk) -> None:  # the encoder reader's worker
        self.replay.append(chunk)
        if self.recorder is not None:
            self.recorder.put(chunk)
        if self.ingests is not None:
            self.ingests.offer(chunk)
        with self._bytes_lock:
            self._bytes.append((chunk.at, len(chunk.data)))

    def _on_clean_chunk(self, chunk: Chunk) -> None:  # the clean encoder reader's worker
        if self.clean_replay is not None:
            self.clean_replay.append(chunk)
        if self.clean_recorder is not None:
            self.clean_recorder.put(chunk)

    def _disk_low(self) -> str | None:
        disk = self._disk()
        if disk is None or disk.free_bytes is None or disk.free_bytes >= self.recording.min_free_mb * MB:
            return None
        return f"Disk almost full ({format_bytes(disk.free_bytes)} free)"

    def _ingest_switched(self, before: str, after: str, reason: str) -> None:
        self.mark(f"ingest {before} → {after}")
        for listener in self._switch_listeners:
            listener(before, after, reason)
