"""The run of show: a drop planned as segments on the wall clock (a teaser, three 15-minute bursts
over 48 hours, a recap…), each with its length, its quota per product and what happens to unsold
quota. Pure: parsing, and where the show stands at a given wall time; time is passed in.

```toml
[plan]
time_zone = "Europe/Berlin"      # the plan's clock (IANA name); starts are read in it
rehearsals = 2                   # full rehearsals the go-live gate asks for (every drill passed)
codes_sheet = "codes.pdf"        # optional: the sticker-code sheet (`booth codes`), relative to the drop file

[[plan.segment]]
name = "HEADLINE BURST"
kind = "burst"                   # teaser | burst | community | recap | other
start = "2026-12-05 19:00"       # wall clock in time_zone
minutes = 15
hard_start = false               # true: starts by itself at `start`; false: armed, starts on the host's key
last_call_seconds = 60
carry_over = true                # unsold quota moves to the next selling segment
quota = { tee-black = 20, cap-red = 10 }
link = "https://night-market.example/drop"   # optional: the ticketing link shown for it (the gate checks it)
```

A segment without `quota` sells nothing (a teaser, a recap). The carried quota of a product is what
was left unsold when the segment before ended, if that segment carries over.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from booth.core.config_table import Table

START_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
ARM_BEFORE_S = 3600.0  # the next segment shows as armed this long before its planned start
REHEARSAL_GAP_S = 30.0  # a rehearsal runs the segments back to back, this far apart


class SegmentKind(StrEnum):
    TEASER = "teaser"
    BURST = "burst"
    COMMUNITY = "community"
    RECAP = "recap"
    OTHER = "other"


@dataclass(frozen=True)
class Segment:
    index: int
    name: str
    kind: SegmentKind
    start_wall: float  # planned start, epoch seconds
    length_s: float
    quota: Mapping[str, int] = field(default_factory=dict)  # sku id → units this segment may sell
    hard_start: bool = False
    last_call_s: float = 10.0
    carry_over: bool = True
    link: str = ""  # the segment's ticketing / product link (the go-live gate checks it answers)

    @property
    def end_wall(self) -> float:
        return self.start_wall + self.length_s

    @property
    def sells(self) -> bool:
        return any(units > 0 for units in self.quota.values())


@dataclass(frozen=True)
class Plan:
    segments: tuple[Segment, ...]
    time_zone: str = "UTC"
    rehearsals: int = 2
    codes_sheet: str = ""  # the sticker-code sheet printed for this drop (path; the gate checks it is there)

    def segment(self, index: int) -> Segment:
        return self.segments[index]

    @property
    def start_wall(self) -> float:
        return self.segments[0].start_wall

    @property
    def end_wall(self) -> float:
        return max(s.end_wall for s in self.segments)

    def local(self, wall: float) -> datetime:
        return datetime.fromtimestamp(wall, ZoneInfo(self.time_zone))


# -- where the show stands ------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRun:
    """What really happened to one segment (from the session log's events)."""

    index: int
    started_wall: float
    ended_wall: float | None = None  # None while it runs


@dataclass(frozen=True)
class SegmentClock:
    """Planned against actual for one segment, as producers read a run-of-show (Shoflo)."""

    segment: Segment
    started_wall: float | None
    ended_wall: float | None

    @property
    def start_late_s(self) -> float | None:
        """Seconds after its planned start it began (negative: early)."""
        return None if self.started_wall is None else self.started_wall - self.segment.start_wall

    @property
    def actual_length_s(self) -> float | None:
        if self.started_wall is None or self.ended_wall is None:
            return None
        return self.ended_wall - self.started_wall

    @property
    def over_under_s(self) -> float | None:
        """Actual length minus planned (positive: it ran over)."""
        actual = self.actual_length_s
        return None if actual is None else actual - self.segment.length_s


@dataclass(frozen=True)
class ShowState:
    now: Segment | None  # the segment running now
    next: Segment | None  # the next one to start (armed when it is the next after the last ended)
    next_in_s: float | None  # seconds to the next one's planned start (negative: it is late)
    armed: bool  # the next one can be started now (host key, or by itself at a hard start)
    clocks: tuple[SegmentClock, ...]
    show_over_under_s: float  # sum of the finished segments' over/under

    def headline(self) -> str:
        """One line for the host: "now: HEADLINE BURST · next: RECAP in 2 h 14 m"."""
        parts = []
        if self.now is not None:
            parts.append(f"now: {self.now.name}")
        if self.next is not None and self.next_in_s is not None:
            when = "now" if self.next_in_s <= 0 else f"in {format_span(self.next_in_s)}"
            if self.next_in_s < -60:
                when = f"{format_span(-self.next_in_s)} late"
            parts.append(f"next: {self.next.name} {when}")
        elif self.now is None:
            parts.append("the show is over")
        return " · ".join(parts)


def show_state(plan: Plan, runs: Sequence[SegmentRun], now_wall: float) -> ShowState:
    by_index = {run.index: run for run in runs}
    clocks = tuple(
        SegmentClock(s, by_index[s.index].started_wall if s.index in by_index else None,
                     by_index[s.index].ended_wall if s.index in by_index else None)
        for s in plan.segments
    )  # fmt: skip
    running = next((c.segment for c in clocks if c.started_wall is not None and c.ended_wall is None), None)
    done = {c.segment.index for c in clocks if c.ended_wall is not None}
    upcoming = [s for s in plan.segments if s.index not in done and s is not running]
    nxt = upcoming[0] if upcoming else None
    next_in = None if nxt is None else nxt.start_wall - now_wall
    armed = nxt is not None and running is None and next_in is not None and next_in <= ARM_BEFORE_S
    finished = [c.over_under_s for c in clocks if c.over_under_s is not None]
    return ShowState(running, nxt, next_in, armed, clocks, sum(finished))


def due_hard_start(plan: Plan, state: ShowState, now_wall: float) -> Segment | None:
    """The segment that must start by itself now (its hard start has come and nothing else runs)."""
    nxt = state.next
    if nxt is None or state.now is not None or not nxt.hard_start:
        return None
    return nxt if now_wall >= nxt.start_wall else None


def quota_for(plan: Plan, index: int, unsold: Mapping[int, Mapping[str, int]]) -> dict[str, int]:
    """The quota segment `index` opens with: its own, plus what the selling segments before it left
    unsold and carried over (`unsold[i]` = units left per product when segment i ended)."""
    quota = dict(plan.segment(index).quota)
    carry: dict[str, int] = {}
    for earlier in plan.segments[:index]:
        left = unsold.get(earlier.index)
        if not earlier.sells or left is None:
            continue
        if earlier.carry_over:
            for sku, units in left.items():
                carry[sku] = carry.get(sku, 0) + units
        else:
            carry = {}  # this segment's leftovers (and what it had carried) are gone
    selling = plan.segment(index).sells
    for sku, units in carry.items():
        if units > 0 and (selling or sku in quota):
            quota[sku] = quota.get(sku, 0) + units
    return quota


def format_span(seconds: float) -> str:
    """'2 h 14 m', '14 m', '40 s'."""
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} m"
    if s >= 60:
        return f"{s // 60} m"
    return f"{s} s"


