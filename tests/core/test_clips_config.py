"""The [clips] section: what Shift+C makes and whether the clean feed runs; every bad value named at once."""

from __future__ import annotations

import pytest

from booth.core.clip_presets import Framing
from booth.core.config import ConfigError, parse_config

BASE = {"sku": [{"id": "tee", "name": "TEE", "stock": 5}]}


def test_clips_defaults_and_a_full_section():
    assert parse_config(BASE, "d.toml").clips.clean is False  # the clean encode costs CPU: only when asked
    clips = parse_config({**BASE, "clips": {"preset": "Reels-720", "framing": "blur", "focus": 0.3, "clean": True,
                                            "caption": "  Last call!  ", "seconds": 20}}, "d.toml").clips  # fmt: skip
    assert (clips.preset, clips.framing, clips.focus, clips.clean, clips.caption, clips.seconds) == (
        "reels-720", Framing.BLUR, 0.3, True, "Last call!", 20.0)


def test_every_clips_problem_is_named_at_once():
    with pytest.raises(ConfigError) as caught:
        parse_config({**BASE, "output": {"replay_seconds": 40}, "clips": {
            "preset": "landscape", "framing": "zoom", "focus": 2, "clean": "yes", "seconds": 60, "captoin": "x",
        }}, "d.toml")  # fmt: skip
    problems = "\n".join(caught.value.problems)
    assert "clips.preset: must be a 9:16 preset" in problems
    assert "clips.framing: must be one of crop, blur, solid, got 'zoom'" in problems
    assert "clips.focus: must be between 0 and 1" in problems
    assert "clips.clean: must be true or false" in problems
    assert "clips.seconds: must not exceed [output] replay_seconds (40)" in problems
    assert "clips.captoin: unknown key (did you mean 'caption'?)" in problems
