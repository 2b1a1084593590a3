"""Booth's Debian package, made with dpkg-deb from the frozen bundle in dist/booth.

    /opt/booth/                                  the bundle (booth + _internal/)
    /usr/bin/booth -> /opt/booth/booth           the command (PyInstaller finds _internal/ through the link)
    /usr/share/applications/booth.desktop        the menu entry
    /usr/share/icons/hicolor/scalable/apps/booth.svg
    /usr/share/doc/booth/copyright

No maintainer scripts: dpkg's file triggers refresh the menu and icon caches, and removal takes
away exactly the files above (Booth writes its data to the user's folders, never to /opt).
Standard library only: bootstrap.py imports this before any virtualenv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runtime dependencies: every shared library the bundle links to but does not carry (PyInstaller
# leaves Debian's libraries out, see booth.spec), plus the programs Booth runs.
# tests/packaging checks the list against the bundle's ELF files, so a new dependency cannot be forgotten.
DEPENDS = [
    # Booth runs ffmpeg as a child process: Debian's build has SRT, and it stays Debian's (GPL) package.
    "ffmpeg",
    # C and C++ runtime; Python's own extension modules (hashlib/ssl, sqlite3, ctypes, lzma, bz2, uuid, zlib)
    "libc6", "libgcc-s1", "libstdc++6", "libssl3", "libsqlite3-0", "libffi8", "liblzma5", "libbz2-1.0",
    "libuuid1", "zlib1g", "libzstd1",
    # PyAudio links to PortAudio (built against Debian's, so the system's sound setup is used)
    "libportaudio2",
    # Qt: GL, fonts, D-Bus, GLib event loop
    "libgl1", "libegl1", "libfontconfig1", "libfreetype6", "libdbus-1-3", "libglib2.0-0",
    # Qt's xcb platform plugin (Qt >= 6.5 refuses to start without libxcb-cursor0)
    "libx11-6", "libx11-xcb1", "libxcb1", "libxcb-cursor0", "libxcb-glx0", "libxcb-icccm4", "libxcb-image0",
    "libxcb-keysyms1", "libxcb-randr0", "libxcb-render0", "libxcb-render-util0", "libxcb-shape0", "libxcb-shm0",
    "libxcb-sync1", "libxcb-util1", "libxcb-xfixes0", "libxcb-xkb1", "libxkbcommon0", "libxkbcommon-x11-0",
]  # fmt: skip

DESCRIPTION = """\
Host control booth for live-commerce micro-drops
 Live preview of the camera with a burned-in scarcity overlay (stock counter and
 countdown), primary/secondary source failover, streaming, recording and clips,
 sales journaled in SQLite, and rig health (battery, network, microphone)."""

COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: booth

Files: *
License: MIT

Files: opt/booth/_internal/*
Comment: Python, PySide6 (Qt, LGPL-3), OpenCV, PyAV and FFmpeg libraries (LGPL), NumPy and the
 other Python packages Booth uses, each under its own licence, as shipped in their wheels; their
 licence files are in the *.dist-info folders beside them.

Files: opt/booth/_internal/resources/fonts/*
License: Bitstream-Vera and public domain (DejaVu); see LICENSE-DejaVu.txt there.
"""


def build_deb(bundle: Path, version: str, out_dir: Path, work_dir: Path) -> Path:
    """Stage the package tree under `work_dir` and build `out_dir/booth_<version>_amd64.deb`."""
    stage = work_dir / f"booth_{version}_amd64"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(bundle, stage / "opt" / "booth", symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "booth").symlink_to("/opt/booth/booth")
    _install(ROOT / "packaging" / "booth.desktop", stage / "usr/share/applications/booth.desktop")
    _install(ROOT / "resources" / "booth.svg", stage / "usr/share/icons/hicolor/scalable/apps/booth.svg")
    _install_text(COPYRIGHT, stage / "usr/share/doc/booth/copyright")
    _normalise_modes(stage)
    installed_kib = sum(p.lstat().st_size for p in stage.rglob("*") if not p.is_dir()) // 1024 + 1
    _install_text(control(version, installed_kib), stage / "DEBIAN" / "control")
    _normalise_modes(stage / "DEBIAN")
    deb = out_dir / f"booth_{version}_amd64.deb"
    # zstd: 2 s here against 35 s for gzip and 22 s for xz -1, and smaller than gzip; every dpkg that
    # can satisfy the Depends above (Debian 12, Ubuntu 22.04 and later) reads it.
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(stage), str(deb)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    shutil.rmtree(stage)  # a second copy of the bundle, no longer needed
    return deb


def control(version: str, installed_kib: int) -> str:
    return (
        "Package: booth\n"
        f"Version: {version}\n"
        "Architecture: amd64\n"
        "Maintainer: Booth developers <booth@localhost>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        "Section: video\n"
        "Priority: optional\n"
        f"Description: {DESCRIPTION}\n"
    )


def _install(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _install_text(text: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def _normalise_modes(top: Path) -> None:
    """Directories 0755, programs and libraries 0755, everything else 0644, whatever the umask was."""
    for path in [top, *top.rglob("*")]:
        if path.is_symlink():
            continue
        executable = path.is_dir() or os.access(path, os.X_OK)
        path.chmod(0o755 if executable else 0o644)