# -- parsing --------------------------------------------------------------------------------------


def parse_plan(table: Table, stock: Mapping[str, int]) -> Plan | None:
    """`[plan]` with its `[[plan.segment]]` list; None when the file has no plan. `stock` is each
    product's units, so quotas can be checked against what exists."""
    if not table.data:
        table.finish()
        return None
    zone_name = table.string("time_zone", "UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        table.problem("time_zone", f"unknown time zone {zone_name!r} (use an IANA name like 'Europe/Berlin')")
        zone = ZoneInfo("UTC")
        zone_name = "UTC"
    rehearsals = table.integer("rehearsals", 2, minimum=0, maximum=20)
    codes_sheet = table.string("codes_sheet", "")
    segments: list[Segment] = []
    for t in table.tables("segment", "[[plan.segment]]"):
        segment = _parse_segment(t, len(segments), zone, stock)
        if segment is not None:
            segments.append(segment)
    table.finish()
    if not segments:
        table.problem("segment", "a plan needs at least one [[plan.segment]]")
        return None
    for before, after in itertools.pairwise(segments):
        if after.start_wall < before.end_wall:
            table.problem("segment", f"{after.name!r} starts before {before.name!r} ends "
                                     "(segments run one after another)")  # fmt: skip
    planned: dict[str, int] = {}
    for s in segments:
        for sku, units in s.quota.items():
            planned[sku] = planned.get(sku, 0) + units
    for sku, units in planned.items():
        if units > stock.get(sku, 0):
            table.problem("segment", f"the segments' quotas of {sku!r} add up to {units}, "
                                     f"more than its stock of {stock.get(sku, 0)}")  # fmt: skip
    return Plan(tuple(segments), zone_name, rehearsals, codes_sheet)


def _parse_segment(t: Table, index: int, zone: ZoneInfo, stock: Mapping[str, int]) -> Segment | None:
    name = t.string("name")
    kind_text = t.string("kind", SegmentKind.BURST.value)
    try:
        kind = SegmentKind(kind_text)
    except ValueError:
        t.problem("kind", f"must be one of {', '.join(k.value for k in SegmentKind)}, got {kind_text!r}")
        kind = SegmentKind.OTHER
    start_text = t.string("start")
    start = _parse_start(start_text, zone)
    if start is None and start_text:
        t.problem("start", f"must look like '2026-12-05 19:00' (in the plan's time zone), got {start_text!r}")
    minutes = t.number("minutes", 15, 0.1, 24 * 60)
    hard = t.boolean("hard_start", False)
    last_call = t.number("last_call_seconds", 10, 0, minutes * 60)
    carry = t.boolean("carry_over", True)
    link = t.string("link", "")
    if link and not link.startswith(("https://", "http://")):
        t.problem("link", f"must be a web address starting with https://, got {link!r}")
        link = ""
    quota: dict[str, int] = {}
    raw = t.get("quota", {})
    if not isinstance(raw, dict):
        t.problem("quota", f"must be a table of product id = units, got {type(raw).__name__}")
        raw = {}
    for sku, units in raw.items():
        if sku not in stock:
            t.problem(f"quota.{sku}", f"no product with id {sku!r} in [[sku]]")
            continue
        if isinstance(units, bool) or not isinstance(units, int) or units < 0:
            t.problem(f"quota.{sku}", f"must be a whole number ≥ 0, got {units!r}")
            continue
        quota[sku] = units
    t.finish()
    if start is None:
        return None
    return Segment(index, name, kind, start, minutes * 60, quota, hard, last_call, carry, link)


def _parse_start(text: str, zone: ZoneInfo) -> float | None:
    for fmt in START_FORMATS:
        try:
            naive = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return naive.replace(tzinfo=zone).timestamp()
    return None


def shifted(plan: Plan, seconds: float) -> Plan:
    """The same plan `seconds` later."""
    moved = tuple(replace(s, start_wall=s.start_wall + seconds) for s in plan.segments)
    return replace(plan, segments=moved)


def for_rehearsal(plan: Plan, start_wall: float, gap_s: float = REHEARSAL_GAP_S) -> Plan:
    """The plan as a rehearsal runs it: every segment with its own length, quota, last call and hard
    start, one after another from `start_wall` with `gap_s` between them — a 48-hour show is rehearsed
    in the sum of its segments' lengths, and each next segment arms itself (and a hard start fires)
    exactly as on the day."""
    segments: list[Segment] = []
    at = start_wall
    for segment in plan.segments:
        segments.append(replace(segment, start_wall=at))
        at += segment.length_s + gap_s
    return replace(plan, segments=tuple(segments))


# -- the plan in the session log (the spec snapshot) -------------------------------------------------


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "time_zone": plan.time_zone,
        "rehearsals": plan.rehearsals,
        "codes_sheet": plan.codes_sheet,
        "segments": [
            {"index": s.index, "name": s.name, "kind": s.kind.value, "start_wall": s.start_wall,
             "length_s": s.length_s, "quota": dict(s.quota), "hard_start": s.hard_start,
             "last_call_s": s.last_call_s, "carry_over": s.carry_over, "link": s.link}
            for s in plan.segments
        ],
    }  # fmt: skip


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    segments = tuple(
        Segment(int(d["index"]), str(d["name"]), SegmentKind(d["kind"]), float(d["start_wall"]), float(d["length_s"]),
                {str(k): int(v) for k, v in dict(d.get("quota") or {}).items()}, bool(d.get("hard_start", False)),
                float(d.get("last_call_s", 10.0)), bool(d.get("carry_over", True)), str(d.get("link", "")))
        for d in data["segments"]
    )  # fmt: skip
    return Plan(segments, str(data.get("time_zone", "UTC")), int(data.get("rehearsals", 2)),
                str(data.get("codes_sheet", "")))
