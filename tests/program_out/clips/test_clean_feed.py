"""The clean feed's encoder: the program's own encoder link, with the clean settings, running below
the program's priority, and back on its own when its process dies mid-show."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np

from booth.core.frames import FrameStamp, ProgramFrame
from booth.devices.encoder import EncoderSettings
from booth.program_out.encoder_link import EncoderLink
from booth.program_out.program_out import CLEAN_NICE
from booth.program_out.replay import Chunk
from booth.runtime.feed import Feed
from tests.program_out.clips.conftest import streams, wait_until

SIZE = (320, 180)


class Chunks:
    def __init__(self) -> None:
        self.items: list[Chunk] = []
        self.lock = threading.Lock()

    def __call__(self, chunk: Chunk) -> None:
        with self.lock:
            self.items.append(chunk)

    def count(self) -> int:
        with self.lock:
            return len(self.items)


def nice_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[16])


def test_the_clean_encoder_runs_below_the_program_and_survives_its_process(tmp_path) -> None:
    chunks = Chunks()
    feed: Feed[ProgramFrame, FrameStamp] = Feed()
    link = EncoderLink(EncoderSettings(*SIZE, 30.0, 500, 96, 1.0, "ultrafast"), feed, chunks, name="clean",
                       nice=CLEAN_NICE)  # fmt: skip
    picture = np.full((SIZE[1], SIZE[0], 4), 200, np.uint8)
    t0 = time.monotonic()

    def offer(i: int) -> None:
        feed.put(ProgramFrame(picture, i + 1, t0, "primary", i, t0, False, i, t0 + i / 30))
        wait_until(lambda: link.status().frames_sent > sent, 20, f"frame {i} to be taken")

    link.start()
    try:
        for i in range(40):
            sent = link.status().frames_sent
            offer(i)
        first_pid = link.pid
        assert first_pid is not None and nice_of(first_pid) == CLEAN_NICE
        wait_until(lambda: chunks.count() > 0, 10, "TS out of the clean encoder")
        os.kill(first_pid, signal.SIGKILL)  # the encoder dies mid-show
        wait_until(lambda: link.pid not in (None, first_pid) and link.status().encoding, 15, "a new clean encoder")
        assert nice_of(link.pid) == CLEAN_NICE  # type: ignore[arg-type]
        before = chunks.count()
        for i in range(40, 100):
            sent = link.status().frames_sent
            offer(i)
    finally:
        link.stop()
    assert chunks.count() > before, "the restarted encoder produced nothing"
    restarted = chunks.items[before:]
    path = tmp_path / "clean.ts"
    path.write_bytes(b"".join(c.data for c in restarted[next(i for i, c in enumerate(restarted) if c.keyframe):]))
    info = streams(path)
    assert (int(info["video"]["width"]), int(info["video"]["height"])) == SIZE
    assert info["audio"]["codec_name"] == "aac"
