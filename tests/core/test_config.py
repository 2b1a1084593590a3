"""Drop config: a good file loads; every bad one names the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from booth.core.config import ConfigError, demo_config, load_config
from booth.core.overlay import Corner
from booth.core.source_spec import SourceKind

GOOD = """
[drop]
title = "Night market"
timer_seconds = 120
last_call_seconds = 15
low_stock_at = 8
critical_stock_at = 2

[overlay]
corner = "top-right"

[program]
size = "1920x1080"
fps = 60

[sources]
primary = "srt://0.0.0.0:9000?mode=listener"

[[sku]]
id = "tee-black"
name = "TEE / BLACK"
stock = 50

[[sku]]
id = "cap"
name = "CAP"
stock = 0
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "drop.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_config_loads(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.drop.title == "Night market"
    assert [(s.id, s.stock) for s in config.drop.skus] == [("tee-black", 50), ("cap", 0)]
    assert (config.drop.timer_seconds, config.drop.last_call_seconds) == (120, 15)
    assert (config.drop.low_at, config.drop.critical_at) == (8, 2)
    assert config.corner is Corner.TOP_RIGHT
    assert config.program.size == (1920, 1080) and config.program.fps == 60
    assert config.primary.kind is SourceKind.NETWORK
    assert not config.is_demo


def test_demo_drop_is_fifty_units_ninety_seconds_on_the_demo_source():
    config = demo_config()
    assert config.drop.skus[0].stock == 50
    assert config.drop.timer_seconds == 90
    assert config.primary.kind is SourceKind.DEMO


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (("stock = 50", "stock = -3"), "sku[1].stock", "≥ 0, got -3"),
        (('corner = "top-right"', 'corner = "middle"'), "overlay.corner", "must be one of"),
        (('size = "1920x1080"', 'size = "1921x1080"'), "program.size", "even"),
        (("fps = 60", "fps = 240"), "program.fps", "between 1 and 60"),
        (("timer_seconds = 120", "timr_seconds = 120"), "drop.timr_seconds", "did you mean 'timer_seconds'"),
        (('id = "cap"', 'id = "tee-black"'), "sku[2].id", "duplicate"),
        (('primary = "srt://0.0.0.0:9000?mode=listener"', 'primary = "webcam"'), "sources.primary", "not a spec"),
        (("critical_stock_at = 2", "critical_stock_at = 9"), "drop.critical_stock_at", "must not exceed"),
    ],
)
def test_bad_values_name_file_key_and_problem(tmp_path, change, key, problem):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert key in message
    assert problem in message


def test_broken_toml_says_where(tmp_path):
    path = write(tmp_path, GOOD.replace('title = "Night market"', 'title = "Night market'))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value) and "not valid TOML" in str(caught.value)
    assert "line" in str(caught.value)


def test_missing_file_and_missing_skus(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"\[\[sku\]\] table is required"):
        load_config(write(tmp_path, "[drop]\ntitle = 'x'\n"))


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    path = tmp_path / "drop.toml"
    path.write_text(
        "[drop]\ntimr_seconds = 5\nlow_stock_at = 'ten'\n[[sku]]\nid = 'a'\nname = 'A'\nstock = -1\n"
        "[program]\nfps = 0\n[overlay]\ncorner = 'middle'\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    keys = [p.split(": ")[1] for p in caught.value.problems]
    assert keys == ["drop.low_stock_at", "drop.timr_seconds", "sku[1].stock", "overlay.corner", "program.fps"]
    assert all(p.startswith(f"{path}: ") for p in caught.value.problems)


def test_keys_that_moved_to_recording_name_their_new_home(tmp_path):
    path = tmp_path / "drop.toml"
    path.write_text(
        "[[sku]]\nid = 'a'\nname = 'A'\nstock = 1\n"
        "[output]\nrecording_dir = 'rec'\ndisk_min_mb = 100\n[health]\ndisk_path = '.'\ndisk_warn_minutes = 60\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "output.recording_dir: has moved: write it as [recording] folder" in text
    assert "output.disk_min_mb: has moved: write it as [recording] min_free_mb" in text
    assert "health.disk_path: has moved: write it as [recording] folder" in text
    assert "health.disk_warn_minutes: has moved: write it as [recording] warn_minutes" in text


def test_one_recording_section_sets_the_disk_limits_health_judges_by(tmp_path):
    path = tmp_path / "drop.toml"
    path.write_text("[[sku]]\nid = 'a'\nname = 'A'\nstock = 1\n[recording]\nfolder = 'rec'\nwarn_minutes = 45\n")
    config = load_config(path)
    assert config.recording.folder == "rec" and config.recording.min_free_mb == 200
    assert config.health.thresholds.disk_warn_minutes == 45


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a text file"),
        (b"x = 1\n" * 300_000, "a drop file is at most 1 MB"),
        (b"[drop\ntitle = 1", "not valid TOML"),
    ],
    ids=["deep-nesting", "binary", "huge", "broken"],
)
def test_any_file_gives_a_sentence_never_a_traceback(tmp_path, content, words):
    path = tmp_path / "drop.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert words in str(caught.value) and str(path) in str(caught.value)
