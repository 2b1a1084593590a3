"""The run of show and the rehearsal drills in the report, from the session log only.

Per segment (a drop with a `[plan]`), folded through the same `Drop` the overlay used:
- **planned / actual**: planned start and length against when it really started and how long it ran;
  **over/under** = actual − planned length (positive: it ran over), **late** = actual − planned start;
- **quota**: what it opened with (its own plus what earlier segments carried over);
- **sell-through %**: units it sold (at the stall, and with `[shop]` online during it) ÷ its quota;
  **time to sell out**: its start → its quota at 0;
- **decision rate** (when viewer counts were given): its orders ÷ the time-weighted mean viewer count
  while it ran;
- the whole plan's **inventory velocity (72 h)** is the report's own (units sold within 72 h of the
  first segment's start, over the stock on offer).
Drills: every `drill` row, grouped by the `scorecard` that closed them (the producer's scorecard).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from booth.core.drills import DrillResult, Scorecard
from booth.core.drop import Drop
from booth.core.events import SaleRecorded, SegmentStarted

SegmentKpis = tuple[float | None, int | None, float | None]


@dataclass(frozen=True)
class SegmentReport:
    index: int
    name: str
    kind: str
    planned_start_wall: float
    planned_s: float
    started_wall: float | None
    ended_wall: float | None
    actual_s: float | None
    over_under_s: float | None
    late_s: float | None
    started_by: str
    quota: dict[str, int] = field(default_factory=dict)
    units_sold: int = 0
    orders: int = 0
    sell_through_pct: float | None = None
    sold_out_after_s: float | None = None
    decision_rate_pct: float | None = None


class SegmentTracker:
    """Fed every drop event after the drop applied it; knows when each segment's quota ran out."""

    def __init__(self) -> None:
        self.sold_out_at: dict[int, float] = {}
        self.started: dict[int, SegmentStarted] = {}

    def after(self, drop: Drop, event: object, at_wall: float) -> None:
        show = drop.show
        if show is None:
            return
        if isinstance(event, SegmentStarted):
            self.started[event.index] = event
        current = show.current
        if current is None:
            return
        if show.opened and sum(show.left.values()) <= 0 and current not in self.sold_out_at:
            self.sold_out_at[current] = at_wall
        elif sum(show.left.values()) > 0:
            self.sold_out_at.pop(current, None)  # an undo or a found box: not sold out after all


def segment_reports(drop: Drop, tracker: SegmentTracker, surviving: Sequence[SaleRecorded],
                    viewers: Sequence[tuple[float, float, int]], now_wall: float) -> list[SegmentReport]:  # fmt: skip
    """`viewers`: (start, end, count) windows of the viewer counts; `now_wall`: the end of the log."""
    show = drop.show
    if show is None:
        return []
    view = show.view(now_wall)
    reports = []
    for clock in view.clocks:
        segment = clock.segment
        started = tracker.started.get(segment.index)
        quota = dict(started.quota) if started is not None else {}
        start, end = clock.started_wall, clock.ended_wall
        in_it = [s for s in surviving if start is not None and s.at_wall >= start and (end is None or s.at_wall <= end)]
        units = sum(s.qty for s in in_it) + sum(show.online.get(segment.index, {}).values())  # + online orders
        total_quota = sum(quota.values())
        sold_out = tracker.sold_out_at.get(segment.index)
        reports.append(SegmentReport(
            segment.index, segment.name, segment.kind.value, segment.start_wall, segment.length_s, start, end,
            clock.actual_length_s, clock.over_under_s, clock.start_late_s, started.by if started else "",
            quota, units, len(in_it), 100.0 * units / total_quota if total_quota else None,
            sold_out - start if sold_out is not None and start is not None else None,
            _decision_rate(len(in_it), start, end if end is not None else now_wall, viewers),
        ))  # fmt: skip
    return reports


def _decision_rate(orders: int, start: float | None, end: float, viewers: Sequence[tuple[float, float, int]],
                   ) -> float | None:  # fmt: skip
    if start is None or end <= start:
        return None
    weighted = span = 0.0
    for w_start, w_end, count in viewers:
        overlap = min(end, w_end) - max(start, w_start)
        if overlap > 0:
            weighted += count * overlap
            span += overlap
    if span <= 0 or weighted <= 0:
        return None
    return 100.0 * orders / (weighted / span)


def scorecards(rows: Sequence[tuple[str, dict[str, object]]]) -> list[Scorecard]:
    """The scorecards in the log, in order; drills after the last scorecard (an interrupted run) form one too."""
    cards: list[Scorecard] = []
    loose: list[DrillResult] = []
    for kind, payload in rows:
        if kind == "drill":
            loose.append(DrillResult.from_json(payload))
        elif kind == "scorecard":
            drills = payload.get("drills")
            results = tuple(DrillResult.from_json(d) for d in drills if isinstance(d, dict)) \
                if isinstance(drills, list) else tuple(loose)  # fmt: skip
            duration = payload.get("duration_s")
            started = payload.get("started_wall")
            cards.append(Scorecard(results, float(duration) if isinstance(duration, int | float) else 0.0,
                                   float(started) if isinstance(started, int | float) else 0.0))  # fmt: skip
            loose = []
    if loose:
        cards.append(Scorecard(tuple(loose), sum(d.duration_s for d in loose), loose[0].started_wall))
    return cards
