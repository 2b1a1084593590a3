"""USB cameras and looping video files through OpenCV."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

# Read once per process by OpenCV: a V4L2 read on an unplugged camera otherwise blocks 10 s.
os.environ.setdefault("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", "2")

import cv2

from booth.core.frames import Pixels
from booth.devices.sources import SourceError

log = logging.getLogger(__name__)

_SYS_V4L = Path("/sys/class/video4linux")


def list_cameras() -> dict[int, str]:
    """Camera index → the device's own name (Linux); empty where the OS doesn't say."""
    cameras: dict[int, str] = {}
    if not _SYS_V4L.is_dir():
        return cameras
    for node in sorted(_SYS_V4L.glob("video*")):
        try:
            cameras[int(node.name.removeprefix("video"))] = (node / "name").read_text().strip()
        except (OSError, ValueError):
            continue
    return cameras


def find_camera(name_or_index: str) -> int:
    """Cameras are remembered by name, because indexes move when devices are replugged."""
    if name_or_index.isdigit():
        return int(name_or_index)
    wanted = name_or_index.strip("'\"").casefold()
    cameras = list_cameras()
    for index, name in cameras.items():
        if wanted in name.casefold():
            return index
    found = ", ".join(f"{i}: {n}" for i, n in cameras.items()) or "none"
    raise SourceError(f"No camera named {name_or_index!r} (cameras found: {found}).")


class CameraSource:
    live = True

    def __init__(self, name_or_index: str, label: str) -> None:
        self.label = label
        self.nominal_fps = 30.0
        self._wanted = name_or_index
        self._cap: cv2.VideoCapture | None = None

    def open(self) -> None:
        index = find_camera(self._wanted)
        backend = cv2.CAP_V4L2 if sys.platform == "linux" else cv2.CAP_ANY
        cap = cv2.VideoCapture(index, backend)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"Camera {self._wanted!r} could not be opened (is it plugged in, or busy?).")
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest picture, not a 4-frame backlog
        self.nominal_fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
        self._cap = cap

    def read(self) -> Pixels:
        if self._cap is None:
            raise SourceError(f"Camera {self._wanted!r} is not open.")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SourceError(f"Camera {self._wanted!r} stopped delivering pictures (unplugged?).")
        return frame  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FileSource:
    """A video file played at its own frame rate, looping at the end."""

    live = False

    def __init__(self, path: str, label: str) -> None:
        self.label = label
        self.nominal_fps = 30.0
        self._path = Path(path).expanduser()
        self._cap: cv2.VideoCapture | None = None

    def open(self) -> None:
        if not self._path.is_file():
            raise SourceError(f"Video file not found: {self._path}")
        if not os.access(self._path, os.R_OK):
            raise SourceError(f"Video file is not readable (permissions): {self._path}")
        cap = cv2.VideoCapture(str(self._path), cv2.CAP_FFMPEG)
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if not ok or first is None:
            cap.release()
            raise SourceError(f"Not a playable video file: {self._path}")
        cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.nominal_fps = fps if 1 <= fps <= 120 else 30.0
        self._cap = cap

    def read(self) -> Pixels:
        if self._cap is None:
            raise SourceError(f"Video file is not open: {self._path}")
        ok, frame = self._cap.read()
        if not ok:
            # End of file: loop from the start.
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
            if not ok:
                raise SourceError(f"Video file stopped decoding: {self._path}")
        return frame  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
