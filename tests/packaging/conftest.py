"""The frozen bundle and its .deb, built once per test run by the same command a packager runs.

`python3 packaging/bootstrap.py bundle` rebuilds only when pyproject.toml, booth/, resources/ or
the packaging files changed (a hash of them is kept in dist/booth.bundle-key), so a second test
run costs a second, and a clean clone (CI) builds it once: about a minute on two cores.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"

# What a broken frozen app prints: a missing module or library, or any uncaught exception.
FATAL_MARKERS = ("Traceback (most recent call last)", "ImportError", "ModuleNotFoundError",
                 "Failed to execute script", "Could not load the Qt platform plugin")  # fmt: skip


@dataclass(frozen=True)
class Bundle:
    app: Path  # dist/booth/booth
    deb: Path  # dist/booth_<version>_amd64.deb
    version: str


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "bootstrap.py"), "bundle"], cwd=ROOT,
                            capture_output=True, text=True, timeout=1200)  # fmt: skip
    assert result.returncode == 0, f"bundle build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    debs = sorted(DIST.glob("booth_*_amd64.deb"))
    assert len(debs) == 1, f"expected one .deb in dist/, found {[d.name for d in debs]}"
    version = re.fullmatch(r"booth_(.+)_amd64\.deb", debs[0].name)
    assert version is not None
    return Bundle(DIST / "booth" / "booth", debs[0], version.group(1))


class FrozenBooth:
    """One run of a frozen `booth` command, its output in a log file; stopped by its own PID."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        self.log_path = log_path
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        env.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def fatal_lines(self) -> list[str]:
        return [line for line in self.log().splitlines() if any(marker in line for marker in FATAL_MARKERS)]

    def wait_for_log(self, pattern: str, timeout: float) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = re.search(pattern, self.log())
            if match:
                found.append(match)
            if self.proc.poll() is not None and not match:
                raise AssertionError(f"booth exited ({self.proc.returncode}) before logging {pattern!r}:\n{self.log()}")
            return bool(match)

        wait_until(seen, timeout, f"{pattern!r} in the frozen app's log")
        return found[0]

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, as at logout: Booth joins its threads and finishes its files, then exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError(f"booth did not quit within {timeout:g} s of SIGTERM:\n{self.log()}") from None


@pytest.fixture
def frozen_runs() -> Iterator[list[FrozenBooth]]:
    """Every frozen process a test starts is stopped at the end, whatever the test did."""
    runs: list[FrozenBooth] = []
    yield runs
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait(5)
