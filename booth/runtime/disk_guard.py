"""The one watcher of free disk space, for the recorder, rig health and the session log alike.

One worker (`booth-disk`) reads the free space where recordings go every second and
publishes an immutable `DiskStatus`; everyone else only reads the newest one. Nothing that must
stay responsive (the GUI, start-up, a sale) ever calls the file system for it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from booth.core.health.system import MB, DiskStatus
from booth.core.recording import RecordingConfig
from booth.runtime.worker import Worker, every

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0  # a statvfs a second costs nothing, and a filling disk reaches the host line within 2 s

DiskUsage = Callable[[str], tuple[int, int, int]]  # (total, used, free) like shutil.disk_usage


class DiskGuard:
    """`folder`: where recordings go (the data folder when recording is off).
    `bytes_per_s`: what the encoded program costs on disk, for "minutes of recording left".
    `log_folder`: where the session log lives, when that may be another disk."""

    def __init__(
        self,
        folder: Path,
        recording: RecordingConfig,
        bytes_per_s: float,
        log_folder: Path | None = None,
        disk_usage: DiskUsage = shutil.disk_usage,  # type: ignore[assignment]
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.log_folder = log_folder
        self._log_free: int | None = None
        self.recording = recording
        self.bytes_per_s = bytes_per_s
        self._disk_usage = disk_usage
        self._clock = clock
        self._lock = threading.Lock()
        self._status: DiskStatus | None = None
        self._worker = Worker("booth-disk", every(CHECK_EVERY_S, self.check_now), "Disk watch")

    def start(self) -> DiskGuard:
        self._worker.start()
        return self

    def stop(self) -> None:
        self._worker.stop()

    def status(self) -> DiskStatus | None:
        """The newest reading (None before the first one); never touches the disk."""
        with self._lock:
            return self._status

    @property
    def below_minimum(self) -> bool:
        """Recording must stop: the session log needs the rest of the space."""
        status = self.status()
        return status is not None and status.free_bytes is not None and status.free_bytes < self.min_free_bytes

    @property
    def min_free_bytes(self) -> int:
        return self.recording.min_free_mb * MB

    def log_free_bytes(self) -> int | None:
        """Free bytes where the session log lives (None before the first reading)."""
        with self._lock:
            return self._log_free if self.log_folder is not None else (
                self._status.free_bytes if self._status is not None else None
            )

    def check_now(self) -> DiskStatus:
        """Read the free space on the caller's thread (the worker; tests)."""
        bits_per_s = self.bytes_per_s * 8
        try:
            total, _used, free = self._disk_usage(str(_existing(self.folder)))
            status = DiskStatus(str(self.folder), int(free), int(total), bits_per_s)
        except OSError as exc:
            status = DiskStatus(str(self.folder), None, None, bits_per_s, error=exc.strerror or str(exc))
        log_free: int | None = None
        if self.log_folder is not None:
            try:
                log_free = int(self._disk_usage(str(_existing(self.log_folder)))[2])
            except OSError:
                log_free = None
        with self._lock:
            self._status = status
            self._log_free = log_free
        return status


def _existing(folder: Path) -> Path:
    probe = folder.expanduser().absolute()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent  # the folder may not exist yet
    return probe
