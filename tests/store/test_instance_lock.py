"""One Booth per data folder: the second names the holder and leaves the first one's drop alone."""

from __future__ import annotations

import subprocess
import sys

import pytest

from booth.store.instance_lock import FolderInUse, InstanceLock
from tests.store.conftest import DROP


def write_drop(tmp_path):
    lines = ['[drop]\ntitle = "Tee drop"\ntimer_seconds = 60\n']
    for sku in DROP["sku"]:
        lines.append(f'[[sku]]\nid = "{sku["id"]}"\nname = "{sku["name"]}"\nstock = {sku["stock"]}\n')
    path = tmp_path / "drop.toml"
    path.write_text("".join(lines))
    return path


def test_the_second_holder_is_refused_with_the_first_ones_pid(tmp_path):
    first = InstanceLock(tmp_path).acquire()
    try:
        with pytest.raises(FolderInUse) as refused:
            InstanceLock(tmp_path).acquire()
        assert "Another Booth is already using the data folder" in str(refused.value)
        import os

        assert f"PID {os.getpid()}" in str(refused.value) and "--data-dir" in str(refused.value)
    finally:
        first.release()
    InstanceLock(tmp_path).acquire().release()  # released: the folder is free again


def test_a_second_booth_serve_exits_2_naming_the_first_and_touches_nothing(tmp_path):
    from booth.bench.store import ServeProcess, http_json, post_sale

    drop = write_drop(tmp_path)
    data = tmp_path / "data"
    first = ServeProcess(data, drop)
    first.start()
    try:
        status, before = http_json(first.port, "GET", "/state", token=first.token)
        assert status == 200
        second = subprocess.run(
            [sys.executable, "-m", "booth", "serve", "--drop", str(drop), "--data-dir", str(data), "--api-port", "0",
             "--resume"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert second.returncode == 2
        assert "Another Booth is already using the data folder" in second.stderr
        assert f"PID {first.proc.pid}" in second.stderr
        status, after = post_sale(first.port, first.token, "after-the-second", sku="tee")
        assert status == 200, after  # the first one still sells: its session was not taken over
        assert after["left"] == before["drop"]["skus"]["tee"]["left"] - 1
    finally:
        first.stop()
