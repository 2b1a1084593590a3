#!/usr/bin/env python3
"""Set up and run Booth from a fresh clone, with nothing but python3 and git.

    python3 packaging/bootstrap.py run  [booth arguments…]   launch Booth (demo rig without a config)
    python3 packaging/bootstrap.py test [pytest arguments…]  lint, layer contracts, types, the whole test suite
    python3 packaging/bootstrap.py bundle                    the frozen app (dist/booth/) and its .deb (dist/)

Each step is idempotent: system packages are installed only when missing (with apt-get
as root, or sudo without a password; otherwise the exact command is printed and we stop),
`.venv` at the repo root is created once and refreshed when pyproject.toml changes.
`bundle` uses its own `.venv-bundle` with only the runtime dependencies and PyInstaller, and
rebuilds only when pyproject.toml, booth/, resources/ or the packaging files changed.
Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import re
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
# pdftotext, pdftoppm) to read the sticker-code PDF back, and a real browser (Debian's chromium and
# its chromedriver) for the phone remote and the OBS overlay.
TEST = ["nginx", "libnginx-mod-rtmp", "xvfb", "poppler-utils", "chromium", "chromium-driver"]
# Bundle: PyInstaller reads shared-library dependencies with objdump.
BUNDLE = ["binutils"]

BUNDLE_VENV = ROOT / ".venv-bundle"
DIST = ROOT / "dist"
BUNDLE_KEY = DIST / "booth.bundle-key"  # what the bundle in dist/booth was built from
# Every input of the bundle: a change to any of them rebuilds it.
BUNDLE_INPUTS = ["pyproject.toml", "booth", "resources", "packaging/booth.spec", "packaging/frozen_entry.py",
                 "packaging/deb_package.py", "packaging/booth.desktop", "packaging/bootstrap.py"]  # fmt: skip


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
    pip = _fresh_venv(VENV, STAMP, wanted)
    if pip:
        say("installing Python packages into .venv (first run takes a few minutes)")
        subprocess.run([*pip, "install", "-e", f"{ROOT}{extras}"], check=True)
        STAMP.write_text(wanted)


def _fresh_venv(venv: Path, stamp: Path, wanted: str) -> list[str]:
    """Create `venv` if needed; the pip command when it must be (re)filled, [] when up to date."""
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    if not python.exists():
        say(f"creating {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if stamp.exists() and stamp.read_text() == wanted:
        return []
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    return pip


def ensure_bundle_venv() -> Path:
    """.venv-bundle: Booth's runtime dependencies and the [bundle] extra, not Booth itself (PyInstaller
    reads booth/ from the checkout) and nothing from [test]."""
    import tomllib

    pyproject = (ROOT / "pyproject.toml").read_bytes()
    project = tomllib.loads(pyproject.decode())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["bundle"]]
    wanted = hashlib.sha256(pyproject + sys.version.encode()).hexdigest()
    stamp = BUNDLE_VENV / ".booth-installed"
    pip = _fresh_venv(BUNDLE_VENV, stamp, wanted)
    if pip:
        say("installing the runtime dependencies and PyInstaller into .venv-bundle")
        subprocess.run([*pip, "install", *requirements], check=True)
        stamp.write_text(wanted)
    return BUNDLE_VENV / "bin"


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


def bundle_key() -> str:
    """A hash of every file the bundle is built from (bytecode caches aside)."""
    digest = hashlib.sha256(sys.version.encode())
    for name in BUNDLE_INPUTS:
        top = ROOT / name
        files = sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else [top]
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def bundle(args: list[str]) -> int:
    sys.path.insert(0, str(ROOT / "packaging"))
    from deb_package import DEPENDS, build_deb

    # The .deb's dependencies are installed here too: PyInstaller resolves the bundle's libraries
    # against them, and the smoke tests run the bundle on this machine.
    ensure_system_packages(sorted(set(COMMON + DESKTOP + BUNDLE + DEPENDS)))
    venv_bin = ensure_bundle_venv()
    app = DIST / "booth" / "booth"
    key = bundle_key()
    debs = sorted(DIST.glob("booth_*_amd64.deb"))
    if "--force" not in args and app.exists() and debs and BUNDLE_KEY.exists() and BUNDLE_KEY.read_text() == key:
        say(f"bundle up to date: {app.parent} and {debs[-1].name}")
        return 0
    BUNDLE_KEY.unlink(missing_ok=True)
    say("freezing Booth with PyInstaller into dist/booth (about a minute the first time)")
    subprocess.run([str(venv_bin / "pyinstaller"), "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller"),
                    str(ROOT / "packaging" / "booth.spec")], cwd=ROOT, check=True)  # fmt: skip
    printed = subprocess.run([str(app), "--version"], capture_output=True, text=True, check=True).stdout
    match = re.fullmatch(r"booth (\S+)\s*", printed)
    if match is None:
        say(f"the bundle's --version printed {printed!r}, not 'booth VERSION'")
        return 1
    for old in debs:
        old.unlink()
    deb = build_deb(app.parent, match.group(1), DIST, ROOT / "build" / "deb")
    BUNDLE_KEY.write_text(key)
    size_mb = sum(p.lstat().st_size for p in app.parent.rglob("*") if not p.is_symlink()) / 1e6
    say(f"built {app.parent} ({size_mb:.0f} MB) and {deb} ({deb.stat().st_size / 1e6:.0f} MB)")
    return 0


COMMANDS = {"run": run, "test": test, "bundle": bundle}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    if sys.version_info < (3, 11):  # noqa: UP036 — this script may be started by an older python3
        say(f"Booth needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
        return 1
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
