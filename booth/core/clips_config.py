"""The `[clips]` section: what the vertical-clip key (Shift+C) makes, and whether the clean feed runs.

```toml
[clips]
enabled = true          # the 9:16 export worker; false = only the plain 16:9 clip key (C)
preset = "tiktok"       # tiktok, reels, shorts (1080×1920) or their -720 variants for a weak machine
framing = "crop"        # crop (a 9:16 window, the counter lifted into the safe zone), blur or solid
focus = 0.5             # crop: where the window is centred, 0 = left edge … 1 = right edge
caption = ""            # the hook line burned into every clip ("" = none)
clean = false           # also encode the program without the overlay (≈ 13 % of one core) for clean clips
seconds = 30            # Shift+C exports the last this many seconds (3–90)
```
"""

from __future__ import annotations

from dataclasses import dataclass

from booth.core.clip_presets import Aspect, Framing, PresetError, find_preset
from booth.core.config_table import Table

VERTICAL_FRAMINGS = (Framing.CROP, Framing.BLUR, Framing.SOLID)
MAX_CAPTION = 200  # characters: three wrapped lines at most are drawn anyway


@dataclass(frozen=True)
class ClipsConfig:
    enabled: bool = True
    preset: str = "tiktok"
    framing: Framing = Framing.CROP
    focus: float = 0.5
    caption: str = ""
    clean: bool = False
    seconds: float = 30.0


def parse_clips(table: Table, replay_s: float = 90.0) -> ClipsConfig:
    """`replay_s`: the [output] replay buffer's length — a clip of the last N seconds needs N of it."""
    d = ClipsConfig()
    enabled = table.boolean("enabled", d.enabled)
    preset = table.string("preset", d.preset).strip().lower()
    try:
        if find_preset(preset).aspect is not Aspect.VERTICAL:
            table.problem("preset", f"must be a 9:16 preset (tiktok, reels, shorts, …), got {preset!r}")
            preset = d.preset
    except PresetError as exc:
        table.problem("preset", str(exc))
        preset = d.preset
    framing_text = table.string("framing", d.framing.value).strip().lower()
    framing = d.framing
    if framing_text in {f.value for f in VERTICAL_FRAMINGS}:
        framing = Framing(framing_text)
    else:
        choices = ", ".join(f.value for f in VERTICAL_FRAMINGS)
        table.problem("framing", f"must be one of {choices}, got {framing_text!r}")
    focus = table.number("focus", d.focus, 0.0, 1.0)
    caption = table.string("caption", d.caption).strip()
    if len(caption) > MAX_CAPTION:
        table.problem("caption", f"must be at most {MAX_CAPTION} characters, got {len(caption)}")
        caption = caption[:MAX_CAPTION]
    clean = table.boolean("clean", d.clean)
    seconds = table.number("seconds", d.seconds, 3.0, 90.0)
    if seconds > replay_s:
        table.problem("seconds", f"must not exceed [output] replay_seconds ({replay_s:g}), got {seconds:g}")
        seconds = min(d.seconds, replay_s)
    table.finish()
    return ClipsConfig(enabled, preset, framing, focus, caption, clean, seconds)
