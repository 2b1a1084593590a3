"""After the drop: a pack folder with one clip per marked moment, a thumbnail each, a 60–90 s recap
stitched from the moments, and a manifest (CSV and JSON) saying what each file is.

```
session log (moments, drop events) ──moments_from_log──► PackMoment (kind, time in the recording, stock then)
recording.ts ─┐
              └─► make_pack ──► ExportQueue (the same low-priority worker as live clips) ──► pack folder
                                  01-first-sale.mp4 + .jpg, 02-…, recap.mp4 + .jpg, manifest.csv, manifest.json
```

Why here (program_out) and not in reports: the pack cuts the recording that program out wrote and
runs through program out's export worker, so a pack made while a later burst is live never costs
it frames. Reports only read the manifest (a file contract: `manifest.json`), never this module.

Time: a moment's ``stream_s`` in the session log is seconds since program out started, and the
recording starts with program out, so it is the time in the recording; `recording_offset_s` is
the one place to change if a recording ever starts later than its output.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from booth.core.clip_plan import MomentKind, clip_window, moment_kind, plan_recap
from booth.core.clip_presets import Framing, Rect, find_preset, overlay_extent
from booth.core.clock import ManualClock
from booth.core.drop import Drop
from booth.core.event_kinds import EVENT_TYPES, event_from_dict
from booth.core.overlay import WHITE, Corner, OverlayModel
from booth.devices.clip_export import ExportError, probe_video
from booth.program_out.export import ExportQueue, ExportRequest, ExportSource, ExportStatus, JobState
from booth.program_out.ts_window import TsWindowError, read_ts_window
from booth.store import kinds
from booth.store.reader import EventRow, SessionRow
from booth.store.recovery import spec_from_snapshot

log = logging.getLogger(__name__)

MANIFEST_FIELDS = ("moment", "kind", "time_s", "clock", "stock_then", "file", "thumbnail", "duration_s", "preset")


@dataclass(frozen=True)
class PackMoment:
    index: int
    reason: str  # as logged ("TEE / BLACK low stock: 10 left")
    kind: MomentKind
    at_s: float  # seconds into the recording
    wall: float  # when it happened
    stock_then: int | None  # units left of the moment's product then (of all products when it names none)
    sku: str | None = None


def moments_from_log(
    session: SessionRow, events: Sequence[EventRow], recording_offset_s: float = 0.0
) -> list[PackMoment]:
    """The session's marked moments, each with the stock at that instant (the same fold as the
    overlay: drop events up to the moment, in log order)."""
    spec = spec_from_snapshot(session.config)
    clock = ManualClock()
    drop = Drop(spec, clock)
    names = sorted(((sku.name.lower(), sku.id) for sku in spec.skus), key=lambda pair: -len(pair[0]))
    moments: list[PackMoment] = []
    for row in events:
        if row.kind in EVENT_TYPES:
            event = event_from_dict(row.payload)
            clock.wall_time = clock.mono = event.at_wall
            drop.apply(event)
            continue
        if row.kind != kinds.MOMENT:
            continue
        payload = row.payload
        reason = str(payload.get("reason", "moment"))
        stream_s = payload.get("stream_s")
        if not isinstance(stream_s, int | float):
            log.warning("moment %s has no stream time; left out of the pack", payload.get("index"))
            continue
        sku = next((sku_id for name, sku_id in names if reason.lower().startswith(name)), None)
        stock = drop.stock[sku] if sku is not None else sum(drop.stock.values())
        index = payload.get("index")
        moments.append(PackMoment(int(index) if isinstance(index, int) else len(moments), reason, moment_kind(reason),
                                  max(0.0, float(stream_s) - recording_offset_s), row.wall, stock, sku))  # fmt: skip
    return moments


def overlay_places(session: SessionRow, frame_w: int, frame_h: int) -> Rect | None:
    """Every place the burned-in plate could have had in this session's program (each product at its
    widest count, every timer label), for the crop's lift: the pack does not know each frame's text."""
    spec = spec_from_snapshot(session.config)
    try:
        corner = Corner(str(session.config.get("corner", Corner.BOTTOM_LEFT.value)))
    except ValueError:
        corner = Corner.BOTTOM_LEFT
    labels = ("STARTS SOON", "LIVE", "LAST CALL", "OFFER ENDED", "SOLD OUT")
    models = [OverlayModel(sku.name, text, WHITE, "00:00", label, WHITE, corner)
              for sku in spec.skus for text in (f"{sku.stock} LEFT", "SOLD OUT") for label in labels]  # fmt: skip
    return overlay_extent(frame_w, frame_h, models)


@dataclass(frozen=True)
class PackRow:
    moment: str
    kind: str
    time_s: float
    clock: str
    stock_then: int | None
    file: str
    thumbnail: str
    duration_s: float
    preset: str


@dataclass
class PackResult:
    folder: Path
    rows: list[PackRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one sentence per clip that could not be made
    manifest_csv: Path | None = None
    manifest_json: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "moment"


def _clock(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall))


def make_pack(
    moments: Sequence[PackMoment],
    recording: Path,
    folder: Path,
    queue: ExportQueue,
    *,
    preset: str = "tiktok",
    framing: Framing = Framing.CROP,
    overlay: Rect | None = None,
    clip_s: float = 15.0,
    on_progress: Callable[[int, int, ExportStatus], None] | None = None,
    cancel: threading.Event | None = None,
    timeout_s: float = 3600.0,
) -> PackResult:
    """Blocks until every clip is made (call it off the GUI thread). `overlay`: the burned-in
    plate in the program frame (for the crop framing's lift); `queue` must be running."""
    result = PackResult(folder)
    clip_preset = find_preset(preset)
    try:
        info = probe_video(recording)
        recording_s = read_ts_window(recording, 0.0, 0.0).file_s
    except (ExportError, TsWindowError) as exc:
        result.problems.append(f"The pack needs the recording: {exc}.")
        return result
    folder.mkdir(parents=True, exist_ok=True)

    def request(source: ExportSource, name: str, label: str, thumbnail_at_s: float) -> ExportRequest:
        return ExportRequest(source, folder, name, preset=clip_preset.key, framing=framing,
                             frame_size=(info.width, info.height), fps=info.fps, overlay=overlay,
                             thumbnail_at_s=thumbnail_at_s, label=label)  # fmt: skip

    plans: list[tuple[PackMoment | None, ExportRequest]] = []
    for number, moment in enumerate(sorted(moments, key=lambda m: m.at_s), start=1):
        if moment.at_s > recording_s + 0.5:
            result.problems.append(f"Moment {moment.reason!r} at {moment.at_s:.0f} s is after the recording's end.")
            continue
        span = clip_window(moment.at_s, clip_s, recording_s)
        source = ExportSource(span.start_s, span.duration_s, path=recording)
        plans.append((moment, request(source, f"{number:02d}-{_slug(moment.reason)}", moment.reason,
                                      moment.at_s - span.start_s)))  # fmt: skip
    recap = plan_recap([m.at_s for m in moments], recording_s)
    if recap:
        source = ExportSource.joined(recording, tuple((s.start_s, s.duration_s) for s in recap))
        plans.append((None, request(source, "recap", "recap", 1.0)))
    jobs = [(moment, plan, queue.submit(plan)) for moment, plan in plans]
    deadline = time.monotonic() + timeout_s
    for done, (moment, plan, job) in enumerate(jobs, start=1):
        while not job.future.done():
            if (cancel is not None and cancel.is_set()) or time.monotonic() > deadline:
                for _, _, other in jobs:
                    queue.cancel(other.id)
            with contextlib.suppress(TimeoutError):
                job.future.result(0.25)
        status = job.future.result()
        if on_progress is not None:
            on_progress(done, len(jobs), status)
        if status.state is not JobState.DONE or status.path is None:
            result.problems.append(f"{plan.label}: {status.message}")
            continue
        result.rows.append(PackRow(
            moment=moment.reason if moment else "recap",
            kind=moment.kind.value if moment else "recap",
            time_s=round(moment.at_s if moment else plan.source.start_s, 2),
            clock=_clock(moment.wall) if moment else "",
            stock_then=moment.stock_then if moment else None,
            file=status.path.name,
            thumbnail=status.thumbnail.name if status.thumbnail else "",
            duration_s=round(plan.source.duration_s, 2),
            preset=clip_preset.key,
        ))  # fmt: skip
    _write_manifest(result, recording, clip_preset.key, framing)
    return result


def _write_manifest(result: PackResult, recording: Path, preset: str, framing: Framing) -> None:
    csv_path, json_path = result.folder / "manifest.csv", result.folder / "manifest.json"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        for row in result.rows:
            writer.writerow({k: ("" if v is None else v) for k, v in asdict(row).items()})
    document = {
        "recording": recording.name,
        "preset": preset,
        "framing": framing.value,
        "made": _clock(time.time()),
        "clips": [asdict(row) for row in result.rows],
        "problems": result.problems,
    }
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    result.manifest_csv, result.manifest_json = csv_path, json_path
