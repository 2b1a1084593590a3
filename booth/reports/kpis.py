"""The numbers of a drop, derived from its session log only.

Stock comes from the same fold the overlay uses (`booth.core.drop.Drop.apply`), so every number the
host saw can be reproduced here. Definitions:

- **offer window**: from the first ``timer_start`` or ``segment_start`` (or the first sale if the timer
  never ran) to the last ``offer_end`` or ``segment_end`` (or, for an offer still open, the session end
  or its last event). With a run of show it spans the whole plan; each segment has its own KPIs
  (``booth.reports.show_kpis``).
- **rehearsals** are kept apart: a rehearsal's report says so first, and sold only its shadow stock;
  `booth report` without a session id reports the latest live drop, not a rehearsal.
- **units sold** per SKU: sold minus undone. **orders**: sale events that were not undone.
- **stock on offer**: units sold + stock left — the initial stock with every correction applied. It is
  the one base of every share below, so they can be compared.
- **sell-through %**: units sold ÷ stock on offer — the share of what was on offer that sold.
  Without stock corrections this is units sold ÷ initial stock.
- **time to sell out**: offer start → the event that took the stock to 0 for good (None if any left).
- **sales per minute**: units sold ÷ minutes of the offer window.
- **decision rate** (only when ``viewers`` events exist): each viewer count opens a window that lasts
  until the next count or the end of the offer; per window, orders in it ÷ viewers. Overall: all
  orders in those windows ÷ the time-weighted mean viewer count.
- **inventory velocity (72 h)**: units sold within 72 h of the offer start, and that as a % of the
  stock on offer (the sell-through's base).
- **failover incidents**: from an automatic ``source_switch`` away from "primary" until the switch
  back (open if it never came back); its gap is the worst ``gap_ms`` of the switches in it.
- **host lock changes**: switches the host's lock made (``automatic`` false: HOLD 2ND, FORCE 1ST,
  back to AUTO) are listed on their own; they are decisions, not failures.
- **alert levels** are named (info / warn / critical); logs that stored them as 1 / 2 / 3 read the same.
- **clips**: every clip written, with its path and length.
- **stock over time**: seconds from the offer start (negative before it), from the first stock change
  or the offer start, whichever came first, to the offer's end.
- **with a shop** (``[shop]``): a shop product's units sold also count what the shop sold elsewhere during
  the drop (online orders, other booths: ``shop_sold``, less ``shop_returned``), and its stock left is the
  counter the overlay showed; ``channels`` splits the units by where they were sold (stall keys, control
  API, sticker codes, the shop); ``sync_incidents`` lists every sync incident (outage, throttling,
  credentials, stale alarm, discrepancy, oversell) and ``oversold`` counts the oversells.
- **lowest battery / worst RTT**: the minimum of ``battery_pct`` / maximum of ``rtt_ms`` over the
  health samples (the writer keeps per-bucket min and max, so no extreme is averaged away).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from booth.core.clock import ManualClock
from booth.core.drills import Scorecard
from booth.core.drop import Drop, DropSpec, spec_from_dict
from booth.core.event_kinds import EVENT_TYPES, event_from_dict
from booth.core.events import (
    DropEvent,
    OfferEnded,
    SaleRecorded,
    SaleUndone,
    TimerExtended,
    TimerStarted,
)
from booth.core.shop.events import ShopReturned, ShopSold, StallSaleConfirmed, StallSaleRefused, SyncIncident
from booth.reports.pack_links import PackLinks
from booth.reports.show_kpis import SegmentReport, SegmentTracker, scorecards, segment_reports
from booth.store import kinds
from booth.store.reader import EventRow, SampleRow, SessionRow

VELOCITY_WINDOW_S = 72 * 3600.0


@dataclass(frozen=True)
class SkuReport:
    id: str
    name: str
    initial: int
    units_sold: int
    orders: int
    stock_left: int
    sell_through_pct: float | None
    sold_out_after_s: float | None


@dataclass(frozen=True)
class ViewerWindow:
    start_wall: float
    end_wall: float
    viewers: int
    orders: int
    decision_rate_pct: float | None


@dataclass(frozen=True)
class FailoverIncident:
    start_wall: float
    end_wall: float | None  # None: never returned to the primary
    duration_s: float | None
    to: str
    reason: str
    switches: int
    gap_ms: float | None  # worst viewer-visible gap among its switches


@dataclass(frozen=True)
class LockChange:
    wall: float
    from_source: str
    to_source: str
    reason: str


@dataclass(frozen=True)
class Clip:
    wall: float
    path: str
    seconds: float | None


@dataclass(frozen=True)
class Alert:
    wall: float
    level: str
    code: str
    message: str


@dataclass(frozen=True)
class Incident:
    wall: float
    what: str
    message: str


@dataclass(frozen=True)
class SyncIncidentRow:
    wall: float
    severity: str
    what: str
    message: str


@dataclass
class ShopReport:
    """The shop's part of a drop: where units went, what the shop did, every sync incident."""

    channels: dict[str, int]  # units by channel: host, api, code, shop (online orders and other booths)
    codes_redeemed: int
    returned_by_shop: int  # units counted back (restock, cancellation)
    stall_confirmed: int  # stall sales the shop took
    stall_waiting: int  # stall sales the shop never confirmed in this session
    oversold: int
    shop_available: dict[str, int | None]  # the shop's level as last read, per product
    sync_incidents: list[SyncIncidentRow] = field(default_factory=list)
    rehearsal: bool = False


