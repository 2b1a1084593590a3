"""A controllable live sender for tests and benchmarks: a moving test pattern as H.264 in MPEG-TS over TCP.

It stands in for a phone pushing its camera to the booth, and misbehaves on command, so
failover can be proved against real streams instead of scripted observations. It owns its
TCP socket (PyAV writes the muxed stream through a Python file object), which is what lets
`garbage` put random bytes on the very connection the booth is decoding.

Run it in its own process (`python -m booth.bench.sender`): PyAV's encoder and muxer hold
the GIL for long stretches. Commands, one per line on the control file descriptor (stdin):

- ``freeze`` / ``unfreeze`` — keep sending the same picture (frames still flow)
- ``still-noise`` / ``moving`` — a still scene with sensor-like noise in every frame
- ``jitter 0.4`` — each frame interval varies by ±40 %; ``jitter 0`` turns it off
- ``rate 10`` — send at another frame rate (a trickle); ``rate 30`` to restore
- ``resize 1280x720`` — change the picture size mid-stream (new SPS at a keyframe)
- ``garbage [SECONDS]`` — random bytes instead of video for SECONDS (default 1), then video again
- ``quit`` — stop (so does the control descriptor closing)

Events go to `emit` as one line each: ``listening HOST:PORT``, ``connected``,
``disconnected REASON``, ``ok COMMAND`` or ``error MESSAGE``.

Every picture carries the sender's wall clock (ms) as a time code in a thin band at its top edge
(booth.core.timecode), stamped the moment the picture is made, so Booth — and anything reading
Booth's program or recording — can tell how long ago the sender took it. A frozen picture keeps
its old stamp, as a frozen phone app re-sends the same bytes.
"""

from __future__ import annotations

import contextlib
import fractions
import logging
import os
import random
import select
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import av
import cv2
import numpy as np

from booth.core import timecode
from booth.core.frames import Pixels

log = logging.getLogger(__name__)

TIME_BASE = fractions.Fraction(1, 1000)  # pts in milliseconds of the sender's clock
BITS_PER_PIXEL = 0.1
NOISE_SIGMA = 3.0  # sensor noise of a phone camera in a dim room: a few levels per pixel
NOISE_OFFSET = 12  # noise is added as mean-12 bytes to a scene lowered by 12 (no negative uint8)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    listen: bool


def parse_endpoint(url: str) -> Endpoint:
    """`tcp://127.0.0.1:9000?listen=1` (wait for the booth to connect) or `tcp://host:port` (call it)."""
    parts = urlsplit(url)
    if parts.scheme != "tcp" or parts.hostname is None or parts.port is None:
        raise ValueError(f"expected tcp://HOST:PORT[?listen=1], got {url!r}")
    listen = parse_qs(parts.query).get("listen", ["0"])[0] in ("1", "true")
    return Endpoint(parts.hostname, parts.port, listen)


