"""The drop config: a TOML file read once into frozen dataclasses.

Every problem names the file, the key and what is wrong, e.g.
``drop.toml: sku[2].stock: must be a whole number ≥ 0, got -3``, and all of them are reported at
once (`ConfigError.problems`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from booth.core.clips_config import ClipsConfig, parse_clips
from booth.core.config_table import ConfigError, Problems, Table, read_toml_hashed

__all__ = ["BoothConfig", "ConfigError", "ProgramConfig", "demo_config", "load_config", "parse_config"]
from booth.core.drop import DropSpec, Sku
from booth.core.failover import FailoverSettings
from booth.core.health.settings import HealthConfig, parse_health
from booth.core.output import OutputConfig, parse_output
from booth.core.overlay import Corner
from booth.core.plan import parse_plan
from booth.core.recording import RecordingConfig, parse_recording
from booth.core.shop.settings import ShopSettings, parse_shop
from booth.core.source_spec import SourceSpec, SpecError, parse_source_spec
from booth.core.timing import TimingConfig, parse_timing

SCHEMA_VERSION = 1
MAX_PROGRAM_SIZE = (3840, 2160)


@dataclass(frozen=True)
class ProgramConfig:
    width: int = 1280
    height: int = 720
    fps: float = 30.0

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


@dataclass(frozen=True)
class BoothConfig:
    drop: DropSpec
    corner: Corner = Corner.BOTTOM_LEFT
    program: ProgramConfig = field(default_factory=ProgramConfig)
    primary: SourceSpec = field(default_factory=lambda: parse_source_spec("demo:"))
    secondary: SourceSpec | None = None
    path: Path | None = None  # where it was read from; None for the demo drop
    health: HealthConfig = field(default_factory=HealthConfig)  # [health]: probes, thresholds, mic
    output: OutputConfig = field(default_factory=OutputConfig)  # [output]: ingests, encoding, clips
    recording: RecordingConfig = field(default_factory=RecordingConfig)  # [recording]: folder and disk limits
    slate_text: str = "Back in a moment"  # shown, under the overlay, when no source has pictures
    slate_image: Path | None = None
    failover: FailoverSettings = field(default_factory=FailoverSettings)
    timing: TimingConfig = field(default_factory=TimingConfig)  # [timing]: read-back, viewer delay, time code
    file_sha256: str = ""  # the drop file's bytes, hashed: the go-live gate counts rehearsals of this very file
    shop: ShopSettings | None = None  # [shop]: the Shopify store the drop sells from (None: no shop)
    clips: ClipsConfig = field(default_factory=ClipsConfig)  # [clips]: the 9:16 clip key, the clean feed

    @property
    def is_demo(self) -> bool:
        return self.path is None

    @property
    def recording_bytes_per_s(self) -> float:
        """Disk per second while recording: the program, and the clean recording when the clean feed runs."""
        return self.output.recording_bytes_per_s(self.clips.enabled and self.clips.clean)


def demo_config() -> BoothConfig:
    """The drop Booth runs when nothing is configured: 50 units, 90 s, demo source."""
    drop = DropSpec(title="Demo drop", skus=(Sku("demo-tee", "DEMO TEE / BLACK", 50),))
    return BoothConfig(drop=drop)


def load_config_or_demo(path: Path | None) -> BoothConfig:
    """The drop file when one is given, else the demo drop; raises ConfigError for a bad file."""
    return load_config(path) if path is not None else demo_config()


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' → (1280, 720); raises ValueError with the reason."""
    w_text, sep, h_text = text.lower().partition("x")
    if not sep or not w_text.isdigit() or not h_text.isdigit():
        raise ValueError(f"must look like 1280x720, got {text!r}")
    w, h = int(w_text), int(h_text)
    if not (160 <= w <= MAX_PROGRAM_SIZE[0] and 90 <= h <= MAX_PROGRAM_SIZE[1]):
        raise ValueError(f"must be between 160x90 and {MAX_PROGRAM_SIZE[0]}x{MAX_PROGRAM_SIZE[1]}, got {text!r}")
    if w % 2 or h % 2:
        raise ValueError(f"width and height must be even (video encoders need it), got {text!r}")
    return w, h


def load_config(path: Path) -> BoothConfig:
    """The drop file at `path`; `ConfigError` lists every problem in it at once."""
    raw, digest = read_toml_hashed(path)
    return replace(parse_config(raw, str(path), path), file_sha256=digest)


