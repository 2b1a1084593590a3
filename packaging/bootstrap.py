#!/usr/bin/env python3
"""Set up and run Booth from a fresh clone, with nothing but python3 and git.

    python3 packaging/bootstrap.py run  [booth arguments…]   launch Booth (demo rig without a config)
    python3 packaging/bootstrap.py test [pytest arguments…]  lint, layer contracts, types, the whole test suite

Each step is idempotent: system packages are installed only when missing (with apt-get
as root, or sudo without a password; otherwise the exact command is printed and we stop),
`.venv` at the repo root is created once and refreshed when pyproject.toml changes.
Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".booth-installed"

# Debian/Ubuntu packages. Build: PyAudio has no Linux wheel and compiles against PortAudio.
COMMON = ["gcc", "python3-dev", "portaudio19-dev", "libportaudio2", "ffmpeg",
          "libgl1", "libegl1", "libxkbcommon0", "libfontconfig1", "libdbus-1-3"]  # fmt: skip
# Qt's xcb platform plugin refuses to load without these (Qt >= 6.5 needs libxcb-cursor0).
DESKTOP = ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxkbcommon-x11-0", "libxcb-image0",
           "libxcb-render-util0", "libxcb-shape0", "libxcb-randr0", "libxcb-xinerama0", "libxcb-xkb1"]  # fmt: skip
# Tests: a real RTMP ingest (nginx + RTMP module), Xvfb for the screenshot check, poppler (pdfinfo,
# pdftotext, pdftoppm) to read the sticker-code PDF back.
TEST = ["nginx", "libnginx-mod-rtmp", "xvfb", "poppler-utils"]


def say(message: str) -> None:
    print(f"[booth setup] {message}", flush=True)


def missing_debian_packages(names: list[str]) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return []
    missing = []
    for name in names:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in result.stdout:
            missing.append(name)
    return missing


def ensure_system_packages(names: list[str]) -> None:
    if shutil.which("apt-get") is None:
        say("not a Debian/Ubuntu system: install PortAudio headers, ffmpeg and a C compiler yourself.")
        return
    try:
        import ensurepip  # noqa: F401  (Debian splits it into python3-venv)
    except ImportError:
        names = [*names, "python3-venv"]
    missing = missing_debian_packages(names)
    if not missing:
        return
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        prefix = ["sudo", "-n"]
    else:
        say("these system packages are missing: " + " ".join(missing))
        say("install them, then run this command again:")
        print(f"\n    sudo apt-get update && sudo {' '.join(install)}\n", flush=True)
        sys.exit(1)
    say("installing system packages: " + " ".join(missing))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*prefix, *install], check=True, env=env, stdout=subprocess.DEVNULL)


def ensure_venv(extras: str) -> None:
    wanted = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + extras.encode() + sys.version.encode()
    ).hexdigest()
    if not (BIN / "python").exists():
        say(f"creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    say("installing Python packages into .venv (first run takes a few minutes)")
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}{extras}"], check=True)
    STAMP.write_text(wanted)


def run(args: list[str]) -> int:
    ensure_system_packages(COMMON + DESKTOP)
    ensure_venv("")
    os.execv(str(BIN / "booth"), [str(BIN / "booth"), *args])
    return 0  # not reached


def test(args: list[str]) -> int:
    ensure_system_packages(COMMON + DESKTOP + TEST)
    ensure_venv("[test]")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    steps = [
        ("ruff", [str(BIN / "ruff"), "check", "."]),
        ("import contracts", [str(BIN / "lint-imports")]),
        ("mypy (domain core)", [str(BIN / "mypy")]),
        ("pytest", [str(BIN / "pytest"), *args]),
    ]
    for name, command in steps:
        say(f"{name}: {Path(command[0]).name} {' '.join(command[1:])}".rstrip())
        code = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        if code != 0:
            say(f"{name} failed (exit {code})")
            return code
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    if sys.version_info < (3, 11):  # noqa: UP036 — this script may be started by an older python3
        say(f"Booth needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
        return 1
    command, rest = sys.argv[1], sys.argv[2:]
    return run(rest) if command == "run" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
