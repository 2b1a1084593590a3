"""Video sources behind one small interface, chosen by a spec string.

A source is opened, read and closed from one capture thread; `read` may block (a
network read can hang), which is why health is judged from outside that thread.
"""

from __future__ import annotations

from typing import Protocol

from booth.core.frames import Pixels
from booth.core.source_spec import SourceKind, SourceSpec


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


def open_source(spec: SourceSpec, size: tuple[int, int], fps: float) -> FrameSource:
    """Build (not open) the source for a spec. `size`/`fps` are the program's, as hints."""
    if spec.kind is SourceKind.DEMO:
        from booth.devices.demo import DemoSource

        return DemoSource(size, fps, label=spec.label)
    if spec.kind is SourceKind.CAMERA:
        from booth.devices.opencv_sources import CameraSource

        return CameraSource(spec.target, label=spec.label)
    if spec.kind is SourceKind.FILE:
        from booth.devices.opencv_sources import FileSource

        return FileSource(spec.target, label=spec.label)
    from booth.devices.ffmpeg_source import FfmpegSource

    return FfmpegSource(spec.target, size, label=spec.label)
