"""Turn encoded MPEG-TS bytes (starting at a keyframe) into an MP4 file: a remux, no re-encode.

Only local files are involved, so PyAV in-process is safe here (it is the network open that
holds the GIL for long). The file is written next to its final name and renamed when
complete, so a half-written clip never looks like a finished one.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True)
class ClipInfo:
    path: Path
    duration_s: float
    video_frames: int
    bytes: int


class ClipError(RuntimeError):
    pass


def remux_ts_to_mp4(data: bytes, path: Path) -> ClipInfo:
    tmp = path.with_name(path.name + ".part")
    frames = 0
    first: float | None = None
    last = 0.0
    try:
        with (
            av.open(io.BytesIO(data), format="mpegts", options={"probesize": "2000000"}) as src,
            av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as dst,
        ):
            mapping = {}
            for stream in src.streams:
                if stream.type in ("video", "audio"):
                    mapping[stream.index] = dst.add_stream_from_template(stream)
            if not any(s.type == "video" for s in src.streams):
                raise ClipError("no video in the buffer")
            base: float | None = None  # the clip starts at 0: every timestamp moves back by this
            for packet in src.demux(*[s for s in src.streams if s.index in mapping]):
                if packet.dts is None or packet.size == 0:
                    continue
                out = mapping[packet.stream.index]
                tb = packet.time_base
                if base is None:
                    base = float(packet.dts * tb)
                shift = round(base / tb)
                if packet.dts < shift:
                    continue  # a few ms of audio from before the keyframe
                packet.dts -= shift
                if packet.pts is not None:
                    packet.pts -= shift
                if packet.stream.type == "video":
                    seconds = float(packet.pts * tb) if packet.pts is not None else 0.0
                    first = seconds if first is None else min(first, seconds)
                    last = max(last, seconds + float((packet.duration or 0) * tb))
                    frames += 1
                packet.stream = out
                dst.mux(packet)
        os.replace(tmp, path)
    except ClipError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ClipError(f"could not write {path.name}: {exc}") from None
    if frames == 0:
        with contextlib.suppress(OSError):
            path.unlink()
        raise ClipError("no video frames in the buffer")
    return ClipInfo(path, last - (first or 0.0), frames, path.stat().st_size)


@dataclass(frozen=True)
class MediaInfo:
    width: int
    height: int
    fps: float
    duration_s: float
    video_frames: int
    has_audio: bool


def probe_media(path: Path | str, decode: bool = True) -> MediaInfo:
    """What a real client sees in a file (tests, `booth bench output`)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        has_audio = bool(container.streams.audio)
        frames = 0
        first = last = None
        if decode:
            for frame in container.decode(video=0):
                frames += 1
                t = frame.time
                if t is not None:
                    first = t if first is None else min(first, t)
                    last = t if last is None else max(last, t)
        rate = float(video.average_rate or video.guessed_rate or 0)
        duration = (last - first + 1 / rate) if (first is not None and last is not None and rate) else 0.0
        return MediaInfo(video.codec_context.width, video.codec_context.height, rate, duration, frames, has_audio)
