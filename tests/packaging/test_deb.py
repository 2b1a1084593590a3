"""The Debian package: what it installs, that the installed command runs, that it removes cleanly,
and that it declares every system library the bundle needs."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(1500)  # whichever test runs first builds the bundle


def deb_field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True, check=True).stdout.strip()


def depends(deb: Path) -> list[str]:
    return [part.strip() for part in deb_field(deb, "Depends").split(",")]


def test_the_package_unpacks_to_opt_booth_with_a_command_a_menu_entry_and_an_icon(bundle, tmp_path):
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(bundle.deb), str(root)], check=True)
    assert os.readlink(root / "usr/bin/booth") == "/opt/booth/booth"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(root / "usr/share/applications/booth.desktop")
    assert entry["Desktop Entry"]["Exec"].split()[0] == "booth"  # found on PATH as /usr/bin/booth
    assert (root / f"usr/share/icons/hicolor/scalable/apps/{entry['Desktop Entry']['Icon']}.svg").is_file()
    assert (root / "opt/booth/_internal/resources/fonts/DejaVuSansMono-Bold.ttf").is_file()
    assert deb_field(bundle.deb, "Package") == "booth" and deb_field(bundle.deb, "Architecture") == "amd64"

    # The installed program runs, also through a link like /usr/bin/booth (the bootloader finds
    # its _internal folder from the link's target).
    link = tmp_path / "bin" / "booth"
    link.parent.mkdir()
    link.symlink_to(root / "opt/booth/booth")
    for program in (root / "opt/booth/booth", link):
        result = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=30)
        assert (result.returncode, result.stdout.strip()) == (0, f"booth {bundle.version}"), result.stderr


def test_dpkg_installs_and_removes_the_package_without_leftovers(bundle, tmp_path):
    """A real dpkg, on a throwaway root whose package database holds just Booth's dependencies
    (copied from this machine's), so dpkg checks the Depends line as it would on a laptop."""
    root = tmp_path / "root"
    admin = root / "var/lib/dpkg"
    for folder in ("info", "updates", "triggers"):
        (admin / folder).mkdir(parents=True)
    needed = [re.sub(r"\s*\(.*\)", "", dep) for dep in depends(bundle.deb)]
    status = subprocess.run(["dpkg-query", "-s", *needed], capture_output=True, text=True)
    assert status.returncode == 0, f"a declared dependency is not a package installed here: {status.stderr}"
    (admin / "status").write_text(status.stdout)
    names = subprocess.run(["dpkg-query", "-W", "-f=${binary:Package}\\n", *needed], capture_output=True, text=True,
                           check=True).stdout.split()  # fmt: skip
    for name in names:  # their files are not in this root; an empty list says so without a warning
        (admin / "info" / f"{name}.list").touch()

    def dpkg(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["dpkg", f"--root={root}", *args], capture_output=True, text=True, timeout=120)

    installed = dpkg("-i", str(bundle.deb))
    assert installed.returncode == 0, installed.stderr
    assert "warning" not in installed.stderr, installed.stderr
    version = subprocess.run([str(root / "opt/booth/booth"), "--version"], capture_output=True, text=True, timeout=30)
    assert version.stdout.strip() == f"booth {bundle.version}"

    removed = dpkg("-r", "booth")
    assert removed.returncode == 0 and "warning" not in removed.stderr, removed.stderr
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_relative_to(admin))
    assert left == ["var", "var/lib"], left


def test_every_system_library_the_bundle_links_to_comes_from_a_declared_dependency(bundle):
    """PyInstaller leaves Debian's libraries out of the bundle; each one must be on the Depends line,
    or a laptop without it would fail to start Booth ("error while loading shared libraries")."""
    internal = bundle.app.parent / "_internal"
    elf_files = [bundle.app, *(p for p in internal.rglob("*.so*") if p.is_file() and not p.is_symlink())]
    shipped = {p.name for p in internal.rglob("*.so*")}
    needed: dict[str, str] = {}  # soname → one bundle file that needs it
    for chunk in range(0, len(elf_files), 200):
        dump = subprocess.run(["objdump", "-p", *map(str, elf_files[chunk:chunk + 200])], capture_output=True,
                              text=True, check=True).stdout  # fmt: skip
        current = ""
        for line in dump.splitlines():
            if line.endswith(":     file format elf64-x86-64"):
                current = line.split(":")[0]
            elif line.strip().startswith("NEEDED"):
                needed.setdefault(line.split()[1], current)
    from_system = sorted(soname for soname in needed if soname not in shipped)
    assert "libportaudio.so.2" in from_system and "libxcb-cursor.so.0" in from_system  # the scan sees them

    owners = subprocess.run(["dpkg", "-S", *(f"*/{soname}" for soname in from_system)], capture_output=True,
                            text=True).stdout  # fmt: skip
    providers: dict[str, set[str]] = {}
    for line in owners.splitlines():
        packages, path = line.split(": ", 1)
        for package in packages.split(", "):
            providers.setdefault(Path(path).name, set()).add(package.split(":")[0])
    declared = {re.sub(r"\s*\(.*\)", "", dep) for dep in depends(bundle.deb)}
    undeclared = {
        soname: f"{sorted(providers.get(soname, {'no installed package'}))} (needed by {needed[soname]})"
        for soname in from_system
        if not providers.get(soname, set()) & declared
    }
    assert undeclared == {}
    assert "ffmpeg" in declared  # not a library: Booth runs Debian's ffmpeg (with SRT) as a child process
