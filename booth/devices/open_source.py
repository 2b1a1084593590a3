"""Which device reads a source: the factory from a spec string to a `FrameSource`."""

from __future__ import annotations

from booth.core.source_spec import SourceKind, SourceSpec
from booth.devices.sources import FrameSource


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
