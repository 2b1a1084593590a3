"""Video source spec strings: `demo:`, `camera:<name or index>`, `file:<path>` or a stream URL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from booth.core.redact import redact_url

NETWORK_SCHEMES = ("rtmp", "rtmps", "rtsp", "http", "https", "tcp", "udp", "srt")


class SourceKind(StrEnum):
    DEMO = "demo"
    CAMERA = "camera"
    FILE = "file"
    NETWORK = "network"


class SpecError(ValueError):
    pass


@dataclass(frozen=True)
class SourceSpec:
    kind: SourceKind
    target: str  # pattern name, camera name/index, file path or URL
    raw: str

    @property
    def label(self) -> str:
        """A display name with any secret in it masked."""
        if self.kind is SourceKind.NETWORK:
            return redact_url(self.target)
        return self.raw


def parse_source_spec(text: str) -> SourceSpec:
    raw = text.strip()
    scheme, sep, rest = raw.partition(":")
    scheme = scheme.lower()
    if not sep:
        raise SpecError(
            f"source {raw!r} is not a spec: use demo:, camera:<name or index>, file:<path> "
            f"or a stream URL ({', '.join(s + '://' for s in NETWORK_SCHEMES)})"
        )
    if scheme == "demo":
        return SourceSpec(SourceKind.DEMO, rest or "bars", raw)
    if scheme == "camera":
        if not rest:
            raise SpecError("camera: needs a device name or index, e.g. camera:0 or camera:'HD Webcam'")
        return SourceSpec(SourceKind.CAMERA, rest, raw)
    if scheme == "file":
        if not rest:
            raise SpecError("file: needs a path, e.g. file:/home/me/loop.mp4")
        return SourceSpec(SourceKind.FILE, rest, raw)
    if scheme in NETWORK_SCHEMES:
        if not rest.startswith("//") or len(rest) <= 2:
            raise SpecError(f"stream URL {redact_url(raw)!r} needs a host, e.g. {scheme}://127.0.0.1:9000")
        return SourceSpec(SourceKind.NETWORK, raw, raw)
    raise SpecError(f"unknown source kind {scheme!r} in {redact_url(raw)!r}")
