"""Reading one TOML table of the drop file, collecting every problem instead of stopping at the first.

A host who fixes one typo should not discover the next one only on the next start: each accessor
records what is wrong (file, key, problem) and hands back the default, so parsing goes on and
`ConfigError` lists everything at once.
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 1024 * 1024  # a drop file is a few kB; anything this large is not one


class ConfigError(ValueError):
    """One or more problems in a config file; `str()` gives them one per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class Problems:
    """The problems found so far in one file."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.items: list[str] = []

    def add(self, key: str, problem: str) -> None:
        self.items.append(f"{self.where}: {key}: {problem}" if key else f"{self.where}: {problem}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


# Keys that moved to another table, and where they live now.
MovedKeys = Mapping[str, str]


class Table:
    """One table being read; remembers which keys were used so unknown ones are flagged."""

    def __init__(self, data: Any, problems: Problems, name: str, moved: MovedKeys | None = None) -> None:
        self.problems, self.name = problems, name
        self.moved = dict(moved or {})
        self.ok = isinstance(data, dict)
        if not self.ok:
            problems.add(name, f"must be a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data if self.ok else {}
        self.used: set[str] = set()

    @property
    def where(self) -> str:
        return self.problems.where

    def key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def problem(self, key: str, text: str) -> None:
        self.problems.add(self.key(key), text)

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        self.used.add(key)
        return self.data.get(key, default)

    def string(self, key: str, default: str | None = None) -> str:
        value = self.get(key, default)
        if value is None:
            self.problem(key, "is required")
            return ""
        if not isinstance(value, str):
            self.problem(key, f"must be text, got {_show(value)}")
            return default or ""
        return value

    def integer(self, key: str, default: int | None = None, minimum: int | None = None,
                maximum: int | None = None) -> int:  # fmt: skip
        value = self.get(key, default)
        fallback = default if default is not None else (minimum or 0)
        if value is None:
            self.problem(key, "is required")
            return fallback
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"must be a whole number, got {_show(value)}")
            return fallback
        if minimum is not None and value < minimum:
            self.problem(key, f"must be a whole number ≥ {minimum}, got {value}")
            return fallback
        if maximum is not None and value > maximum:
            self.problem(key, f"must be at most {maximum}, got {value}")
            return fallback
        return value

    def number(self, key: str, default: float, minimum: float, maximum: float) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(key, f"must be a number, got {_show(value)}")
            return float(default)
        if not minimum <= value <= maximum:
            self.problem(key, f"must be between {minimum:g} and {maximum:g}, got {value:g}")
            return float(default)
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false, got {_show(value)}")
            return default
        return value

    def table(self, key: str, moved: MovedKeys | None = None) -> Table:
        return Table(self.get(key, {}), self.problems, self.key(key), moved)

    def tables(self, key: str, example: str) -> list[Table]:
        """An array of tables (`[[sku]]`); each item read as its own table."""
        raw = self.get(key, [])
        if not isinstance(raw, list):
            self.problem(key, f"must be one or more {example} tables")
            return []
        return [Table(item, self.problems, f"{self.key(key)}[{i}]") for i, item in enumerate(raw, start=1)]

    def finish(self) -> None:
        """Flag keys nobody asked for: a typo, or a key that moved to another table."""
        for unknown in sorted(set(self.data) - self.used):
            if unknown in self.moved:
                self.problem(unknown, f"has moved: write it as {self.moved[unknown]}")
                continue
            hint = difflib.get_close_matches(unknown, self.used, n=1)
            suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.problem(unknown, f"unknown key{suffix}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{type(value).__name__} ({len(text)} characters)"


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict, or `ConfigError` saying in words why it can't be read (see below)."""
    return read_toml_hashed(path)[0]


def read_toml_hashed(path: Path) -> tuple[dict[str, Any], str]:
    """The file's TOML as a dict and the SHA-256 of the very bytes read, or `ConfigError` saying in
    words why it can't be read.

    Any input is safe here: a missing file, a directory, binary junk, a huge file, or nesting deep
    enough to exhaust Python's recursion limit (tomllib is recursive) all become one sentence.
    """
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError([f"{where}: is {size / 1024 / 1024:.1f} MB; a drop file is at most 1 MB"])
        data = path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{where}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{where}: is a folder, not a drop file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{where}: not a text file (byte {exc.start} is not UTF-8)"]) from None
    except OSError as exc:
        raise ConfigError([f"{where}: cannot read it ({exc.strerror or exc})"]) from None
    try:
        return tomllib.loads(text), hashlib.sha256(data).hexdigest()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{where}: not a usable drop file: its tables or arrays are nested too deeply"]) from None
    except MemoryError:
        raise ConfigError([f"{where}: not a usable drop file: too large to read"]) from None
