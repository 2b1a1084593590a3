"""Background load for benchmarks: a child process that keeps one core busy for a bounded time.

Started and stopped by its PID; it also ends by itself after `seconds`, so a benchmark that dies
cannot leave a core spinning.
"""

from __future__ import annotations

import subprocess
import sys

_BUSY = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


class BusyLoop:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> BusyLoop:
        self.proc = subprocess.Popen([sys.executable, "-c", _BUSY.format(seconds=float(self.seconds))],
                                     stdin=subprocess.DEVNULL)  # fmt: skip
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)

    def __enter__(self) -> BusyLoop:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
