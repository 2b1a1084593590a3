"""The [timing] section: a read-back URL, the time code it needs, the delay to assume; bad values named."""

from __future__ import annotations

import pytest

from booth.core.config import ConfigError, parse_config
from booth.core.timing import readback_label

BASE = {"sku": [{"id": "tee", "name": "TEE", "stock": 5}]}


def test_a_read_back_turns_the_time_code_on_and_its_stream_key_is_masked():
    config = parse_config({**BASE, "timing": {"readback": "http://127.0.0.1:8080/hls/sk_live_abcdef123.m3u8",
                                              "viewer_delay_seconds": 4}}, "d.toml")  # fmt: skip
    timing = config.timing
    assert timing.timecode and timing.viewer_delay_s == 4.0 and timing.honest_scarcity
    assert "sk_live_abcdef123" not in timing.readback_label and timing.readback_label.endswith(".m3u8")
    assert "sk_live_0123" not in readback_label("rtmp://127.0.0.1:1935/live/sk_live_0123456789")


def test_without_a_timing_section_nothing_changes_on_the_program():
    timing = parse_config(BASE, "d.toml").timing
    assert (timing.readback, timing.timecode, timing.viewer_delay_s) == ("", False, 0.0)


def test_every_timing_problem_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        parse_config({**BASE, "timing": {"readback": "ftp://example/x", "viewer_delay_seconds": -1,
                                         "honest_scarcity": "yes", "delay": 3}}, "d.toml")  # fmt: skip
    problems = "\n".join(caught.value.problems)
    assert "timing.readback: must be an rtmp://, http:// or https:// URL" in problems
    assert "timing.viewer_delay_seconds: must be between 0 and 60" in problems
    assert "timing.honest_scarcity: must be true or false" in problems
    assert "timing.delay: unknown key" in problems


def test_a_read_back_without_the_time_code_is_refused():
    with pytest.raises(ConfigError, match="a read-back needs the program time code"):
        parse_config({**BASE, "timing": {"readback": "rtmp://127.0.0.1/live/x", "timecode": False}}, "d.toml")
