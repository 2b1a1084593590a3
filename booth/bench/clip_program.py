"""A real program for clip tests and the README's frames: the demo camera's pictures with the real
overlay renderer's plate burned in, encoded by the real encoder link (program settings) to
MPEG-TS, and the same pictures without the overlay through a second link with the clean feed's
settings and priority — as program out runs them.

Frame by frame, each one taken by both encoders before the next is offered (so none is skipped,
and it runs as fast as the encoders do), stamped at the program rate.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from booth.core.clip_presets import Rect
from booth.core.frames import FrameStamp, ProgramFrame
from booth.core.output import CLEAN_AUDIO_KBPS, CLEAN_KBPS
from booth.core.overlay import OverlayModel
from booth.devices.demo import DemoSource
from booth.devices.encoder import EncoderSettings
from booth.devices.imaging import to_program
from booth.program_out.encoder_link import EncoderLink
from booth.program_out.program_out import CLEAN_NICE, CLEAN_PRESET
from booth.program_out.replay import Chunk
from booth.runtime.feed import Feed


@dataclass(frozen=True)
class MadeProgram:
    ts: bytes  # the program, overlay burned in, starting at a keyframe
    clean_ts: bytes  # the same pictures without it
    overlay: Rect  # where the renderer put the plate (exact, from the renderer)
    frames: int


class _Collect:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self._lock = threading.Lock()

    def __call__(self, chunk: Chunk) -> None:
        with self._lock:
            if self.chunks or chunk.keyframe:  # like the replay buffer: start at a keyframe
                self.chunks.append(chunk.data)

    def data(self) -> bytes:
        with self._lock:
            return b"".join(self.chunks)


def make_program(size: tuple[int, int], fps: float, seconds: float, model: OverlayModel,
                 timeout_s: float = 20.0) -> MadeProgram:  # fmt: skip
    """Needs a Qt GUI application (the overlay renderer's fonts)."""
    from booth.video.overlay_render import OverlayRenderer

    renderer = OverlayRenderer(size)
    image, pos = renderer.image_for(model)
    box = Rect(pos.x(), pos.y(), image.width(), image.height())
    source = DemoSource(size, fps)
    source.open()
    burned, clean = _Collect(), _Collect()
    program_feed: Feed[ProgramFrame, FrameStamp] = Feed()
    clean_feed: Feed[ProgramFrame, FrameStamp] = Feed()
    settings = EncoderSettings(*size, fps)  # the program encoder's defaults
    clean_settings = EncoderSettings(*size, fps, CLEAN_KBPS, CLEAN_AUDIO_KBPS, settings.keyframe_s, CLEAN_PRESET)
    links = [EncoderLink(settings, program_feed, burned, name="clip-program"),
             EncoderLink(clean_settings, clean_feed, clean, name="clip-clean", nice=CLEAN_NICE)]  # fmt: skip
    for link in links:
        link.start()
    frames = round(seconds * fps)
    t0 = time.monotonic()
    try:
        for i in range(frames):
            picture = to_program(source.read(), *size)
            plain = picture.copy()
            renderer.burn(picture, model)
            at = t0 + i / fps
            program_feed.put(ProgramFrame(picture, i + 1, at, "primary", i, at, False, i, at))
            clean_feed.put(ProgramFrame(plain, i + 1, at, "primary", i, at, False, i, at))
            deadline = time.monotonic() + timeout_s
            while any(link.status().frames_sent <= i for link in links):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the encoders did not take frame {i} within {timeout_s:g} s")
                time.sleep(0.002)
    finally:
        for link in links:
            link.stop()  # the encoder processes finish their streams; every chunk is handed on
    return MadeProgram(burned.data(), clean.data(), box, frames)
