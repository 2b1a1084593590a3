"""The program encoder, in its own process: BGRA frames in through shared memory, MPEG-TS out.

Why a process: PyAV holds the GIL while it opens or closes outputs and while x264 works on
a frame's bookkeeping; an encoder that stalls must never freeze the preview (PyAV#2400,
PyAV#1053). The child only ever writes to a pipe, never to the network.

Protocol (little-endian, fixed headers):
- parent → child, on stdin:  ``<cId`` kind, length, seconds — then `length` payload bytes.
  ``F`` a frame is in shared memory, composed for program time `seconds` (a whole number of
  frame periods: its slot on the program clock); ``A`` PCM s16le mono 48 kHz follows, its first
  sample captured at program time `seconds` (the microphone seam; silence fills any gap);
  ``Q`` finish and exit.
- child → parent, on stdout: ``<cBdI`` kind, flags, seconds, length — then the payload.
  ``R`` ready; ``K`` the frame was taken (shared memory is free again); ``T`` TS bytes
  (flags bit 0: the chunk starts at a keyframe); ``S`` stats JSON; ``E`` an error sentence.

One frame is in flight at a time: the parent waits for ``K`` before it writes the next one,
so the shared memory is never torn and a slow encoder means newest-wins drops in the parent.

Timestamps: a frame's PTS is its program time in frame periods — never a count of frames sent,
which creeps ahead of the clock whenever frames come a little faster than the rate, and never
shifted to close a gap: a frame the parent dropped leaves a hole in PTS, as it did on the clock.
Sound goes on the same clock (booth.core.audio_timeline), cut a little behind the video
(`AUDIO_LAG_S`) so a block still on its way from the microphone is placed, not replaced by silence.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from multiprocessing import resource_tracker, shared_memory
from typing import IO, Any

import numpy as np

from booth.core.audio_timeline import AudioTimeline
from booth.core.frames import Pixels
from booth.core.tsscan import TsSplitter

log = logging.getLogger(__name__)

IN_HEADER = struct.Struct("<cId")
OUT_HEADER = struct.Struct("<cBdI")
AUDIO_RATE = 48000
AUDIO_FRAME = 1024
AUDIO_LAG_S = 0.1  # a microphone block reaches the encoder ~50 ms after its first sample
MAX_PAYLOAD = 16 << 20


@dataclass(frozen=True)
class EncoderSettings:
    width: int
    height: int
    fps: float
    bitrate_kbps: int = 4500
    audio_kbps: int = 128
    keyframe_s: float = 2.0
    preset: str = "superfast"

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * 4

    @property
    def gop(self) -> int:
        return max(1, round(self.keyframe_s * self.fps))


@dataclass(frozen=True)
class Message:
    kind: bytes
    flags: int
    seconds: float
    payload: bytes


class EncoderDied(RuntimeError):
    pass


class EncoderProcess:
    """The parent's handle on the child. `send_frame` and `read_message` may block: call
    them from dedicated threads (the output service's feeder and reader)."""

    def __init__(self, settings: EncoderSettings) -> None:
        self.settings = settings
        self._shm: shared_memory.SharedMemory | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._view: Pixels | None = None
        self._write_lock = threading.Lock()  # frames and microphone audio share the pipe

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        self._shm = shared_memory.SharedMemory(create=True, size=self.settings.frame_bytes)
        s = self.settings
        self._view = np.ndarray((s.height, s.width, 4), np.uint8, buffer=self._shm.buf)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "booth.devices.encoder", json.dumps(asdict(s)), self._shm.name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0,
        )  # fmt: skip
        log.info("encoder process %d started: %dx%d @ %g fps, %d kbps, %s", self._proc.pid, s.width, s.height,
                 s.fps, s.bitrate_kbps, s.preset)  # fmt: skip

    def send_frame(self, pixels: Pixels, seconds: float) -> None:
        """Copy one BGRA frame into shared memory and tell the child (after its last ``K``)."""
        assert self._view is not None and self._proc is not None and self._proc.stdin is not None
        np.copyto(self._view, pixels)
        self._write(IN_HEADER.pack(b"F", 0, seconds))

    def send_audio(self, pcm: bytes, seconds: float) -> None:
        self._write(IN_HEADER.pack(b"A", len(pcm), seconds) + pcm)

    def _write(self, data: bytes) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            with self._write_lock:
                self._proc.stdin.write(data)
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise EncoderDied(f"the encoder process is gone ({exc})") from None

    def read_message(self) -> Message:
        """Block until the child says something; EncoderDied when it is gone."""
        assert self._proc is not None and self._proc.stdout is not None
        header = _read_exact(self._proc.stdout, OUT_HEADER.size)
        if header is None:
            raise EncoderDied(self._death_reason())
        kind, flags, seconds, length = OUT_HEADER.unpack(header)
        payload = _read_exact(self._proc.stdout, length) if length else b""
        if payload is None:
            raise EncoderDied(self._death_reason())
        return Message(kind, flags, seconds, payload)

    def _death_reason(self) -> str:
        code = None
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._proc.wait(1.0)
        tail = ""
        if self._proc is not None and self._proc.stderr is not None and code is not None:
            with contextlib.suppress(OSError, ValueError):
                tail = self._proc.stderr.read()[-400:].decode("utf-8", "replace").strip()
        return f"the encoder process ended (exit code {code}){': ' + tail.splitlines()[-1] if tail else ''}"

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the child to finish, kill it if it does not, reap it, free the shared memory."""
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(EncoderDied):
                self._write(IN_HEADER.pack(b"Q", 0, 0.0))
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()  # type: ignore[union-attr]
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("encoder process %d did not finish in %.0f s; killing it", proc.pid, timeout)
                proc.kill()
                proc.wait(5.0)
            for stream in (proc.stdout, proc.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()  # type: ignore[union-attr]
            self._proc = None
        self._view = None
        if self._shm is not None:
            self._shm.close()
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._shm = None

    def kill(self) -> None:
        """Kill at once (tests: an encoder that dies mid-show)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


