"""Video sources behind one small interface (`open_source` in booth.devices.open_source picks one).

A source is opened, read and closed from one capture thread; `read` may block (a
network read can hang), which is why health is judged from outside that thread.
"""

from __future__ import annotations

from typing import Protocol

from booth.core.frames import Pixels


class SourceError(Exception):
    """A source failed; the message names the source and the problem in plain words."""


class FrameSource(Protocol):
    label: str
    live: bool  # True: the device paces frames (camera, stream); False: the reader must pace them
    nominal_fps: float

    def open(self) -> None: ...

    def read(self) -> Pixels:
        """The next BGR frame; raises SourceError when the source fails or ends."""
        ...

    def close(self) -> None: ...
