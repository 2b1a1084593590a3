"""A controllable test-pattern sender (H.264 in MPEG-TS over TCP) for failover tests and benchmarks.

    python -m booth.bench.sender --url 'tcp://127.0.0.1:9000?listen=1' --size 640x360 --fps 30

then type commands: freeze, unfreeze, still-noise, moving, jitter 0.4, rate 10, resize 1280x720,
garbage [SECONDS], quit. Closing stdin also stops it. The encoding lives in
`booth.bench.pattern_sender`; this module is the command line and `SenderProcess`, which
starts one as a child process and drives it by PID (kill, SIGSTOP/SIGCONT) and by its stdin.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import time

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 15.0


class SenderProcess:
    """One sender child process on 127.0.0.1, listening for the booth's decoder to connect."""

    def __init__(self, port: int = 0, size: str = "640x360", fps: float = 30.0, crf: int | None = None) -> None:
        self.port = port
        self.crf = crf
        self.size = size
        self.fps = fps
        self.proc: subprocess.Popen[bytes] | None = None
        self.lines: list[str] = []
        self._buffer = b""
        self.stopped = False  # SIGSTOPped by us

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> SenderProcess:
        """Start it and wait until it listens; with port 0 the system picks one (then kept on restart)."""
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "booth.bench.sender",
                "--url", f"tcp://127.0.0.1:{self.port}?listen=1", "--size", self.size, "--fps", f"{self.fps:g}",
                *(["--crf", str(self.crf)] if self.crf is not None else []),
            ],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, bufsize=0,
        )  # fmt: skip
        self.stopped = False
        self.lines.clear()
        line = self.wait_for("listening", READY_TIMEOUT_S)
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def send(self, command: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")

    def command(self, command: str, timeout: float = 5.0) -> None:
        """Send a command and wait for its acknowledgement (it applies from the next frame)."""
        self.send(command)
        self.wait_for(f"ok {command}", timeout)

    def wait_for(self, prefix: str, timeout: float) -> str:
        """The first new output line starting with `prefix`; raises TimeoutError after `timeout` s."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            while b"\n" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\n", 1)
                line = raw.decode(errors="replace").strip()
                self.lines.append(line)
                if line.startswith("error"):
                    raise ValueError(f"sender: {line}")
                if line.startswith(prefix):
                    return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"sender did not say {prefix!r} within {timeout:g} s (said {self.lines[-5:]})")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    raise RuntimeError(f"sender exited (code {self.proc.poll()}) before saying {prefix!r}")
                self._buffer += chunk

    def kill(self) -> None:
        """Hard loss: SIGKILL by PID (the kernel closes its socket)."""
        if self.proc is not None and self.proc.poll() is None:
            if self.stopped:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        self.reap()

    def pause(self) -> None:
        """Stall with the connection open: SIGSTOP by PID."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.stopped = False

    def reap(self) -> None:
        proc = self.proc
        if proc is None:
            return
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            log.error("sender pid %d did not exit after SIGKILL", proc.pid)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        self.proc = None
        self.stopped = False

    def __enter__(self) -> SenderProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.kill()


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booth.bench.sender", description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="tcp://127.0.0.1:9000?listen=1", help="tcp://HOST:PORT[?listen=1]")
    parser.add_argument("--size", default="640x360", help="picture size WxH (default 640x360)")
    parser.add_argument("--fps", type=float, default=30.0, help="frame rate (default 30)")
    parser.add_argument("--seed", type=int, default=None, help="random seed for jitter and garbage")
    parser.add_argument(
        "--crf", type=int, default=None, help="constant quality (x264 CRF) instead of a phone-like bitrate"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="sender: %(levelname)s %(message)s")
    logging.getLogger("libav").setLevel(logging.ERROR)

    from booth.bench.pattern_sender import PatternSender

    def emit(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    sender = PatternSender(args.url, parse_size(args.size), args.fps, emit, seed=args.seed, crf=args.crf)
    with contextlib.suppress(KeyboardInterrupt):
        sender.run(sys.stdin.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