# -- the child ---------------------------------------------------------------------------------


class _Sink:
    """The muxer's file: TS bytes go through the splitter to the parent."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.splitter = TsSplitter()
        self.seconds = 0.0
        self.bytes = 0

    def write(self, data: bytes) -> int:
        for chunk in self.splitter.feed(bytes(data)):
            self.out.write(OUT_HEADER.pack(b"T", int(chunk.keyframe), self.seconds, len(chunk.data)) + chunk.data)
            self.bytes += len(chunk.data)
        return len(data)


def _child_main(settings_json: str, shm_name: str) -> int:  # pragma: no cover - runs in the child
    import av
    import cv2

    s = EncoderSettings(**json.loads(settings_json))
    out = sys.stdout.buffer
    stdin = sys.stdin.buffer
    shm = shared_memory.SharedMemory(name=shm_name)
    # The parent owns the segment; don't let this process's tracker unlink it at exit.
    with contextlib.suppress(Exception):
        resource_tracker.unregister(shm._name, "shared_memory")  # type: ignore[attr-defined]
    frame_view = np.ndarray((s.height, s.width, 4), np.uint8, buffer=shm.buf)

    def say(kind: bytes, payload: bytes = b"", flags: int = 0, seconds: float = 0.0) -> None:
        out.write(OUT_HEADER.pack(kind, flags, seconds, len(payload)) + payload)
        out.flush()

    sink = _Sink(out)
    try:
        container = av.open(sink, "w", format="mpegts", buffer_size=188 * 64)
        rate = Fraction(s.fps).limit_denominator(1001)
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = s.width, s.height, "yuv420p"
        video.bit_rate = s.bitrate_kbps * 1000
        video.codec_context.gop_size = s.gop
        video.options = {
            "preset": s.preset,
            "tune": "zerolatency",
            "maxrate": f"{s.bitrate_kbps}k",
            "bufsize": f"{s.bitrate_kbps}k",
            "x264-params": f"keyint={s.gop}:min-keyint={s.gop}:scenecut=0",
        }
        audio = container.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "mono"
        audio.bit_rate = s.audio_kbps * 1000
    except Exception as exc:  # the parent gets the sentence
        say(b"E", f"the encoder could not start: {exc}".encode())
        return 2
    say(b"R")

    sound = AudioTimeline(AUDIO_RATE, AUDIO_FRAME)
    last_pts = -1
    out_of_order = 0
    encode_ms: list[float] = []
    frames = 0
    stats_at = time.monotonic()

    def mux(packets: Any, keyframe_time: float) -> None:
        sink.seconds = keyframe_time
        for packet in packets:
            container.mux_one(packet)

    def audio_until(seconds: float) -> None:
        for first_sample, chunk in sound.frames_until(seconds):
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = AUDIO_RATE
            frame.pts = first_sample
            mux(audio.encode(frame), seconds)

    while True:
        header = _read_exact(stdin, IN_HEADER.size)
        if header is None:
            break
        kind, length, seconds = IN_HEADER.unpack(header)
        payload = _read_exact(stdin, length) if length else b""
        if length and payload is None:
            break
        if kind == b"Q":
            break
        if kind == b"A":
            sound.add(seconds, payload or b"")
            continue
        if kind != b"F":
            continue
        t0 = time.perf_counter()
        yuv = cv2.cvtColor(frame_view, cv2.COLOR_BGRA2YUV_I420)
        say(b"K", seconds=seconds)  # shared memory is free: the parent may copy the next frame
        pts = round(seconds * rate)
        if pts <= last_pts:  # a frame for a slot already encoded: never shift the timeline for it
            out_of_order += 1
            continue
        if last_pts < 0:
            sound.start_at(seconds)  # the sound track starts with the first picture
        last_pts = pts
        vframe = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        vframe.pts = pts
        audio_until(seconds - AUDIO_LAG_S)
        mux(video.encode(vframe), seconds)
        out.flush()
        frames += 1
        encode_ms.append((time.perf_counter() - t0) * 1000)
        now = time.monotonic()
        if now - stats_at >= 1.0:
            ordered = sorted(encode_ms)
            stats = {
                "frames": frames,
                "encode_ms_p50": ordered[len(ordered) // 2],
                "encode_ms_p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
                "bytes": sink.bytes,
                "last_pts": last_pts,
                "out_of_order": out_of_order,
                "audio_resyncs": sound.resyncs,
                "audio_dropped_samples": sound.dropped_samples,
            }
            say(b"S", json.dumps(stats).encode())
            encode_ms.clear()
            stats_at = now
    with contextlib.suppress(Exception):
        end_s = (last_pts + 1) / float(rate) if last_pts >= 0 else 0.0
        audio_until(end_s)  # the sound up to the end of the last frame
        mux(video.encode(None), end_s)
        mux(audio.encode(None), end_s)
        container.close()
        out.flush()
    del frame_view
    shm.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig(level=logging.WARNING)
    sys.exit(_child_main(sys.argv[1], sys.argv[2]))
