"""The link to the encoder process: program frames in (newest wins), MPEG-TS chunks out.

```
program feed ──reader──► booth-output-feed ──shared memory──► encoder process
                                                                  │ TS chunks, acks, stats
      on_chunk(chunk) ◄── booth-output-reader ◄───────────────────┘
```

The feed worker sends one frame at a time and waits for the child's "taken" before the next, so a
slow encoder means newest-wins drops here (counted), never a growing queue. A dead encoder is
restarted by the feed worker after `RESTART_AFTER_S`; the preview and the drop never notice.

Time: the stream's zero is the program clock instant of the first frame sent. A frame goes with its
slot's program time (a dropped frame leaves a gap, it never shifts the rest); a microphone block
goes with the program time of its first sample, on the same clock, so sound and picture of the same
moment carry the same timestamp however long either took to get here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from booth.core.frames import FrameStamp, ProgramFrame
from booth.devices.encoder import EncoderDied, EncoderProcess, EncoderSettings
from booth.program_out.replay import Chunk
from booth.runtime.feed import Feed, FeedReader
from booth.runtime.worker import Worker

log = logging.getLogger(__name__)

RESTART_AFTER_S = 1.0
ACK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class EncoderStatus:
    encoding: bool
    error: str  # a sentence for the host, "" when fine
    fps: float
    frames_sent: int
    dropped_frames: int  # program frames the encoder could not take (newest-wins)


class EncoderLink:
    def __init__(
        self,
        settings: EncoderSettings,
        program: Feed[ProgramFrame, FrameStamp],
        on_chunk: Callable[[Chunk], None],
        clock: Callable[[], float] = time.monotonic,
        encoder_factory: Callable[[EncoderSettings], EncoderProcess] = EncoderProcess,
        *,
        name: str = "output",
        nice: int = 0,
    ) -> None:
        """`name` names its workers (booth-NAME-feed, booth-NAME-reader); `nice` > 0 runs the encoder
        process below the program's threads (the clean feed: under load it skips frames, not the program)."""
        self.settings = settings
        self.nice = nice
        self._program = program
        self._on_chunk = on_chunk
        self._clock = clock
        self._factory = encoder_factory
        self._lock = threading.Lock()
        self._reader: FeedReader[ProgramFrame, FrameStamp] | None = None
        self._encoder: EncoderProcess | None = None
        self._ready = False
        self._closing = False
        self._acked = threading.Event()
        self._error = ""
        self._failed_at: float | None = None
        self._t0: tuple[int, float] | None = None  # (slot, program clock instant) of the stream's zero
        self._frames_sent = 0
        self._dropped_before_ready = 0  # skipped while the encoder process started: not its fault
        self._stats: dict[str, float] = {}
        self._frames_at: deque[tuple[float, float]] = deque(maxlen=8)
        label = "Encoder" if name == "output" else f"{name.capitalize()} encoder"
        self._feed = Worker(f"booth-{name}-feed", self._feed_step, f"{label} feed", join_timeout_s=5.0)
        self._out = Worker(f"booth-{name}-reader", self._read_step, f"{label} output", join_timeout_s=5.0)

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        self._closing = False
        self._reader = self._program.reader()
        self._start_encoder()
        self._feed.start()
        self._out.start()

    def stop(self) -> None:
        """No more frames; the encoder finishes its stream and the reader worker hands on every last
        chunk (the recording ends on the last frame sent) before it ends at the child's exit."""
        self._closing = True
        self._feed.request_stop()
        self._acked.set()
        self._feed.join()
        encoder = self._encoder
        if encoder is not None:
            encoder.stop()  # asks the child to finish; its stdout ends when it exits
        self._out.request_stop()
        self._out.join()
        self._encoder = None

    def push_audio(self, pcm: bytes, captured_at: float) -> None:
        """PCM s16le mono 48 kHz from the microphone feed, its first sample captured at `captured_at`
        (monotonic); dropped while the encoder (re)starts or before the first frame set the zero."""
        encoder, t0 = self._encoder, self._t0
        if encoder is not None and self._ready and t0 is not None:
            with contextlib.suppress(EncoderDied):  # the reader reports it
                encoder.send_audio(pcm, captured_at - t0[1])

    @property
    def stream_zero(self) -> float | None:
        """The program clock instant (monotonic) that is time 0 of the encoded stream, once known."""
        return self._t0[1] if self._t0 is not None else None

    def status(self) -> EncoderStatus:
        with self._lock:
            stats = dict(self._stats)
            sent, error = self._frames_sent, self._error
        dropped = self._reader.dropped - self._dropped_before_ready if self._reader is not None else 0
        encoding = self._encoder is not None and not error
        return EncoderStatus(encoding, error, stats.get("fps", 0.0), sent, dropped)

    @property
    def pid(self) -> int | None:
        """The encoder process's PID (benchmarks read its CPU and memory)."""
        encoder = self._encoder
        return encoder.pid if encoder is not None else None

    @property
    def problems(self) -> list[str]:
        return [p for p in (self._feed.problem, self._out.problem) if p]

    # -- the encoder process -----------------------------------------------------------------

    def _start_encoder(self) -> None:
        encoder = self._factory(self.settings)
        try:
            encoder.start()
        except OSError as exc:
            self._set_error(f"The encoder could not start: {exc}.")
            self._failed_at = self._clock()
            return
        if self.nice and encoder.pid is not None:
            # At once, while the child still imports its libraries: x264's threads inherit the priority.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, encoder.pid, self.nice)
        self._ready = False
        self._acked.clear()  # the first frame goes once the child says it is ready
        self._encoder = encoder

    def _set_error(self, message: str) -> None:
        with self._lock:
            self._error = message
        if message:
            log.error("%s", message)

    # -- the feed worker ---------------------------------------------------------------------

    def _feed_step(self) -> float:
        if self._failed_at is not None:
            if self._clock() - self._failed_at < RESTART_AFTER_S:
                return 0.1
            self._failed_at = None
            old, self._encoder = self._encoder, None
            if old is not None:
                old.stop()
            self._start_encoder()
            return 0.0
        if not self._acked.wait(ACK_TIMEOUT_S):
            return 0.0  # the encoder is still on the last frame: newer ones replace each other
        encoder, reader = self._encoder, self._reader
        if encoder is None or reader is None:
            return 0.1
        frame = reader.wait(0.5)
        if frame is None or self._feed.stopping:
            return 0.0
        if self._t0 is None:
            self._t0 = (frame.slot, frame.program_at)
        self._acked.clear()
        try:
            encoder.send_frame(frame.pixels, (frame.slot - self._t0[0]) / self.settings.fps)
        except EncoderDied:
            self._acked.set()
            return 0.1  # the reader worker reports it and asks for a restart
        with self._lock:
            self._frames_sent += 1
        return 0.0

    # -- the reader worker -------------------------------------------------------------------

    def _read_step(self) -> float:
        encoder = self._encoder
        if encoder is None or self._failed_at is not None:
            return 0.1
        try:
            message = encoder.read_message()
        except EncoderDied as exc:
            if self._closing:
                self._out.request_stop()  # the stream is finished: every chunk was handed on
            elif not self._out.stopping and self._encoder is encoder:
                self._set_error(f"Encoder stopped ({exc}); restarting it. Preview and drop go on.")
                self._failed_at = self._clock()
            self._acked.set()
            return 0.1
        kind = message.kind
        if kind == b"T":
            self._on_chunk(Chunk(self._clock(), bool(message.flags & 1), message.payload))
        elif kind == b"K":
            self._acked.set()
        elif kind == b"S":
            stats = json.loads(message.payload)
            now = self._clock()
            self._frames_at.append((now, float(stats["frames"])))
            first, last = self._frames_at[0], self._frames_at[-1]
            fps = (last[1] - first[1]) / (last[0] - first[0]) if last[0] > first[0] else 0.0
            with self._lock:
                self._stats = {**stats, "fps": fps}
        elif kind == b"R":
            if self._reader is not None:
                self._dropped_before_ready = self._reader.dropped
            self._ready = True
            self._acked.set()
            if self._error:
                log.info("encoder running again")
            self._set_error("")
        elif kind == b"E":
            self._set_error(message.payload.decode("utf-8", "replace"))
        return 0.0