class _SocketFile:
    """The file object PyAV muxes into: every write goes straight to the TCP connection."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn

    def write(self, data: bytes) -> int:
        self._conn.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass


class _Disconnected(Exception):
    pass


class PatternSender:
    def __init__(
        self,
        url: str,
        size: tuple[int, int] = (640, 360),
        fps: float = 30.0,
        emit: Callable[[str], None] = lambda line: None,
        seed: int | None = None,
        crf: int | None = None,
    ) -> None:
        self.endpoint = parse_endpoint(url)
        self.size = size
        self.fps = fps
        self.jitter = 0.0
        self.frozen = False
        self.still_noise = False
        self._garbage_until = 0.0
        self._emit = emit
        self._rng = random.Random(seed)
        self._frame_no = 0
        self._last_picture: Pixels | None = None
        self._scene: Pixels | None = None
        self._stopping = False
        self._pending = b""
        self._control_fd: int | None = None
        self._new_encoder = True
        self.crf = crf  # constant quality (a software encoder like OBS's x264) instead of a bitrate

    # -- commands ---------------------------------------------------------------------------

    def command(self, line: str) -> None:
        words = line.split()
        if not words:
            return
        name, args = words[0].lower(), words[1:]
        try:
            self._apply(name, args)
        except (ValueError, IndexError) as exc:
            self._emit(f"error {line.strip()}: {exc}")
            return
        self._emit(f"ok {line.strip()}")

    def _apply(self, name: str, args: list[str]) -> None:
        if name == "freeze":
            self.frozen = True
        elif name == "unfreeze":
            self.frozen = False
        elif name == "still-noise":
            self.still_noise, self._scene = True, None
        elif name == "moving":
            self.still_noise = False
        elif name == "jitter":
            value = float(args[0])
            if not 0 <= value < 1:
                raise ValueError("jitter is a fraction of the frame interval, 0 ≤ j < 1")
            self.jitter = value
        elif name == "rate":
            value = float(args[0])
            if not 0.5 <= value <= 120:
                raise ValueError("rate must be between 0.5 and 120 fps")
            self.fps = value
        elif name == "resize":
            w_text, _, h_text = args[0].lower().partition("x")
            w, h = int(w_text), int(h_text)
            if not (64 <= w <= 3840 and 64 <= h <= 2160) or w % 2 or h % 2:
                raise ValueError("size must be even, between 64x64 and 3840x2160")
            self.size, self._scene, self._new_encoder = (w, h), None, True
        elif name == "garbage":
            seconds = float(args[0]) if args else 1.0
            self._garbage_until = time.monotonic() + max(0.0, seconds)
        elif name == "quit":
            self._stopping = True
        else:
            raise ValueError("unknown command")

    def _poll_control(self, timeout: float) -> None:
        """Wait up to `timeout` s for control lines and apply them (this is also the frame pacing)."""
        fd = self._control_fd
        if fd is None:
            if timeout > 0:
                time.sleep(timeout)
            return
        deadline = time.monotonic() + timeout
        while not self._stopping:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return
            chunk = os.read(fd, 4096)
            if not chunk:
                self._emit("disconnected control closed")
                self._stopping = True
                return
            self._pending += chunk
            while b"\n" in self._pending:
                line, self._pending = self._pending.split(b"\n", 1)
                self.command(line.decode(errors="replace"))

    # -- pictures ---------------------------------------------------------------------------

    def _pattern(self, n: int) -> Pixels:
        """A gradient, a box sweeping across once a second and the frame number: every frame differs."""
        w, h = self.size
        frame = np.empty((h, w, 3), np.uint8)
        frame[:] = np.linspace(30, 200, w, dtype=np.uint8)[None, :, None]
        period = max(1, round(self.fps))
        x = (n % period) * (w - w // 8) // period
        cv2.rectangle(frame, (x, h // 4), (x + w // 8, h * 3 // 4), (40, 200, 255), -1)
        scale = h / 360
        cv2.putText(
            frame, f"#{n:06d}", (round(w * 0.05), round(h * 0.15)),
            cv2.FONT_HERSHEY_DUPLEX, 1.0 * scale, (255, 255, 255), max(1, round(2 * scale)), cv2.LINE_AA,
        )  # fmt: skip
        return frame

    def _noisy_still(self) -> Pixels:
        """A still scene (nothing moves) seen by a real sensor: every pixel wobbles a few levels."""
        scene = self._scene
        if scene is None or scene.shape[:2] != (self.size[1], self.size[0]):
            scene = self._pattern(0)
            scene = np.asarray(cv2.subtract(scene, np.full_like(scene, NOISE_OFFSET)), np.uint8)
            self._scene = scene
        noise = np.empty_like(scene)
        cv2.randn(noise, np.array([NOISE_OFFSET] * 3, np.float64), np.array([NOISE_SIGMA] * 3, np.float64))
        return np.asarray(cv2.add(scene, noise), np.uint8)

    def _picture(self) -> Pixels:
        if self.frozen and self._last_picture is not None and self._last_picture.shape[:2] == self.size[::-1]:
            return self._last_picture
        picture = self._noisy_still() if self.still_noise else self._pattern(self._frame_no)
        timecode.draw(picture, round(time.time() * 1000), timecode.Band.TOP)
        self._last_picture = picture
        return picture

    # -- the stream -------------------------------------------------------------------------

    def run(self, control_fd: int | None = None) -> None:
        """Serve until `quit` or the control descriptor closes. Reconnects/accepts again after a drop."""
        self._control_fd = control_fd
        ep = self.endpoint
        server: socket.socket | None = None
        if ep.listen:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind((ep.host, ep.port))
            server.listen(4)
            host, port = server.getsockname()[:2]
            self._emit(f"listening {host}:{port}")
        try:
            while not self._stopping:
                conn = self._accept(server) if server is not None else self._connect()
                if conn is None:
                    continue
                self._emit("connected")
                try:
                    self._stream(conn)
                except _Disconnected as exc:
                    self._emit(f"disconnected {exc}")
                finally:
                    with contextlib.suppress(OSError):
                        conn.close()
        finally:
            if server is not None:
                server.close()

    def _accept(self, server: socket.socket) -> socket.socket | None:
        ready = self._wait_readable(server, 0.1)
        if not ready:
            return None
        conn, _addr = server.accept()
        return self._tune(conn)

    def _connect(self) -> socket.socket | None:
        try:
            conn = socket.create_connection((self.endpoint.host, self.endpoint.port), timeout=1.0)
        except OSError:
            self._poll_control(0.5)
            return None
        conn.settimeout(None)
        return self._tune(conn)

    @staticmethod
    def _tune(conn: socket.socket) -> socket.socket:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _wait_readable(self, sock: socket.socket, timeout: float) -> bool:
        fds = [sock.fileno()] + ([self._control_fd] if self._control_fd is not None else [])
        ready, _, _ = select.select(fds, [], [], timeout)
        if self._control_fd in ready:
            self._poll_control(0.0)
        return sock.fileno() in ready

    def _stream(self, conn: socket.socket) -> None:
        # A fresh container per connection: the booth's decoder gets PAT/PMT and a keyframe first.
        container = av.open(
            _SocketFile(conn), "w", format="mpegts", buffer_size=4096,
            # Each picture's PES carries its length, so a receiver's demuxer hands it on as soon as
            # it is complete instead of when the next one starts (a frame interval later).
            container_options={"flush_packets": "1", "omit_video_pes_length": "0"},
        )
        stream = container.add_stream("libx264", rate=round(self.fps))
        stream.width, stream.height = self.size
        stream.time_base = TIME_BASE
        self._new_encoder = True
        encoder: av.VideoCodecContext | None = None
        t0 = time.monotonic()
        last_pts = -1
        next_due = t0
        garbage_was_on = False
        try:
            while not self._stopping:
                now = time.monotonic()
                if now < self._garbage_until:
                    garbage_was_on = True
                    self._send_raw(conn, self._rng.randbytes(16 * 1024))
                else:
                    if garbage_was_on:
                        garbage_was_on, self._new_encoder = False, True  # resume on a keyframe
                    if self._new_encoder or encoder is None:
                        encoder = self._open_encoder()
                        self._new_encoder = False
                    pts = max(last_pts + 1, round((now - t0) * 1000))
                    last_pts = pts
                    # OpenCV's conversion is ~1 ms at 720p, PyAV's reformat several times that.
                    yuv = cv2.cvtColor(self._picture(), cv2.COLOR_BGR2YUV_I420)
                    frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                    frame.pts, frame.time_base = pts, TIME_BASE
                    self._mux(container, stream, encoder.encode(frame))
                self._frame_no += 1
                interval = 1.0 / self.fps
                if self.jitter:
                    interval *= 1.0 + self._rng.uniform(-self.jitter, self.jitter)
                next_due += interval
                now = time.monotonic()
                if now - next_due > interval:
                    next_due = now  # fell behind (stopped, busy): carry on from now, never burst
                self._poll_control(max(0.0, next_due - now))
        finally:
            with contextlib.suppress(Exception):
                container.close()

    def _open_encoder(self) -> av.VideoCodecContext:
        encoder = av.CodecContext.create("libx264", "w")
        assert isinstance(encoder, av.VideoCodecContext)
        encoder.width, encoder.height = self.size
        encoder.pix_fmt = "yuv420p"
        encoder.time_base = TIME_BASE
        encoder.framerate = fractions.Fraction(round(self.fps), 1)
        encoder.gop_size = max(1, round(self.fps))  # a keyframe every second, like a phone app
        if self.crf is not None:
            encoder.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": str(self.crf)}
            encoder.open()
            return encoder
        # Rate control like a phone app's hardware encoder: a target bitrate with a one-second
        # buffer (about 0.7 Mbit/s at 640x360, 2.8 Mbit/s at 720p), not constant quality.
        kbps = round(self.size[0] * self.size[1] * self.fps * BITS_PER_PIXEL / 1000)
        encoder.bit_rate = kbps * 1000
        encoder.options = {
            "preset": "ultrafast", "tune": "zerolatency", "maxrate": f"{kbps}k", "bufsize": f"{kbps}k",
        }  # fmt: skip
        encoder.open()
        return encoder

    def _mux(
        self, container: av.container.OutputContainer, stream: av.VideoStream, packets: list[av.Packet[Any]]
    ) -> None:
        for packet in packets:
            packet.stream = stream
            try:
                container.mux(packet)
            except (OSError, av.FFmpegError) as exc:
                raise _Disconnected(f"{exc.__class__.__name__}: {exc}") from None

    @staticmethod
    def _send_raw(conn: socket.socket, data: bytes) -> None:
        try:
            conn.sendall(data)
        except OSError as exc:
            raise _Disconnected(f"{exc.__class__.__name__}: {exc}") from None
