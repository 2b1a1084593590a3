"""What a recording says about time, read from outside: each picture's PTS and the program slot
burned into it, and where the sound track puts each beep (booth.bench.beeping_mic)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from booth.core import timecode

BEEP_LEVEL = 0.3  # of full scale: the beep is at 0.6, AAC's pre-echo far below
QUIET_BEFORE_S = 0.5


def video_times(path: Path) -> list[tuple[float, int | None]]:
    """(PTS in seconds, program slot or None when no time code reads) for every picture, in order."""
    found: list[tuple[float, int | None]] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if frame.pts is None or frame.time_base is None:
                continue
            plane = frame.planes[0]
            luma = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
            found.append((float(frame.pts * frame.time_base), timecode.read(luma, timecode.Band.BOTTOM)))
    return found


def beep_onsets(path: Path) -> list[float]:
    """The PTS (seconds) of the first loud sample of every beep in the sound track."""
    onsets: list[float] = []
    last_loud = -1e9
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return onsets
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            if frame.pts is None or frame.time_base is None:
                continue
            samples = frame.to_ndarray()
            level = np.abs(samples.astype(np.float32)).max(axis=0)
            if samples.dtype.kind == "i":
                level /= 32768.0
            start = float(frame.pts * frame.time_base)
            for index in np.flatnonzero(level > BEEP_LEVEL):
                at = start + int(index) / frame.sample_rate
                if at - last_loud > QUIET_BEFORE_S:
                    onsets.append(at)
                last_loud = at
    return onsets
