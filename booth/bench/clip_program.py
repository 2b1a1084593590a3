"""A real program for clip tests and the README's frames: the demo camera's pictures with the real
overlay renderer's plate burned in, encoded by the real encoder process (program settings) to
MPEG-TS, and the same pictures without the overlay through the real clean feed.

Frame by frame, each one taken by both encoders before the next is offered (so none is skipped,
and it runs as fast as the encoders do), stamped at the program rate.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from booth.core.clip_presets import Rect
from booth.core.overlay import OverlayModel
from booth.devices.demo import DemoSource
from booth.devices.imaging import to_program
from booth.program_out.clean_feed import CleanFeed, CleanFeedSettings


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

    def __call__(self, _at: float, keyframe: bool, data: bytes) -> None:
        with self._lock:
            if self.chunks or keyframe:  # like the replay buffer: start at a keyframe
                self.chunks.append(data)

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
    # the program encoder's settings (OutputService defaults), and the clean feed's
    program_feed = CleanFeed(CleanFeedSettings(*size, fps, bitrate_kbps=4500, audio_kbps=128, preset="superfast",
                                               nice=0), burned)  # fmt: skip
    clean_feed = CleanFeed(CleanFeedSettings(*size, fps), clean)
    program_feed.start()
    clean_feed.start()
    frames = round(seconds * fps)
    try:
        for i in range(frames):
            picture = to_program(source.read(), *size)
            plain = picture.copy()
            renderer.burn(picture, model)
            program_feed.offer(picture, i / fps)
            clean_feed.offer(plain, i / fps)
            deadline = time.monotonic() + timeout_s
            while program_feed.stats().frames_sent <= i or clean_feed.stats().frames_sent <= i:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the encoders did not take frame {i} within {timeout_s:g} s")
                time.sleep(0.002)
    finally:
        program_feed.stop()  # the encoder processes finish their streams
        clean_feed.stop()
    return MadeProgram(burned.data(), clean.data(), box, frames)
