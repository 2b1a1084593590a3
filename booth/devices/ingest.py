"""Push the encoded program (MPEG-TS on stdin) to one ingest with the system ffmpeg, no re-encode.

Why the ffmpeg CLI in a subprocess: the network side is the part that hangs (an RTMP peer that
accepts and never answers), and only the Debian ffmpeg has SRT. A process can be killed;
a blocked call inside ours could not. Its health is judged from outside: the byte count it
reports every half second (`-progress`) and whether it exited.

The stream key (RTMP's play path, SRT's passphrase and stream id) never appears on its command line:
it reaches ffmpeg as a preset read from an inherited pipe (`booth.devices.secret_pipe`).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from typing import IO

from booth.core.output import IngestTarget
from booth.devices.secret_pipe import SecretPipe, preset_text, split_output_secrets

log = logging.getLogger(__name__)

RW_TIMEOUT_US = 4_000_000  # a network write that blocks this long ends the pusher


class FfmpegMissing(RuntimeError):
    pass


def ffmpeg_path() -> str:
    path = shutil.which("ffmpeg")
    if not path:
        raise FfmpegMissing("ffmpeg is not installed: streaming needs it (apt install ffmpeg)")
    return path


def pusher_command(target: IngestTarget, ffmpeg: str, preset: str | None = None) -> list[str]:
    """The ffmpeg command for `target`; with `preset` (a path ffmpeg reads the secrets from), the URL
    on the command line is the one without its secrets."""
    url, secrets = split_output_secrets(target.url) if preset is not None else (target.url, {})
    fpre = ["-fpre", preset] if secrets and preset is not None else []
    if target.scheme == "srt":
        sep = "&" if "?" in url else "?"
        out = ["-f", "mpegts", *fpre, f"{url}{sep}pkt_size=1316" if "pkt_size" not in url else url]
    else:
        out = ["-flvflags", "no_duration_filesize", "-rw_timeout", str(RW_TIMEOUT_US), "-f", "flv", *fpre, url]
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats",
        "-progress", "pipe:2", "-stats_period", "0.25",
        "-probesize", "256000", "-analyzeduration", "1000000",
        "-f", "mpegts", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
        *out,
    ]  # fmt: skip


class FfmpegPusher:
    """One ffmpeg process copying TS from stdin to the ingest. Blocking calls; threads are the caller's."""

    def __init__(self, target: IngestTarget) -> None:
        self.target = target
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        _url, secrets = split_output_secrets(self.target.url)
        pipe = SecretPipe(preset_text(secrets)) if secrets else None
        try:
            cmd = pusher_command(self.target, ffmpeg_path(), pipe.path if pipe is not None else None)
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, bufsize=0,
                pass_fds=(pipe.fd,) if pipe is not None else (),
            )
        finally:
            if pipe is not None:
                pipe.close()  # the child has its own copy of the read end
        log.info("pushing to the %s ingest %s (ffmpeg pid %d)", self.target.name, self.target.label, self._proc.pid)

    def write(self, data: bytes) -> None:
        """Blocks while the pipe is full; raises OSError once ffmpeg is gone."""
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(data)
        except ValueError as exc:  # stdin closed by close()
            raise BrokenPipeError(str(exc)) from None

    @property
    def stderr(self) -> IO[bytes]:
        assert self._proc is not None and self._proc.stderr is not None
        return self._proc.stderr

    def exit_code(self) -> int | None:
        return self._proc.poll() if self._proc else None

    def close(self, timeout: float = 2.0) -> int | None:
        """Kill it (the ingest connection just ends) and reap it."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        code = None
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.error("ffmpeg pusher %d did not exit after kill", proc.pid)
        for stream in (proc.stdin, proc.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.close()  # type: ignore[union-attr]
        return code
