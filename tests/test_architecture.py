"""Layer rules import-linter cannot express: QtWidgets stays in the UI and the entry points."""

from __future__ import annotations

import ast
from pathlib import Path

BOOTH = Path(__file__).resolve().parent.parent / "booth"
WIDGET_FREE = (
    "core", "devices", "runtime", "video", "audio", "program_out", "drop", "health", "ops", "api", "store", "reports",
)  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_widgets_outside_the_ui():
    offenders = [
        str(path.relative_to(BOOTH))
        for package in WIDGET_FREE
        for path in (BOOTH / package).rglob("*.py")
        if any(m == "PySide6.QtWidgets" or m.startswith("PySide6.QtWidgets.") for m in imported_modules(path))
    ]
    assert offenders == []


def test_the_scan_sees_real_imports():
    # The rule above is only worth something if the scanner finds QtWidgets where it is used.
    assert "PySide6.QtWidgets" in imported_modules(BOOTH / "ui" / "main_window.py")
