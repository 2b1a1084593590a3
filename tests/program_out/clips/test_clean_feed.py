"""The clean feed: a real second encoder process, fed frames without the overlay."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np

from booth.program_out.clean_feed import CleanFeed, CleanFeedSettings
from tests.program_out.clips.conftest import streams, wait_until

SIZE = (320, 180)


class Chunks:
    def __init__(self) -> None:
        self.items: list[tuple[bool, bytes]] = []
        self.lock = threading.Lock()

    def __call__(self, _at: float, keyframe: bool, data: bytes) -> None:
        with self.lock:
            self.items.append((keyframe, data))

    def count(self) -> int:
        with self.lock:
            return len(self.items)


def nice_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def test_clean_feed_encodes_bgr_and_bgra_frames_at_a_lower_priority_and_survives_its_encoder(tmp_path) -> None:
    chunks = Chunks()
    feed = CleanFeed(CleanFeedSettings(*SIZE, 30.0, bitrate_kbps=500), chunks)
    feed.start()
    try:
        bgr = np.full((SIZE[1], SIZE[0], 3), (40, 90, 160), np.uint8)
        bgra = np.full((SIZE[1], SIZE[0], 4), 200, np.uint8)
        for i in range(20):
            feed.offer(bgr if i % 2 else bgra, i / 30)
            wait_until(lambda i=i: feed.stats().frames_sent > i, 20, f"frame {i} to be taken")
        first_pid = feed.stats().encoder_pid
        assert first_pid is not None and nice_of(first_pid) == 10  # below the program's encoder
        feed.offer(np.zeros((90, 160, 4), np.uint8), 1.0)  # the wrong size: refused, counted, no crash
        assert feed.stats().rejected == 1
        wait_until(lambda: chunks.count() > 0, 10, "TS out of the clean encoder")
        os.kill(first_pid, signal.SIGKILL)  # the encoder dies mid-show
        wait_until(lambda: feed.stats().encoder_pid not in (None, first_pid), 15, "a new clean encoder")
        before = chunks.count()
        for i in range(20, 80):
            feed.offer(bgra, i / 30)
            wait_until(lambda i=i: feed.stats().frames_sent > i, 20, f"frame {i} to be taken")
    finally:
        feed.stop()
    assert chunks.count() > before, "the restarted encoder produced nothing"
    assert chunks.items[0][0], "the stream starts at a keyframe"
    path = tmp_path / "clean.ts"
    path.write_bytes(b"".join(data for _, data in chunks.items[before:]))
    info = streams(path)
    assert (int(info["video"]["width"]), int(info["video"]["height"])) == SIZE
    assert info["audio"]["codec_name"] == "aac"
