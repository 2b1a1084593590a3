"""The drop config: a TOML file read once into frozen dataclasses.

Every validation error names the file, the key and the problem, e.g.
``drop.toml: sku[2].stock: must be a whole number ≥ 0, got -3``.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from booth.core.drop import DropSpec, Sku
from booth.core.failover import FailoverSettings
from booth.core.health.settings import HealthConfig, parse_health
from booth.core.output import OutputConfig, parse_output  # [output]: ingests, recording, clips (issue 4)
from booth.core.overlay import Corner
from booth.core.source_spec import SourceSpec, SpecError, parse_source_spec

SCHEMA_VERSION = 1
MAX_PROGRAM_SIZE = (3840, 2160)


class ConfigError(ValueError):
    def __init__(self, where: str, key: str, problem: str) -> None:
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")
        self.where, self.key, self.problem = where, key, problem


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
    output: OutputConfig = field(default_factory=OutputConfig)  # [output]: ingests, recording, clips
    slate_text: str = "Back in a moment"  # shown, under the overlay, when no source has pictures
    slate_image: Path | None = None
    failover: FailoverSettings = field(default_factory=FailoverSettings)

    @property
    def is_demo(self) -> bool:
        return self.path is None


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


class _Table:
    """One TOML table being read; remembers which keys were used to flag unknown ones."""

    def __init__(self, data: Any, where: str, name: str) -> None:
        self.where, self.name = where, name
        if not isinstance(data, dict):
            raise ConfigError(where, name, f"must be a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.where, self.key(key), problem)

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.data.get(key, default)

    def string(self, key: str, default: str | None = None) -> str:
        value = self.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if not isinstance(value, str):
            raise self.fail(key, f"must be text, got {value!r}")
        return value

    def integer(self, key: str, default: int | None = None, minimum: int | None = None) -> int:
        value = self.get(key, default)
        if value is None:
            raise self.fail(key, "is required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be a whole number ≥ {minimum}, got {value}")
        return value

    def number(self, key: str, default: float, minimum: float, maximum: float) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, got {value!r}")
        if not minimum <= value <= maximum:
            raise self.fail(key, f"must be between {minimum:g} and {maximum:g}, got {value:g}")
        return float(value)

    def table(self, key: str) -> _Table:
        return _Table(self.get(key, {}), self.where, self.key(key))

    def finish(self) -> None:
        for unknown in sorted(set(self.data) - self.used):
            hint = difflib.get_close_matches(unknown, self.used, n=1)
            suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise self.fail(unknown, f"unknown key{suffix}")


def load_config(path: Path) -> BoothConfig:
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(where, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, "", f"cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, "", f"not valid TOML: {exc}") from None
    return parse_config(raw, where, path)


def parse_config(raw: dict[str, Any], where: str, path: Path | None = None) -> BoothConfig:
    root = _Table(raw, where, "")
    version = root.integer("schema", SCHEMA_VERSION, minimum=1)
    if version > SCHEMA_VERSION:
        raise root.fail("schema", f"this Booth reads schema {SCHEMA_VERSION}; the file is {version}")

    drop_t = root.table("drop")
    title = drop_t.string("title", "Drop")
    timer_s = drop_t.number("timer_seconds", 90, 1, 24 * 3600)
    last_call = drop_t.number("last_call_seconds", 10, 0, timer_s)
    low_at = drop_t.integer("low_stock_at", 10, minimum=0)
    critical_at = drop_t.integer("critical_stock_at", 3, minimum=0)
    if critical_at > low_at:
        raise drop_t.fail("critical_stock_at", f"must not exceed low_stock_at ({low_at}), got {critical_at}")
    drop_t.finish()

    skus = _parse_skus(root.get("sku"), where)
    drop = DropSpec(title, skus, timer_s, last_call, low_at, critical_at)

    overlay_t = root.table("overlay")
    corner_text = overlay_t.string("corner", Corner.BOTTOM_LEFT.value)
    try:
        corner = Corner(corner_text)
    except ValueError:
        choices = ", ".join(c.value for c in Corner)
        raise overlay_t.fail("corner", f"must be one of {choices}, got {corner_text!r}") from None
    overlay_t.finish()

    program_t = root.table("program")
    try:
        width, height = parse_size(program_t.string("size", "1280x720"))
    except ValueError as exc:
        raise program_t.fail("size", str(exc)) from None
    fps = program_t.number("fps", 30, 1, 60)
    program_t.finish()

    sources_t = root.table("sources")
    primary = _source(sources_t, "primary", "demo:")
    secondary_text = sources_t.string("secondary", "")
    secondary = _source(sources_t, "secondary", None) if secondary_text else None
    if secondary is not None and secondary.raw == primary.raw:
        raise sources_t.fail("secondary", "is the same source as the primary; a backup must be another camera or feed")
    slate_text = sources_t.string("slate_text", "Back in a moment")
    slate_image_text = sources_t.string("slate_image", "")
    slate_image = None
    if slate_image_text:
        slate_image = (path.parent if path else Path.cwd()) / Path(slate_image_text).expanduser()
        if not slate_image.is_file():
            raise sources_t.fail("slate_image", f"file not found: {slate_image}")
    sources_t.finish()

    failover = _parse_failover(root.table("failover"))

    health = parse_health(root.table("health"))
    output = parse_output(root.table("output"))  # issue 4

    root.finish()
    return BoothConfig(
        drop, corner, ProgramConfig(width, height, fps), primary, secondary, path, health,
        slate_text=slate_text, slate_image=slate_image, failover=failover, output=output,
    )  # fmt: skip


def _parse_failover(t: _Table) -> FailoverSettings:
    defaults = FailoverSettings()
    settings = FailoverSettings(
        stall_frames=t.number("stall_frames", defaults.stall_frames, 2, 120),
        frozen_window_s=t.number("frozen_seconds", defaults.frozen_window_s, 0.3, 10),
        trickle_ratio=t.number("trickle_ratio", defaults.trickle_ratio, 0.05, 0.95),
        dwell_s=t.number("return_after_seconds", defaults.dwell_s, 0, 600),
    )
    t.finish()
    return settings


def _source(table: _Table, key: str, default: str | None) -> SourceSpec:
    try:
        return parse_source_spec(table.string(key, default))
    except SpecError as exc:
        raise table.fail(key, str(exc)) from None


def _parse_skus(raw: Any, where: str) -> tuple[Sku, ...]:
    if raw is None:
        raise ConfigError(where, "sku", "at least one [[sku]] table is required")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(where, "sku", "must be one or more [[sku]] tables")
    skus: list[Sku] = []
    for index, item in enumerate(raw, start=1):
        t = _Table(item, where, f"sku[{index}]")
        sku = Sku(t.string("id"), t.string("name"), t.integer("stock", minimum=0))
        t.finish()
        if any(s.id == sku.id for s in skus):
            raise t.fail("id", f"duplicate product id {sku.id!r}")
        skus.append(sku)
    return tuple(skus)


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
