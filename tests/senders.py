"""Real stream senders on 127.0.0.1 for tests: ffmpeg processes we start and stop by PID."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def testsrc(size: str = "320x240", rate: int = 30) -> list[str]:
    return ["-re", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]


H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p"]


@contextmanager
def ffmpeg_sender(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run `ffmpeg <args>` until the block ends; the process is killed by its PID."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is installed by the test command (packaging/bootstrap.py test)"
    proc = subprocess.Popen(
        [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)  # in case a test stopped it
            proc.kill()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def mpegts_tcp_listener(port: int, size: str = "320x240") -> list[str]:
    return [*testsrc(size), *H264, "-f", "mpegts", f"tcp://127.0.0.1:{port}?listen=1"]


def mjpeg_http_listener(port: int, size: str = "320x240") -> list[str]:
    return [*testsrc(size), "-q:v", "5", "-f", "mpjpeg", "-listen", "1", f"http://127.0.0.1:{port}/feed.mjpg"]


def srt_listener(port: int, size: str = "320x240") -> list[str]:
    return [*testsrc(size), *H264, "-f", "mpegts", f"srt://127.0.0.1:{port}?mode=listener"]


def mpegts_udp_sender(port: int, size: str = "320x240") -> list[str]:
    return [*testsrc(size), *H264, "-f", "mpegts", f"udp://127.0.0.1:{port}?pkt_size=1316"]


def rtmp_server(port: int, size: str = "320x240") -> list[str]:
    """ffmpeg as a one-client RTMP server that Booth pulls from (rtmp://127.0.0.1:PORT/live/phone)."""
    return [*testsrc(size), *H264, "-f", "flv", "-listen", "1", f"rtmp://127.0.0.1:{port}/live/phone"]
