"""The clean program (the picture without the overlay) as a second, light MPEG-TS stream, for clean clips.

```
compositor (before the overlay is burned in) ──offer(pixels, seconds)──► newest-wins slot
   ──booth-clean-feed──► encoder process (x264 ultrafast, reniced)
   ──booth-clean-reader──► on_chunk(at, keyframe, data) ──► a replay buffer + a recording, as for the program
```

It is the same encoder process as the program's (`booth.devices.encoder`: shared memory in, TS
chunks cut at keyframes out), with cheaper settings and a lower CPU priority than the program's,
so under load the clean stream skips frames (counted) and the program does not. Why a second
encode and not a buffer of raw frames or a re-render: see the README ("Clips for short-form"),
measured by `booth bench clips`.

`offer` never blocks and never copies: the caller hands over a frame it will not change again
(the compositor copies the composed picture once, before burning the overlay into its own copy).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from booth.core.frames import Pixels
from booth.devices.encoder import EncoderDied, EncoderProcess, EncoderSettings

log = logging.getLogger(__name__)

RESTART_S = 1.0
ACK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class CleanFeedSettings:
    width: int
    height: int
    fps: float
    bitrate_kbps: int = 3000  # an intermediate: every clean clip is re-encoded from it (or remuxed 16:9)
    audio_kbps: int = 96
    keyframe_s: float = 2.0  # the same cut points as the program
    preset: str = "ultrafast"
    nice: int = 10  # below the program's encoder (0), above exports (19)


@dataclass(frozen=True)
class CleanFeedStats:
    running: bool
    frames_offered: int
    frames_sent: int
    dropped: int  # replaced before the encoder could take them (newest wins)
    rejected: int  # wrong size or format
    encoder_pid: int | None
    error: str


ChunkListener = Callable[[float, bool, bytes], None]  # (monotonic arrival time, starts at a keyframe, TS bytes)


class CleanFeed:
    def __init__(
        self,
        settings: CleanFeedSettings,
        on_chunk: ChunkListener,
        *,
        clock: Callable[[], float] = time.monotonic,
        encoder_factory: Callable[[EncoderSettings], EncoderProcess] = EncoderProcess,
    ) -> None:
        self.settings = settings
        self._on_chunk = on_chunk
        self._clock = clock
        self._encoder_factory = encoder_factory
        s = settings
        self._encoder_settings = EncoderSettings(s.width, s.height, s.fps, s.bitrate_kbps, s.audio_kbps,
                                                 s.keyframe_s, s.preset)  # fmt: skip
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._frame_ready = threading.Event()
        self._acked = threading.Event()
        self._pending: tuple[Pixels, float] | None = None
        self._encoder: EncoderProcess | None = None
        self._ready = False
        self._died_at: float | None = None
        self._error = ""
        self._feed: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._bgra: Pixels | None = None  # BGR frames are widened into this (one buffer, reused)
        self._offered = self._sent = self._dropped = self._rejected = 0

    # -- public -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._feed is not None:
            return
        self._stop.clear()
        self._start_encoder()
        self._feed = threading.Thread(target=self._feed_loop, name="booth-clean-feed", daemon=True)
        self._feed.start()

    def stop(self) -> None:
        self._stop.set()
        self._frame_ready.set()
        self._acked.set()
        if self._feed is not None:
            self._feed.join(10.0)
            if self._feed.is_alive():
                log.error("clean feed thread did not stop")
            self._feed = None
        self._stop_encoder()

    def offer(self, pixels: Pixels, seconds: float) -> None:
        """A clean program frame (BGRA or BGR, program size) at program time `seconds`. Never blocks."""
        s = self.settings
        if pixels.shape[:2] != (s.height, s.width) or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
            with self._lock:
                self._rejected += 1
                first = self._rejected == 1
            if first:
                log.error("clean feed: frame of shape %s refused (expects %dx%d BGR or BGRA)", pixels.shape,
                          s.width, s.height)  # fmt: skip
            return
        with self._lock:
            if self._pending is not None and self._ready:
                self._dropped += 1
            self._pending = (pixels, seconds)
            self._offered += 1
        self._frame_ready.set()

    def push_audio(self, pcm: bytes) -> None:
        """The same microphone PCM as the program's (s16le mono 48 kHz); silence fills gaps."""
        encoder = self._encoder
        if encoder is not None and self._ready:
            with contextlib.suppress(EncoderDied):
                encoder.send_audio(pcm, 0.0)

    def stats(self) -> CleanFeedStats:
        with self._lock:
            encoder = self._encoder
            return CleanFeedStats(self._feed is not None and encoder is not None, self._offered, self._sent,
                                  self._dropped, self._rejected, encoder.pid if encoder else None,
                                  self._error)  # fmt: skip

    # -- the encoder ------------------------------------------------------------------------

    def _start_encoder(self) -> None:
        encoder = self._encoder_factory(self._encoder_settings)
        try:
            encoder.start()
        except OSError as exc:
            self._error = f"The clean feed's encoder could not start: {exc}."
            self._died_at = self._clock()
            log.error("%s", self._error)
            return
        if encoder.pid is not None:
            # Before the child has imported its libraries, so x264's threads inherit the priority.
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, encoder.pid, self.settings.nice)
        self._encoder = encoder
        self._ready = False
        self._acked.clear()
        self._reader = threading.Thread(target=self._read_loop, args=(encoder,), name="booth-clean-reader",
                                        daemon=True)  # fmt: skip
        self._reader.start()

    def _stop_encoder(self) -> None:
        with self._lock:
            encoder, self._encoder = self._encoder, None
        if encoder is not None:
            encoder.stop()
        if self._reader is not None:
            self._reader.join(5.0)
            if self._reader.is_alive():
                log.error("clean feed reader thread did not stop")
            self._reader = None

    def _feed_loop(self) -> None:
        while not self._stop.is_set():
            if self._died_at is not None and self._clock() - self._died_at >= RESTART_S:
                self._died_at = None
                self._stop_encoder()
                self._start_encoder()
            if not self._acked.wait(ACK_TIMEOUT_S) or not self._frame_ready.wait(0.5):
                continue
            with self._lock:
                pending, self._pending = self._pending, None
                self._frame_ready.clear()
            encoder = self._encoder
            if pending is None or encoder is None or self._stop.is_set():
                continue
            pixels, seconds = pending
            if pixels.shape[2] == 3:
                if self._bgra is None:
                    self._bgra = np.full((self.settings.height, self.settings.width, 4), 255, np.uint8)
                self._bgra[..., :3] = pixels
                pixels = self._bgra
            self._acked.clear()
            try:
                encoder.send_frame(pixels, seconds)
            except EncoderDied:
                self._acked.set()
                continue
            with self._lock:
                self._sent += 1

    def _read_loop(self, encoder: EncoderProcess) -> None:
        while True:
            try:
                message = encoder.read_message()
            except EncoderDied as exc:
                if not self._stop.is_set() and self._encoder is encoder:
                    self._error = f"Clean feed encoder stopped ({exc}); restarting it."
                    self._died_at = self._clock()
                    log.error("%s", self._error)
                self._acked.set()
                return
            if message.kind == b"T":
                try:
                    self._on_chunk(self._clock(), bool(message.flags & 1), message.payload)
                except Exception:
                    log.exception("a clean feed chunk listener failed")
            elif message.kind == b"K":
                self._acked.set()
            elif message.kind == b"R":
                self._ready = True
                self._error = ""
                self._acked.set()
            elif message.kind == b"E":
                self._error = message.payload.decode("utf-8", "replace")
                log.error("clean feed: %s", self._error)