@dataclass
class Report:
    session_id: int
    title: str
    kind: str
    state: str
    started_wall: float
    ended_wall: float | None
    offer_start_wall: float | None
    offer_end_wall: float | None
    offer_s: float | None
    units_sold: int
    orders: int
    sell_through_pct: float | None
    sales_per_minute: float | None
    decision_rate_pct: float | None
    velocity_72h_units: int
    velocity_72h_pct: float | None
    lowest_battery_pct: float | None
    lowest_battery_wall: float | None
    worst_rtt_ms: float | None
    worst_rtt_wall: float | None
    stock_on_offer: int = 0
    skus: list[SkuReport] = field(default_factory=list)
    viewer_windows: list[ViewerWindow] = field(default_factory=list)
    failovers: list[FailoverIncident] = field(default_factory=list)
    lock_changes: list[LockChange] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    alert_counts: dict[str, int] = field(default_factory=dict)
    incidents: list[Incident] = field(default_factory=list)
    # Chart series (seconds from the offer start, or session start when there is no offer).
    stock_series: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    sales_per_minute_series: list[int] = field(default_factory=list)
    health_series: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)  # t, min, max
    # The run of show (booth.reports.show_kpis) and a rehearsal's drills.
    segments: list[SegmentReport] = field(default_factory=list)
    scorecards: list[Scorecard] = field(default_factory=list)
    gate: dict[str, Any] | None = None  # going live: the rehearsals the file asked for, and any override
    recordings: dict[str, str] = field(default_factory=dict)  # "program" / "clean" → path (the `recording` record)
    pack: PackLinks | None = None  # the pack's clips and thumbnails, read from its manifest (booth.reports.pack_links)

    @property
    def rehearsal(self) -> bool:
        return self.kind == "rehearsal"
    shop: ShopReport | None = None  # only for a drop with [shop]

    @property
    def origin_wall(self) -> float:
        return self.offer_start_wall if self.offer_start_wall is not None else self.started_wall


