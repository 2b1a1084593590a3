"""The pack's clips and thumbnails for the report, read from the pack's `manifest.json` (a file
contract: booth.program_out.pack writes it, the report only reads it; they never import each other).

The pack sits beside the recording the session log names (`recording` record, `program` path):
`booth.core.clip_plan.pack_folder`. No pack yet, or a manifest that cannot be read, is a sentence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from booth.core.clip_plan import pack_folder


@dataclass(frozen=True)
class PackClip:
    moment: str
    kind: str
    time_s: float | None
    stock_then: int | None
    file: Path
    thumbnail: Path | None
    duration_s: float | None
    preset: str


@dataclass(frozen=True)
class PackLinks:
    folder: Path
    clips: tuple[PackClip, ...] = ()
    note: str = ""  # why there is nothing to link ("" when the manifest was read)


def read_pack(recordings: dict[str, str]) -> PackLinks | None:
    """The pack of the session's program recording; None when the log names no recording."""
    program = recordings.get("program")
    if not program:
        return None
    folder = Path(pack_folder(Path(program)))
    manifest = folder / "manifest.json"
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return PackLinks(folder, note=f"No pack made yet (it would be in {folder}).")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return PackLinks(folder, note=f"The pack's manifest {manifest} cannot be read: {exc}.")
    rows = document.get("clips") if isinstance(document, dict) else None
    if not isinstance(rows, list):
        return PackLinks(folder, note=f"The pack's manifest {manifest} lists no clips.")
    clips = tuple(_clip(folder, row) for row in rows if isinstance(row, dict) and row.get("file"))
    return PackLinks(folder, clips)


def _clip(folder: Path, row: dict[str, Any]) -> PackClip:
    def number(key: str) -> float | None:
        value = row.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    stock = row.get("stock_then")
    thumbnail = str(row.get("thumbnail") or "")
    return PackClip(
        str(row.get("moment", "")), str(row.get("kind", "")), number("time_s"),
        stock if isinstance(stock, int) and not isinstance(stock, bool) else None,
        folder / Path(str(row["file"])).name, folder / Path(thumbnail).name if thumbnail else None,
        number("duration_s"), str(row.get("preset", "")),
    )  # fmt: skip
