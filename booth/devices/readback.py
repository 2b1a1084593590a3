"""Reads back what viewers get — HLS, FLV over HTTP, or an RTMP pull — and reports the time codes in it.

It plays the stream the way a viewer's player does: the first picture is shown when it arrives,
each later one at its own timestamp after that, and a picture that arrives after its moment
stalls the playback (a re-buffer) until it is there. For each picture it reads the program's time
code (the slot it was composed for) and the sender's stamp, if the program shows a stamping
sender (booth.core.timecode). Only keyframes are decoded (one every keyframe interval): enough to
follow the delay continuously, at a fraction of a decoder's cost.

It runs in its own process (`python -m booth.devices.readback`), for the same reasons as the
encoder: PyAV holds the GIL while it opens network input, and a process can be killed. The URL
names the stream key, so it goes to the child on stdin, never on its command line. The child
writes one JSON object per line on stdout:

    {"kind": "open"}                                   playing
    {"kind": "frame", "arrived": t, "shown": t, "slot": n|null, "sender_ms": n|null}   monotonic seconds
    {"kind": "error", "message": "…"}                  it stopped; the parent restarts it
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO, Any

log = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 8.0
READ_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Report:
    kind: str  # "open" | "frame" | "error" | "ended"
    arrived: float = 0.0  # monotonic: when the picture's data was in
    shown: float = 0.0  # monotonic: when a player shows it
    slot: int | None = None  # the program time code (mod 2**32)
    sender_ms: int | None = None  # the sender's stamp, wall ms (mod 2**32)
    message: str = ""


class ReadbackProcess:
    """The parent's handle on one read-back child. `read` may block up to its timeout: call it from a worker."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = b""

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        self._stderr = tempfile.TemporaryFile(prefix="booth-readback-")  # noqa: SIM115 — closed in stop()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "booth.devices.readback"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, bufsize=0,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )  # fmt: skip
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"url": self._url}).encode() + b"\n")

    def read(self, timeout: float) -> Report | None:
        """The next report, None if none came within `timeout`; an ``ended`` report when the child is gone."""
        proc = self._proc
        if proc is None or proc.stdout is None:
            return Report("ended", message="not running")
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([proc.stdout.fileno()], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return Report("ended", message=self._last_words())
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            data = json.loads(line)
        except ValueError:
            return Report("error", message=f"the read-back said something unreadable: {line[:80]!r}")
        return Report(
            str(data.get("kind", "")), float(data.get("arrived", 0.0)), float(data.get("shown", 0.0)),
            data.get("slot"), data.get("sender_ms"), str(data.get("message", "")),
        )  # fmt: skip

    def _last_words(self) -> str:
        code = None
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._proc.wait(1.0)
        tail = ""
        if self._stderr is not None:
            with contextlib.suppress(OSError, ValueError):
                self._stderr.seek(0)
                lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln.strip()]
                tail = lines[-1][:200] if lines else ""
        return f"the read-back process ended (exit code {code}){': ' + tail if tail else ''}"

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(5.0)
            except subprocess.TimeoutExpired:
                log.error("read-back process %d did not exit after SIGKILL", proc.pid)
            for stream in (proc.stdin, proc.stdout):
                with contextlib.suppress(OSError, ValueError):
                    stream.close()  # type: ignore[union-attr]
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


# -- the child ---------------------------------------------------------------------------------


def _input_options(url: str) -> dict[str, str]:
    options = {"rw_timeout": str(int(READ_TIMEOUT_S * 1_000_000))}
    if url.startswith(("rtmp://", "rtmps://")):
        # A live pull: no probing for seconds (the anchors measured 4.7 s to open RTMP by default).
        options.update({"rtmp_live": "live", "fflags": "nobuffer", "probesize": "65536", "analyzeduration": "500000"})
    return options


def _child_main() -> int:  # pragma: no cover - runs in the child
    import av
    import numpy as np

    from booth.core import timecode

    out = sys.stdout

    def say(kind: str, **fields: Any) -> None:
        out.write(json.dumps({"kind": kind, **fields}) + "\n")
        out.flush()

    try:
        url = json.loads(sys.stdin.readline())["url"]
    except (ValueError, KeyError, TypeError):
        say("error", message="no URL given")
        return 2
    try:
        container = av.open(url, options=_input_options(url), timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S))
        stream = container.streams.video[0]
    except (av.FFmpegError, OSError, IndexError) as exc:
        say("error", message=f"could not open the stream: {exc.__class__.__name__}: {exc}")
        return 1
    stream.codec_context.skip_frame = "NONKEY"
    say("open")
    base: float | None = None  # monotonic time at which the player shows timestamp 0
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.time_base is None:
                continue
            arrived = time.monotonic()
            for frame in packet.decode():
                if frame.pts is None or frame.time_base is None:
                    continue
                t = float(frame.pts * frame.time_base)
                if base is None or base + t < arrived:
                    base = arrived - t  # the first picture, or a late one: the player waits for it
                plane = frame.planes[0]
                luma = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
                say("frame", arrived=arrived, shown=base + t, slot=timecode.read(luma, timecode.Band.BOTTOM),
                    sender_ms=timecode.read(luma, timecode.Band.TOP))  # fmt: skip
    except (av.FFmpegError, OSError) as exc:
        say("error", message=f"the stream stopped: {exc.__class__.__name__}: {exc}")
        return 1
    say("error", message="the stream ended")
    return 0


if __name__ == "__main__":  # pragma: no cover
    logging.basicConfig(level=logging.WARNING)
    sys.exit(_child_main())
