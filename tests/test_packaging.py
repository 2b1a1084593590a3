"""What a desktop user needs to start Booth from the menu."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parent.parent


def test_desktop_entry_launches_booth_with_its_icon(qapp):
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "packaging" / "booth.desktop")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Booth"
    assert section["Exec"].split()[0] == "booth"
    assert QSvgRenderer(str(ROOT / "resources" / f"{section['Icon']}.svg")).isValid()


def test_install_script_points_the_menu_entry_at_this_checkout(tmp_path):
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run(["sh", str(ROOT / "packaging" / "install-desktop-entry.sh")], check=True, env=env,
                   capture_output=True)  # fmt: skip
    installed = (tmp_path / ".local/share/applications/booth.desktop").read_text()
    assert f"Exec={ROOT}/.venv/bin/booth\n" in installed  # no %f: booth takes no file argument
    assert (tmp_path / ".local/share/icons/hicolor/scalable/apps/booth.svg").is_file()


def test_bootstrap_explains_itself_without_arguments():
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "bootstrap.py")], capture_output=True, text=True)
    assert result.returncode == 2 and "bootstrap.py run" in result.stdout and "bootstrap.py test" in result.stdout
