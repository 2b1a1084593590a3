"""Network streams decoded by an ffmpeg process: RTMP, RTSP, HTTP (MJPEG/TS), MPEG-TS over TCP/UDP, SRT.

Why a subprocess and not OpenCV/PyAV in-process: neither wheel has SRT (Debian's
ffmpeg does), a read on a dead stream can block for 30–60 s inside the library, and
a process can always be killed. ffmpeg also scales every picture to the program
size, so a phone that changes resolution mid-stream just keeps working.

A URL with a secret in it (a password, an SRT passphrase, an RTMP stream key) never goes on the
decoder's command line: ffmpeg reads it from an inherited pipe as a one-entry concat script
(`booth.devices.secret_pipe`); its command line says only `/dev/fd/N`.

No backlog: ffmpeg reads the network as fast as it can decode (`nobuffer`, `low_delay`, a flush per
picture), so the only place pictures can pile up is the pipe to us — when Booth falls behind,
ffmpeg blocks on a full pipe and stops reading the socket, and the delay grows. So `read` keeps
reading while the pipe is full after a picture (ffmpeg is waiting on us: a newer picture is
already decoded) and returns the newest, counting the skipped ones in `dropped`. The pipe is made
as large as the system allows (1 MB by default), so there are few reads per picture.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import select
import shutil
import subprocess
import tempfile
import termios
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from booth.core.frames import Pixels
from booth.core.redact import redact_text
from booth.devices.secret_pipe import SecretPipe, concat_script, has_secret
from booth.devices.sources import SourceError

log = logging.getLogger(__name__)

FIRST_FRAME_TIMEOUT_S = 6.0
READ_TIMEOUT_S = 2.0
SRT_LISTENER_TIMEOUT_S = 3600.0  # a listener waits for the phone to call
PIPE_MAX_SIZE = "/proc/sys/fs/pipe-max-size"


def ffmpeg_path() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        raise SourceError("ffmpeg is not installed; network sources need it (apt-get install ffmpeg).")
    return path


# What a concat script may open: the protocols of the sources Booth takes, and the pipe it is read from.
CONCAT_PROTOCOLS = "file,pipe,fd,srt,udp,tcp,rtp,rtsp,rtmp,rtmps,tls,http,https,crypto,httpproxy"


def protocol_options(url: str) -> dict[str, str]:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "rtsp":
        return {"rtsp_transport": "tcp", "timeout": "5000000"}
    if scheme in ("tcp", "http", "https", "rtmp", "rtmps"):
        return {"rw_timeout": "5000000"}
    return {}


def decoder_command(url: str, size: tuple[int, int], script: str | None = None) -> list[str]:
    """The decoder for `url`; with `script` (a path ffmpeg reads a concat script from) the URL is not
    on the command line at all: the script holds it and its options."""
    w, h = size
    low_latency = ["-fflags", "nobuffer", "-flags", "low_delay", "-probesize", "65536", "-analyzeduration", "500000"]
    if script is None:
        source = []
        for key, value in protocol_options(url).items():
            source += [f"-{key}", value]
        source += ["-i", url]
    else:
        source = ["-f", "concat", "-safe", "0", "-protocol_whitelist", CONCAT_PROTOCOLS, "-i", script]
    scale = (
        f"scale={w}:{h}:force_original_aspect_ratio=decrease,"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,format=bgr24"
    )
    return [
        ffmpeg_path(), "-hide_banner", "-nostdin", "-loglevel", "error",
        *low_latency, *source,
        # Passthrough keeps every decoded frame; the input's time base (not 1/fps) keeps two
        # frames that arrive closer than a frame interval (a jittery phone) from colliding
        # on one output timestamp, which the rawvideo muxer rejects, dropping the frame.
        "-an", "-sn", "-dn", "-vf", scale, "-fps_mode", "passthrough", "-enc_time_base", "-1",
        # Without a flush per frame the end of each picture waits in ffmpeg's output buffer until
        # the next one is written; and the raw "encoder" runs frame threads, which hold one picture
        # back each: each of them a whole frame of delay on every picture (measured: 108 → 39 ms at 720p).
        "-flush_packets", "1", "-threads", "1",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1",
    ]  # fmt: skip


class FfmpegSource:
    live = True

    def __init__(self, url: str, size: tuple[int, int], label: str) -> None:
        self.label = label
        self.nominal_fps = 30.0
        self._url = url
        self._size = size
        self._frame_bytes = size[0] * size[1] * 3
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self._got_first = False
        self._stderr_at_last_frame = 0  # what ffmpeg said before the last good picture is old news
        self._pipe_bytes = 65536
        self.dropped = 0  # pictures skipped because a newer one was already waiting
        is_listener = "mode=listener" in url or "listen=1" in url
        self._first_timeout = SRT_LISTENER_TIMEOUT_S if is_listener else FIRST_FRAME_TIMEOUT_S

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def open(self) -> None:
        self.close()
        # stderr goes to a file so no extra thread is needed to drain it.
        self._stderr = tempfile.TemporaryFile(prefix="booth-ffmpeg-")  # noqa: SIM115 — closed in close()
        pipe = None
        if has_secret(self._url):
            # Probing limits for the inner input; no `nobuffer` there: it would drop what probing read.
            options = {**protocol_options(self._url), "probesize": "65536", "analyzeduration": "500000"}
            pipe = SecretPipe(concat_script(self._url, options))
        try:
            self._proc = subprocess.Popen(
                decoder_command(self._url, self._size, pipe.path if pipe is not None else None),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                bufsize=0,
                pass_fds=(pipe.fd,) if pipe is not None else (),
            )
        finally:
            if pipe is not None:
                pipe.close()  # the child holds its own copy of the read end
        self._got_first = False
        self._stderr_at_last_frame = 0
        assert self._proc.stdout is not None
        self._pipe_bytes = _enlarge_pipe(self._proc.stdout.fileno())

    def read(self) -> Pixels:
        """The newest whole picture ffmpeg has for us (waiting for the next one if none is there)."""
        frame = self._read_one()
        while self._waiting_bytes() >= min(self._frame_bytes, self._pipe_bytes):
            frame = self._read_one()  # ffmpeg is blocked on a full pipe: this one is already old
            self.dropped += 1
        return frame

    def _waiting_bytes(self) -> int:
        proc = self._proc
        if proc is None or proc.stdout is None:
            return 0
        try:
            return int.from_bytes(fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, b"\0\0\0\0"), "little")
        except OSError:
            return 0

    def _read_one(self) -> Pixels:
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise SourceError(f"{self.label}: not open")
        frame = np.empty((self._size[1], self._size[0], 3), np.uint8)
        view = memoryview(frame).cast("B")
        got = 0
        timeout = READ_TIMEOUT_S if self._got_first else self._first_timeout
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        while got < self._frame_bytes:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, remaining))
            if not ready:
                what = "no picture" if not self._got_first else "no new picture"
                raise SourceError(f"{self.label}: {what} for {timeout:.1f} s")
            n = os.readv(fd, [view[got:]])
            if n == 0:
                raise SourceError(f"{self.label}: {self._ended_reason()}")
            got += n
        self._got_first = True
        if self._stderr is not None:
            self._stderr_at_last_frame = os.fstat(self._stderr.fileno()).st_size
        return frame

    def _ended_reason(self) -> str:
        proc = self._proc
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1.0)
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(self._stderr_at_last_frame)
            lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln.strip()]
            tail = lines[-1] if lines else ""
        # ffmpeg starts its lines with the URL; the label already names the source.
        text = re.sub(r"^/dev/fd/\d+: ", "", tail.removeprefix(f"{self._url}: ")) or "the stream ended"
        return redact_text(text)

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()  # a hung decoder is killed, never waited on politely
            try:
                proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                log.warning("ffmpeg decoder pid %d did not exit after kill", proc.pid)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


def _enlarge_pipe(fd: int) -> int:
    """Make a pipe as large as the system allows (Linux F_SETPIPE_SZ); its size in bytes."""
    try:
        wanted = int(Path(PIPE_MAX_SIZE).read_text())
        return int(fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(wanted, 16 << 20)))
    except (OSError, ValueError, AttributeError):
        return 65536