def _pct(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole > 0 else None


def spec_of(session: SessionRow) -> DropSpec:
    return spec_from_dict(session.config["drop"])


def build_report(session: SessionRow, events: list[EventRow], samples: list[SampleRow]) -> Report:
    spec = spec_of(session)
    clock = ManualClock()
    drop = Drop(spec, clock)
    surviving: list[SaleRecorded] = []
    drop_events: list[DropEvent] = []
    stock_points: list[tuple[float, dict[str, int]]] = [(session.started_wall, dict(drop.stock))]
    zero_since: dict[str, float | None] = {s.id: None for s in spec.skus}
    segments = SegmentTracker()
    for row in events:
        if row.kind not in EVENT_TYPES:
            continue
        event = event_from_dict(row.payload)
        clock.wall_time = clock.mono = event.at_wall
        drop.apply(event)
        segments.after(drop, event, event.at_wall)
        drop_events.append(event)
        if isinstance(event, SaleRecorded):
            surviving.append(event)
        elif isinstance(event, SaleUndone) and surviving:
            surviving.pop()
        stock_points.append((event.at_wall, dict(drop.stock)))
        for sku_id, left in drop.stock.items():
            if left > 0:
                zero_since[sku_id] = None
            elif zero_since[sku_id] is None:
                zero_since[sku_id] = event.at_wall

    # A run of show's segments open and close offers too: the offer window runs from the first to the last.
    starts = [e.at_wall for e in drop_events if isinstance(e, TimerStarted)]
    ends = [e.at_wall for e in drop_events if isinstance(e, OfferEnded)]
    offer_start = starts[0] if starts else (surviving[0].at_wall if surviving else None)
    last_wall = events[-1].wall if events else None
    timer_events = [e for e in drop_events if isinstance(e, TimerStarted | TimerExtended | OfferEnded)]
    if timer_events and isinstance(timer_events[-1], OfferEnded):
        offer_end: float | None = ends[-1]
    else:
        offer_end = session.ended_wall or last_wall
    offer_s = offer_end - offer_start if offer_start is not None and offer_end is not None else None

    shop = _shop(drop_events, surviving, drop, session.kind) if spec.shop_skus else None
    elsewhere = _sold_elsewhere(drop_events) if shop is not None else {}
    units = sum(s.qty for s in surviving) + sum(elsewhere.values())
    left_total = sum(drop.stock.values())
    sku_reports = []
    for sku in spec.skus:
        sold = sum(s.qty for s in surviving if s.sku_id == sku.id) + elsewhere.get(sku.id, 0)
        orders = sum(1 for s in surviving if s.sku_id == sku.id)
        left = drop.stock[sku.id]
        sold_out_at = zero_since[sku.id]
        after = sold_out_at - offer_start if sold_out_at is not None and offer_start is not None else None
        sku_reports.append(
            SkuReport(sku.id, sku.name, sku.stock, sold, orders, left, _pct(sold, sold + left), after)
        )

    origin = offer_start if offer_start is not None else session.started_wall
    report = Report(
        session_id=session.id,
        title=session.title,
        kind=session.kind,
        state=session.state,
        started_wall=session.started_wall,
        ended_wall=session.ended_wall,
        offer_start_wall=offer_start,
        offer_end_wall=offer_end,
        offer_s=offer_s,
        units_sold=units,
        orders=len(surviving),
        sell_through_pct=_pct(units, units + left_total),
        sales_per_minute=units / (offer_s / 60.0) if offer_s else None,
        decision_rate_pct=None,
        velocity_72h_units=0,
        velocity_72h_pct=None,
        lowest_battery_pct=None,
        lowest_battery_wall=None,
        worst_rtt_ms=None,
        worst_rtt_wall=None,
        stock_on_offer=units + left_total,
        skus=sku_reports,
        clips=[_clip(row) for row in events if row.kind == kinds.CLIP],
        shop=shop,
        recordings=next(({str(k): str(v) for k, v in row.payload.items()} for row in reversed(events)
                         if row.kind == kinds.RECORDING), {}),
    )
    if offer_start is not None:
        in_72h = sum(s.qty for s in surviving if s.at_wall - offer_start <= VELOCITY_WINDOW_S)
        report.velocity_72h_units = in_72h
        report.velocity_72h_pct = _pct(in_72h, report.stock_on_offer)
    _viewers(report, events, surviving, offer_end)
    windows = [(w.start_wall, w.end_wall, w.viewers) for w in report.viewer_windows]
    report.segments = segment_reports(drop, segments, surviving, windows, session.ended_wall or last_wall or 0.0)
    report.scorecards = scorecards([(row.kind, row.payload) for row in events if row.kind in (kinds.DRILL,
                                                                                              kinds.SCORECARD)])
    gates = [row.payload for row in events if row.kind == kinds.GATE]
    report.gate = gates[-1] if gates else None
    _rig(report, events)
    _health(report, samples, origin)
    report.stock_series = _stock_series(spec, stock_points, origin, offer_end)
    if offer_start is not None and offer_s is not None:
        minutes = max(1, math.ceil(offer_s / 60.0))
        series = [0] * minutes
        for sale in surviving:
            index = min(minutes - 1, max(0, int((sale.at_wall - offer_start) // 60)))
            series[index] += sale.qty
        report.sales_per_minute_series = series
    return report


def _sold_elsewhere(events: list[DropEvent]) -> dict[str, int]:
    """Units the shop sold beyond the stall (online, other booths), net of what it counted back."""
    sold: dict[str, int] = {}
    for event in events:
        if isinstance(event, ShopSold):
            sold[event.sku_id] = sold.get(event.sku_id, 0) + event.qty
        elif isinstance(event, ShopReturned):
            sold[event.sku_id] = sold.get(event.sku_id, 0) - event.qty
    return {sku: max(0, units) for sku, units in sold.items()}


def _shop(events: list[DropEvent], surviving: list[SaleRecorded], drop: Drop, kind: str) -> ShopReport:
    channels: dict[str, int] = {}
    for sale in surviving:
        channels[sale.origin] = channels.get(sale.origin, 0) + sale.qty
    elsewhere = sum(_sold_elsewhere(events).values())
    if elsewhere:
        channels["shop"] = elsewhere
    refs = {e.ref for e in events if isinstance(e, SaleRecorded | SaleUndone) and e.ref}
    settled = {e.sale_id for e in events if isinstance(e, StallSaleConfirmed | StallSaleRefused)}
    incidents = [SyncIncidentRow(e.at_wall, e.severity, e.what, e.message) for e in events
                 if isinstance(e, SyncIncident)]  # fmt: skip
    ledger = drop.shop
    return ShopReport(
        channels=channels,
        codes_redeemed=sum(1 for s in surviving if s.code),
        returned_by_shop=sum(e.qty for e in events if isinstance(e, ShopReturned)),
        # a pooled unit the shop took for a sale never counted (and its return) is an incident, not a stall sale
        stall_confirmed=sum(1 for e in events if isinstance(e, StallSaleConfirmed) and e.sale_id in refs),
        stall_waiting=len(refs - settled),
        oversold=sum(1 for i in incidents if i.what == "oversold"),
        shop_available={v.sku_id: v.shop_available for v in ledger.views()} if ledger is not None else {},
        sync_incidents=incidents,
        rehearsal=kind == "rehearsal",
    )


def _stock_series(
    spec: DropSpec, points: list[tuple[float, dict[str, int]]], origin: float, offer_end: float | None
) -> dict[str, list[tuple[float, int]]]:
    """Stock per SKU over the offer: from the first change or the offer start (whichever is first)
    to the offer's end, so the chart's time axis covers the whole offer."""
    initial, changes = points[0][1], points[1:]
    start = min([origin, *(wall for wall, _ in changes)])
    end = max([origin, *(wall for wall, _ in changes), *([offer_end] if offer_end is not None else [])])
    timeline = [(start, initial), *changes, (end, changes[-1][1] if changes else initial)]
    return {sku.id: [(round(wall - origin, 3), stock[sku.id]) for wall, stock in timeline] for sku in spec.skus}


def _clip(row: EventRow) -> Clip:
    seconds = row.payload.get("seconds")
    length = float(seconds) if isinstance(seconds, int | float) else None
    return Clip(row.wall, str(row.payload.get("path", "")), length)


def level_name(level: object) -> str:
    """'info' / 'warn' / 'critical' from a stored level: a name, or the 1 / 2 / 3 older logs hold."""
    names = {1: "info", 2: "warn", 3: "critical"}
    if isinstance(level, int | float) and int(level) in names:
        return names[int(level)]
    text = str(level).strip().lower()
    return names.get(int(text), text) if text.isdigit() else text or "info"


def _viewers(report: Report, events: list[EventRow], surviving: list[SaleRecorded], end: float | None) -> None:
    counts = [
        (row.wall, int(row.payload["count"]))
        for row in events
        if row.kind == kinds.VIEWERS and isinstance(row.payload.get("count"), int | float)
    ]
    if not counts:
        return
    last_end = max(end or counts[-1][0], counts[-1][0])
    windows = []
    for index, (start, viewers) in enumerate(counts):
        last = index + 1 == len(counts)
        stop = last_end if last else counts[index + 1][0]
        orders = sum(1 for s in surviving if start <= s.at_wall < stop or (last and s.at_wall == stop))
        windows.append(ViewerWindow(start, stop, viewers, orders, _pct(orders, viewers)))
    report.viewer_windows = windows
    span = sum(w.end_wall - w.start_wall for w in windows)
    total_orders = sum(w.orders for w in windows)
    if span > 0:
        mean_viewers = sum(w.viewers * (w.end_wall - w.start_wall) for w in windows) / span
    else:
        mean_viewers = sum(w.viewers for w in windows) / len(windows)
    report.decision_rate_pct = _pct(total_orders, mean_viewers)


def _rig(report: Report, events: list[EventRow]) -> None:
    on_backup: dict[str, Any] | None = None
    failovers: list[FailoverIncident] = []
    for row in events:
        payload = row.payload
        if row.kind == kinds.SOURCE_SWITCH:
            gap = payload.get("gap_ms")
            gap_ms = float(gap) if isinstance(gap, int | float) else None
            by_host = payload.get("automatic") is False
            if by_host:
                report.lock_changes.append(LockChange(row.wall, str(payload.get("from", "?")),
                                                      str(payload.get("to", "?")), str(payload.get("reason", ""))))
            if on_backup is None and payload.get("to") != "primary":
                if by_host:
                    continue  # the host chose another source: a decision, not a failure
                on_backup = {
                    "start": row.wall, "to": str(payload.get("to", "?")),
                    "reason": str(payload.get("reason", "")), "switches": 1, "gaps": [gap_ms],
                }
            elif on_backup is not None:
                on_backup["switches"] += 1
                on_backup["gaps"].append(gap_ms)
                if payload.get("to") == "primary":
                    failovers.append(_incident(on_backup, row.wall))
                    on_backup = None
        elif row.kind == kinds.ALERT:
            report.alerts.append(
                Alert(row.wall, level_name(payload.get("level", "info")), str(payload.get("code", "")),
                      str(payload.get("message", "")))
            )
        elif row.kind == kinds.INCIDENT:
            report.incidents.append(Incident(row.wall, str(payload.get("what", "")), str(payload.get("message", ""))))
    if on_backup is not None:
        failovers.append(_incident(on_backup, None))
    report.failovers = failovers
    report.alert_counts = dict(Counter(a.level for a in report.alerts))


def _incident(state: dict[str, Any], end: float | None) -> FailoverIncident:
    gaps = [g for g in state["gaps"] if g is not None]
    return FailoverIncident(
        start_wall=state["start"],
        end_wall=end,
        duration_s=end - state["start"] if end is not None else None,
        to=state["to"],
        reason=state["reason"],
        switches=state["switches"],
        gap_ms=max(gaps) if gaps else None,
    )


def _health(report: Report, samples: list[SampleRow], origin: float) -> None:
    battery = [s for s in samples if s.metric == "battery_pct"]
    rtt = [s for s in samples if s.metric == "rtt_ms"]
    if battery:
        low = min(battery, key=lambda s: s.min)
        report.lowest_battery_pct, report.lowest_battery_wall = low.min, low.wall
    if rtt:
        worst = max(rtt, key=lambda s: s.max)
        report.worst_rtt_ms, report.worst_rtt_wall = worst.max, worst.wall
    for metric, rows in (("battery_pct", battery), ("rtt_ms", rtt)):
        if rows:
            report.health_series[metric] = [(round(s.wall - origin, 3), s.min, s.max) for s in rows]