def parse_config(raw: dict[str, Any], where: str, path: Path | None = None) -> BoothConfig:
    problems = Problems(where)
    root = Table(raw, problems, "")
    version = root.integer("schema", SCHEMA_VERSION, minimum=1)
    if version > SCHEMA_VERSION:
        root.problem("schema", f"this Booth reads schema {SCHEMA_VERSION}; the file is {version}")

    drop_t = root.table("drop")
    title = drop_t.string("title", "Drop")
    timer_s = drop_t.number("timer_seconds", 90, 1, 24 * 3600)
    last_call = drop_t.number("last_call_seconds", 10, 0, timer_s)
    low_at = drop_t.integer("low_stock_at", 10, minimum=0)
    critical_at = drop_t.integer("critical_stock_at", 3, minimum=0)
    if critical_at > low_at:
        drop_t.problem("critical_stock_at", f"must not exceed low_stock_at ({low_at}), got {critical_at}")
        critical_at = low_at
    pre_sale = drop_t.boolean("pre_sale", False)
    drop_t.finish()

    skus = _parse_skus(root)
    shop = parse_shop(root.table("shop"), {s.id: s.stock for s in skus}, path.parent if path else None)
    shop_skus: tuple[str, ...] = ()
    if shop is not None:  # a shop product's stock is this offer's quota of the shop's stock
        quotas = {s.sku_id: s.quota for s in shop.skus}
        skus = tuple(replace(s, stock=quotas[s.id]) if s.id in quotas else s for s in skus)
        shop_skus = tuple(quotas)
    plan = parse_plan(root.table("plan"), {s.id: s.stock for s in skus})  # a shop product: within its quota
    if plan is not None and pre_sale:
        drop_t.problem("pre_sale", "a drop with a [plan] sells only while a segment runs; remove pre_sale")
    drop = DropSpec(title, skus, timer_s, last_call, low_at, critical_at, pre_sale=pre_sale, plan=plan,
                    shop_skus=shop_skus)

    overlay_t = root.table("overlay")
    corner_text = overlay_t.string("corner", Corner.BOTTOM_LEFT.value)
    try:
        corner = Corner(corner_text)
    except ValueError:
        choices = ", ".join(c.value for c in Corner)
        overlay_t.problem("corner", f"must be one of {choices}, got {corner_text!r}")
        corner = Corner.BOTTOM_LEFT
    overlay_t.finish()

    program_t = root.table("program")
    width, height = 1280, 720
    try:
        width, height = parse_size(program_t.string("size", "1280x720"))
    except ValueError as exc:
        program_t.problem("size", str(exc))
    fps = program_t.number("fps", 30, 1, 60)
    program_t.finish()

    sources_t = root.table("sources")
    primary = _source(sources_t, "primary", "demo:")
    secondary_text = sources_t.string("secondary", "")
    secondary = _source(sources_t, "secondary", None) if secondary_text else None
    if secondary is not None and secondary.raw == primary.raw:
        sources_t.problem("secondary", "is the same source as the primary; a backup must be another camera or feed")
    slate_text = sources_t.string("slate_text", "Back in a moment")
    slate_image_text = sources_t.string("slate_image", "")
    slate_image = None
    if slate_image_text:
        slate_image = (path.parent if path else Path.cwd()) / Path(slate_image_text).expanduser()
        if not slate_image.is_file():
            sources_t.problem("slate_image", f"file not found: {slate_image}")
            slate_image = None
    sources_t.finish()

    failover = _parse_failover(root.table("failover"))
    health = parse_health(root.table("health", moved=MOVED_FROM_HEALTH))
    output = parse_output(root.table("output", moved=MOVED_FROM_OUTPUT))
    recording = parse_recording(root.table("recording"))
    timing = parse_timing(root.table("timing"))
    clips = parse_clips(root.table("clips"), output.replay_s)
    # One set of disk limits: rig health judges free space with [recording]'s minutes.
    health = replace(health, thresholds=replace(
        health.thresholds, disk_warn_minutes=recording.warn_minutes, disk_critical_minutes=recording.critical_minutes,
    ))  # fmt: skip

    root.finish()
    problems.raise_if_any()
    return BoothConfig(
        drop, corner, ProgramConfig(width, height, fps), primary, secondary, path, health,
        slate_text=slate_text, slate_image=slate_image, failover=failover, output=output, recording=recording,
        timing=timing,
        shop=shop, clips=clips,
    )  # fmt: skip


# Keys that lived elsewhere before the one [recording] section (a file written for an older Booth).
MOVED_FROM_OUTPUT = {
    "recording_dir": "[recording] folder",
    "disk_warn_minutes": "[recording] warn_minutes",
    "disk_min_mb": "[recording] min_free_mb",
}
MOVED_FROM_HEALTH = {
    "disk_path": "[recording] folder (free space is judged where the recordings go)",
    "record_bitrate_kbps": "[output] bitrate_kbps (the recording is the encoded program)",
    "output_bitrate_kbps": "[output] bitrate_kbps",
    "disk_warn_minutes": "[recording] warn_minutes",
}


def _parse_failover(t: Table) -> FailoverSettings:
    defaults = FailoverSettings()
    settings = FailoverSettings(
        stall_frames=t.number("stall_frames", defaults.stall_frames, 2, 120),
        frozen_window_s=t.number("frozen_seconds", defaults.frozen_window_s, 0.3, 10),
        trickle_ratio=t.number("trickle_ratio", defaults.trickle_ratio, 0.05, 0.95),
        dwell_s=t.number("return_after_seconds", defaults.dwell_s, 0, 600),
    )
    t.finish()
    return settings


def _source(table: Table, key: str, default: str | None) -> SourceSpec:
    text = table.string(key, default)
    try:
        return parse_source_spec(text)
    except SpecError as exc:
        table.problem(key, str(exc))
        return parse_source_spec("demo:")


def _parse_skus(root: Table) -> tuple[Sku, ...]:
    if not root.has("sku"):
        root.problem("sku", "at least one [[sku]] table is required")
        return (Sku("sku", "SKU", 0),)
    tables = root.tables("sku", "[[sku]]")
    if not tables and isinstance(root.data.get("sku"), list):
        root.problem("sku", "at least one [[sku]] table is required")
    skus: list[Sku] = []
    for t in tables:
        sku = Sku(t.string("id"), t.string("name"), t.integer("stock", minimum=0))
        t.finish()
        if sku.id and any(s.id == sku.id for s in skus):
            t.problem("id", f"duplicate product id {sku.id!r}")
            continue
        skus.append(sku)
    return tuple(skus) or (Sku("sku", "SKU", 0),)


def with_overrides(
    config: BoothConfig,
    source: SourceSpec | None = None,
    size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> BoothConfig:
    """Apply command-line overrides on top of a file or the demo drop."""
    program = config.program
    if size is not None:
        program = replace(program, width=size[0], height=size[1])
    if fps is not None:
        program = replace(program, fps=fps)
    return replace(config, program=program, primary=source or config.primary)
