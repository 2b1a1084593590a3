"""Clip tests: a real program made once per session — the demo camera's pictures with the real
overlay renderer's plate burned in (amber counter and LAST CALL timer), encoded by the real
encoder process to MPEG-TS — and the same pictures without the overlay through the real clean
feed. Everything is read back with ffprobe/ffmpeg, as a platform's upload check would."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from booth.bench.clip_program import make_program
from booth.core.clip_presets import Rect
from booth.core.overlay import AMBER, Corner, OverlayModel
from booth.program_out.export import ExportQueue
from tests.waiting import wait_until  # noqa: F401  (the clip tests import it from here)

SIZE = (1280, 720)
FPS = 30.0
SECONDS = 6.0  # three 2 s GOPs
MODEL = OverlayModel("TEE / BLACK", "7 LEFT", AMBER, "00:09", "LAST CALL", AMBER, Corner.BOTTOM_LEFT)


@dataclass(frozen=True)
class Program:
    ts: bytes  # the program, overlay burned in
    clean_ts: bytes  # the same pictures without it
    path: Path  # `ts` as a recording file
    overlay: Rect  # where the renderer put the plate (exact, from the renderer)
    frames: int


@pytest.fixture(scope="session")
def program(qapp: object, tmp_path_factory: pytest.TempPathFactory) -> Program:
    made = make_program(SIZE, FPS, SECONDS, MODEL)
    path = tmp_path_factory.mktemp("recording") / "booth-test.ts"
    path.write_bytes(made.ts)
    return Program(made.ts, made.clean_ts, path, made.overlay, made.frames)


@pytest.fixture
def exports() -> Iterator[ExportQueue]:
    queue = ExportQueue()
    queue.start()
    yield queue
    queue.stop()


# -- reading files back the way an upload check does -------------------------------------------


def ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run([shutil.which("ffprobe") or "ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         capture_output=True, text=True, check=True, timeout=60).stdout  # fmt: skip
    return json.loads(out)


def streams(path: Path) -> dict[str, dict]:
    info = ffprobe(path, "-show_streams", "-show_format")
    found = {s["codec_type"]: s for s in info["streams"]}
    found["format"] = info["format"]
    return found


def video_packets(path: Path) -> list[dict]:
    return ffprobe(path, "-select_streams", "v:0", "-show_entries", "packet=pts,dts,flags")["packets"]


def top_boxes(path: Path) -> list[tuple[str, int, int]]:
    """(type, offset, size) of the MP4's top-level boxes."""
    data = path.read_bytes()
    boxes = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        boxes.append((kind, offset, size))
        offset += size
    return boxes


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """One decoded frame as RGB."""
    info = streams(path)["video"]
    w, h = int(info["width"]), int(info["height"])
    raw = subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-v", "error", "-ss", f"{seconds:.3f}", "-i", str(path),
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True, timeout=60).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def amber_mask(rgb: np.ndarray) -> np.ndarray:
    """Pixels of the overlay's amber (255, 176, 0) after scaling and 4:2:0: nothing in the demo
    picture is near it (its bars are 0 or 192 per channel, its text white)."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return (r > 215) & (g > 120) & (g < 215) & (b < 90) & (r - g > 40)


def bounding_box(mask: np.ndarray) -> Rect:
    ys, xs = np.nonzero(mask)
    return Rect(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
