"""An ordered set of parts: started in order, stopped in reverse, whatever fails on the way.

A part is anything with `start()` and `stop()`; the composition root adds them in the order the
data flows (sources before the switcher before the compositor before the outputs), so stopping
in reverse lets each consumer finish before what feeds it goes away — the recording ends on the
last frame, the session log closes last.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Part:
    name: str
    start: Callable[[], object]
    stop: Callable[[], object]
    problems: Callable[[], list[str]] = list  # standing sentences for the host (a failing worker…)


class Lifecycle:
    def __init__(self) -> None:
        self._parts: list[Part] = []
        self._started: list[Part] = []
        self.stopped = False

    def add(self, name: str, start: Callable[[], object], stop: Callable[[], object],
            problems: Callable[[], list[str]] = list) -> None:  # fmt: skip
        self._parts.append(Part(name, start, stop, problems))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._parts]

    def start(self) -> None:
        """Start every part in order; if one fails, stop the started ones and raise."""
        for part in self._parts:
            if part in self._started:
                continue
            began = time.monotonic()
            try:
                part.start()
            except BaseException:
                log.exception("%s did not start; stopping what did", part.name)
                self.stop()
                raise
            self._started.append(part)
            log.debug("%s started in %.0f ms", part.name, (time.monotonic() - began) * 1000)

    def stop(self) -> None:
        """Stop the started parts, newest first; a part that fails to stop does not stop the rest."""
        while self._started:
            part = self._started.pop()
            try:
                part.stop()
            except Exception:
                log.exception("%s did not stop cleanly", part.name)
        self.stopped = True

    def problems(self) -> list[str]:
        found: list[str] = []
        for part in self._started:
            try:
                found.extend(part.problems())
            except Exception:
                log.exception("%s: reading its problems failed", part.name)
        return found
