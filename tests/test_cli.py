"""The `booth` command as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from booth import __version__


def booth(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "booth", *args], capture_output=True, text=True, timeout=timeout,
        env=env if env is not None else os.environ.copy(),
    )  # fmt: skip


def test_help_and_version():
    result = booth("--help")
    assert result.returncode == 0
    for flag in ("--drop", "--source", "--size", "--fps", "bench"):
        assert flag in result.stdout
    version = booth("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"booth {__version__}"


def test_without_a_display_it_explains_how_to_proceed_instead_of_a_qt_trace():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = booth(env=env)
    assert result.returncode == 2
    assert "needs a screen" in result.stderr
    assert "QT_QPA_PLATFORM=offscreen" in result.stderr
    assert "Traceback" not in result.stderr and "qt.qpa" not in result.stderr


@pytest.mark.slow
def test_bench_pipeline_reports_the_documented_json_keys():
    result = booth("bench", "pipeline", "--json", "--seconds", "1", "--warmup", "0.5", "--size", "640x360")
    assert result.returncode in (0, 1), result.stderr  # 1 = a target missed on a loaded machine
    data = json.loads(result.stdout)
    for key in ("fps", "target_fps", "compose_ms_p95", "latency_ms_p95", "cpu_percent", "rss_mb"):
        assert isinstance(data[key], int | float), key
    assert data["target_fps"] == 30
    assert data["fps"] > 15  # frames really flowed through the pipeline
