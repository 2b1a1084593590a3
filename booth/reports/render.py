"""A drop report as a text table, JSON, CSV or one self-contained HTML page (inline SVG, no CDN)."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import itertools
import json
import math
import time
from collections.abc import Sequence
from typing import Any

from booth.core.drills import Scorecard, format_figure
from booth.reports.kpis import Report, ShopReport
from booth.reports.pack_links import PackLinks
from booth.store.reader import SessionSummary

FORMATS = ("table", "json", "csv", "html")
_COLOURS = ("#4cc9f0", "#f72585", "#ffd166", "#06d6a0", "#b388ff", "#ff9f1c")


# -- small formatters -------------------------------------------------------------------------


def fmt_time(wall: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall)) if wall is not None else "—"


def fmt_dur(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def fmt_num(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}{(' ' + unit) if unit and unit != '%' else unit}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


# -- session list ---------------------------------------------------------------------------------


def render_list(sessions: list[SessionSummary]) -> str:
    """Live drops and rehearsals apart: a rehearsal's sales were a shadow of the stock."""
    if not sessions:
        return "No sessions yet."
    out = []
    for heading, chosen in (("Drops", [s for s in sessions if s.kind != "rehearsal"]),
                            ("Rehearsals (shadow stock: nothing sold for real)",
                             [s for s in sessions if s.kind == "rehearsal"])):  # fmt: skip
        if not chosen:
            continue
        rows = [
            [str(s.id), s.title, s.kind, s.state, fmt_time(s.started_wall), fmt_time(s.ended_wall), str(s.units_sold)]
            for s in chosen
        ]
        out += ([""] if out else []) + [f"{heading}:", _table(["id", "drop", "kind", "state", "started", "ended",
                                                               "units sold"], rows)]  # fmt: skip
    return "\n".join(out)


REHEARSAL_NOTE = "REHEARSAL — sold against a shadow of the stock, never the shop's: not a live drop."


def _segment_rows(report: Report) -> list[list[str]]:
    return [
        [seg.name, seg.kind, fmt_time(seg.planned_start_wall), fmt_time(seg.started_wall), fmt_dur(seg.planned_s),
         fmt_dur(seg.actual_s) if seg.actual_s is not None else ("running" if seg.started_wall else "—"),
         _signed(seg.over_under_s), str(sum(seg.quota.values())) if seg.quota else "—", str(seg.units_sold),
         fmt_num(seg.sell_through_pct, "%"), fmt_dur(seg.sold_out_after_s), fmt_num(seg.decision_rate_pct, "%", 2)]
        for seg in report.segments
    ]  # fmt: skip


SEGMENT_HEADERS = ["segment", "kind", "planned", "started", "planned length", "actual", "over/under", "quota",
                   "sold", "sell-through", "sold out after", "decision rate"]  # fmt: skip
DRILL_HEADERS = ["drill", "figure", "target", "verdict", "what happened"]


def _signed(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return ("+" if seconds >= 0 else "−") + fmt_dur(abs(seconds))


def _drill_rows(card: Scorecard) -> list[list[str]]:
    return [[d.name, "—" if d.figure is None else format_figure(d.figure, d.unit), f"≤ {d.target:g} {d.unit}",
             d.verdict, d.detail] for d in card.drills]  # fmt: skip


def _card_line(card: Scorecard) -> str:
    verdict = "every drill passed" if card.passed else "NOT every drill passed"
    full = "the full drill set" if card.full else f"{len(card.drills)} drill(s)"
    return f"Scorecard of {fmt_time(card.started_wall)}: {verdict} ({full}, {card.duration_s:.0f} s)"


def _gate_line(gate: dict[str, Any]) -> str:
    state = "rehearsed as the file asks" if gate.get("ok") else (
        "NOT rehearsed as the file asks — gone live anyway (--go-anyway)" if gate.get("override")
        else "NOT rehearsed as the file asks")  # fmt: skip
    return f"Go-live gate: {state}: {gate.get('sentence', '')}"


# -- summary rows shared by table and CSV ---------------------------------------------------------


def _summary(report: Report) -> list[tuple[str, str, Any, str]]:
    """(label, key, value, unit) rows."""
    return [
        ("Offer started", "offer_start", fmt_time(report.offer_start_wall), ""),
        ("Offer length", "offer_s", report.offer_s, "s"),
        ("Stock on offer", "stock_on_offer", report.stock_on_offer, "units"),
        ("Units sold", "units_sold", report.units_sold, "units"),
        ("Orders", "orders", report.orders, "orders"),
        ("Sell-through", "sell_through_pct", report.sell_through_pct, "%"),
        ("Sales per minute", "sales_per_minute", report.sales_per_minute, "units/min"),
        ("Decision rate", "decision_rate_pct", report.decision_rate_pct, "%"),
        ("Sold in first 72 h", "velocity_72h_units", report.velocity_72h_units, "units"),
        ("Inventory velocity (72 h)", "velocity_72h_pct", report.velocity_72h_pct, "%"),
        ("Failover incidents", "failovers", len(report.failovers), ""),
        ("Host lock changes", "lock_changes", len(report.lock_changes), ""),
        ("Alerts", "alerts", len(report.alerts), ""),
        ("Lowest battery", "lowest_battery_pct", report.lowest_battery_pct, "%"),
        ("Worst RTT", "worst_rtt_ms", report.worst_rtt_ms, "ms"),
        ("Clips", "clips", len(report.clips), ""),
    ]


def _show(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s" and isinstance(value, float):
        return fmt_dur(value)
    if isinstance(value, float):
        return fmt_num(value, unit, 2 if unit == "units/min" else 1)
    if isinstance(value, int) and unit in ("units", "orders"):
        return f"{value}"
    return str(value)


# -- formats --------------------------------------------------------------------------------------


def render(report: Report, fmt: str) -> str:
    if fmt == "table":
        return render_table(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "html":
        return render_html(report)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def render_table(report: Report) -> str:
    out = [REHEARSAL_NOTE, ""] if report.rehearsal else []
    out += [
        f"Session {report.session_id}: {report.title} ({report.kind}, {report.state}) — "
        f"started {fmt_time(report.started_wall)}",
        "",
        "\n".join(f"{label + ':':<27}{_show(value, unit)}" for label, _, value, unit in _summary(report)),
        "",
        _table(
            ["sku", "name", "initial", "sold", "left", "sell-through", "sold out after"],
            [
                [s.id, s.name, str(s.initial), str(s.units_sold), str(s.stock_left),
                 fmt_num(s.sell_through_pct, "%"), fmt_dur(s.sold_out_after_s) if s.sold_out_after_s is not None
                 else "not sold out"]
                for s in report.skus
            ],
        ),
    ]
    if report.gate is not None:
        out += ["", _gate_line(report.gate)]
    if report.segments:
        out += ["", "Run of show (planned vs actual; quota, sell-through and decision rate per segment):",
                _table(SEGMENT_HEADERS, _segment_rows(report))]
    for card in report.scorecards:
        out += ["", _card_line(card) + ":", _table(DRILL_HEADERS, _drill_rows(card))]
    if report.viewer_windows:
        out += ["", "Decision rate by viewer count:", _table(
            ["from", "viewers", "orders", "decision rate"],
            [[fmt_time(w.start_wall), str(w.viewers), str(w.orders), fmt_num(w.decision_rate_pct, "%", 2)]
             for w in report.viewer_windows],
        )]
    if report.failovers:
        out += ["", "Failover incidents:", _table(
            ["at", "to", "on backup", "worst gap", "reason"],
            [[fmt_time(f.start_wall), f.to, fmt_dur(f.duration_s) if f.end_wall else "until the end",
              fmt_num(f.gap_ms, "ms", 0), f.reason] for f in report.failovers],
        )]
    if report.lock_changes:
        out += ["", "Host lock changes (not failovers):", _table(
            ["at", "from", "to", "reason"],
            [[fmt_time(c.wall), c.from_source, c.to_source, c.reason] for c in report.lock_changes],
        )]
    if report.alerts:
        out += ["", "Alerts:", _table(
            ["at", "level", "message"], [[fmt_time(a.wall), a.level, a.message] for a in report.alerts]
        )]
    if report.clips:
        out += ["", "Clips:", _table(
            ["at", "length", "path"], [[fmt_time(c.wall), fmt_dur(c.seconds), c.path] for c in report.clips]
        )]
    if report.incidents:
        out += ["", "Incidents:", _table(
            ["at", "what", "message"], [[fmt_time(i.wall), i.what, i.message] for i in report.incidents]
        )]
    if report.shop is not None:
        out += ["", *_shop_lines(report.shop)]
    return "\n".join(out)


CHANNELS = {"host": "stall (keys)", "api": "control API (phone, buttons)", "code": "sticker codes",
            "shop": "the shop (online, other booths)"}  # fmt: skip


def _shop_summary(shop: ShopReport) -> str:
    where = ", ".join(f"{CHANNELS.get(k, k)} {v}" for k, v in shop.channels.items()) or "nothing sold"
    levels = ", ".join(f"{k} {'—' if v is None else v}" for k, v in shop.shop_available.items())
    text = (f"Units by channel: {where}. Sticker codes redeemed: {shop.codes_redeemed}. Stall sales the shop took: "
            f"{shop.stall_confirmed}, never confirmed: {shop.stall_waiting}. Counted back (restock, cancel): "
            f"{shop.returned_by_shop}. Oversold: {shop.oversold}. The shop's stock as last read: {levels}.")
    if shop.rehearsal:
        text += " REHEARSAL: nothing was written to the shop (shadow stock)."
    return text


def _shop_lines(shop: ShopReport) -> list[str]:
    lines = ["Shop:", _shop_summary(shop)]
    if shop.sync_incidents:
        lines += ["", "Sync incidents:", _table(
            ["at", "level", "what", "message"],
            [[fmt_time(i.wall), i.severity, i.what, i.message] for i in shop.sync_incidents],
        )]
    return lines


def render_json(report: Report) -> str:
    data = dataclasses.asdict(report)
    data["rehearsal"] = report.rehearsal
    data["scorecards"] = [card.to_json() for card in report.scorecards]  # with each card's verdict
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)  # paths of the pack as text


def render_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["section", "name", "sku", "value", "unit"])
    for _, key, value, unit in _summary(report):
        writer.writerow(["summary", key, "", "" if value is None else value, unit])
    for s in report.skus:
        for key, value, unit in (
            ("initial", s.initial, "units"), ("units_sold", s.units_sold, "units"), ("orders", s.orders, "orders"),
            ("stock_left", s.stock_left, "units"), ("sell_through_pct", s.sell_through_pct, "%"),
            ("sold_out_after_s", s.sold_out_after_s, "s"),
        ):
            writer.writerow(["sku", key, s.id, "" if value is None else value, unit])
    for seg in report.segments:
        for key, value, unit in (
            ("planned_s", seg.planned_s, "s"), ("actual_s", seg.actual_s, "s"), ("over_under_s", seg.over_under_s, "s"),
            ("late_s", seg.late_s, "s"), ("quota", sum(seg.quota.values()), "units"),
            ("units_sold", seg.units_sold, "units"), ("sell_through_pct", seg.sell_through_pct, "%"),
            ("sold_out_after_s", seg.sold_out_after_s, "s"), ("decision_rate_pct", seg.decision_rate_pct, "%"),
        ):
            writer.writerow(["segment", key, seg.name, "" if value is None else value, unit])
    for index, card in enumerate(report.scorecards, start=1):
        writer.writerow(["scorecard", f"scorecard_{index}_passed", "", card.passed, ""])
        for d in card.drills:
            writer.writerow(["drill", d.name, d.verdict, "" if d.figure is None else d.figure, d.unit])
    for index, f in enumerate(report.failovers, start=1):
        writer.writerow(["failover", f"incident_{index}_gap_ms", "", "" if f.gap_ms is None else f.gap_ms, "ms"])
        writer.writerow(["failover", f"incident_{index}_duration_s", "",
                         "" if f.duration_s is None else f.duration_s, "s"])
    for c in report.lock_changes:
        writer.writerow(["lock_change", f"{c.from_source}->{c.to_source}", "", c.reason, ""])
    for a in report.alerts:
        writer.writerow(["alert", a.level, "", a.message, ""])
    for c in report.clips:
        writer.writerow(["clip", "path", "", c.path, ""])
    if report.shop is not None:
        for channel, units in report.shop.channels.items():
            writer.writerow(["shop", f"units_{channel}", "", units, "units"])
        writer.writerow(["shop", "codes_redeemed", "", report.shop.codes_redeemed, ""])
        writer.writerow(["shop", "oversold", "", report.shop.oversold, ""])
        for i in report.shop.sync_incidents:
            writer.writerow(["sync_incident", i.what, "", i.message, i.severity])
    return buffer.getvalue()


# -- HTML -----------------------------------------------------------------------------------------


def fmt_clock(seconds: float) -> str:
    """A time-axis tick: '-0:16', '0:00', '1:22', '1:02:05'."""
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds))
    if s >= 3600:
        return f"{sign}{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{sign}{s // 60}:{s % 60:02d}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [low, high] (1, 2, 5 × 10^n steps)."""
    if high <= low:
        return [low]
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if step >= 60 and high - low > 120:  # time axes: whole minutes read better
        step = max(60.0, round(step / 60) * 60)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + 1e-9 and len(ticks) < 50:
        ticks.append(round(value, 9))
        value += step
    return ticks


def _svg_lines(
    series: dict[str, list[tuple[float, float]]],
    y_label: str,
    x_label: str = "time since the offer opened (min:s)",
    steps: bool = True,
    width: int = 640,
    height: int = 240,
    x_range: tuple[float, float] | None = None,
) -> str:
    """A line chart with labelled, ticked axes and a legend. `steps`: the value holds until the next
    point (stock), else points are joined straight (health samples)."""
    points = [p for pts in series.values() for p in pts]
    if not points:
        return ""
    pad_l, pad_r, pad_t, pad_b = 64, 16, 30, 48
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = x_range if x_range is not None else (min(xs), max(xs))
    y0, y1 = min(0.0, min(ys)), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def sx(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * (width - pad_l - pad_r)

    def sy(y: float) -> float:
        return height - pad_b - (y - y0) / (y1 - y0) * (height - pad_t - pad_b)

    bottom, top = height - pad_b, pad_t
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(y_label)} over {html.escape(x_label)}">',
        f'<line x1="{pad_l}" y1="{bottom}" x2="{width - pad_r}" y2="{bottom}" class="axis"/>',
        f'<line x1="{pad_l}" y1="{top}" x2="{pad_l}" y2="{bottom}" class="axis"/>',
    ]
    for y in nice_ticks(y0, y1, 4):
        parts.append(f'<line x1="{pad_l - 4}" y1="{sy(y):.1f}" x2="{width - pad_r}" y2="{sy(y):.1f}" class="grid"/>')
        parts.append(f'<text x="{pad_l - 8}" y="{sy(y) + 4:.1f}" class="tick" text-anchor="end">{y:g}</text>')
    for x in nice_ticks(x0, x1, 6):
        parts.append(f'<line x1="{sx(x):.1f}" y1="{bottom}" x2="{sx(x):.1f}" y2="{bottom + 4}" class="axis"/>')
        parts.append(f'<text x="{sx(x):.1f}" y="{bottom + 17}" class="tick" text-anchor="middle">'
                     f"{fmt_clock(x)}</text>")
    if x0 < 0 < x1:  # the moment the offer opened
        parts.append(f'<line x1="{sx(0):.1f}" y1="{top}" x2="{sx(0):.1f}" y2="{bottom}" class="mark"/>')
    parts.append(f'<text x="{(pad_l + width - pad_r) / 2:.1f}" y="{height - 6}" class="label" '
                 f'text-anchor="middle">{html.escape(x_label)}</text>')
    parts.append(f'<text x="14" y="{(top + bottom) / 2:.1f}" class="label" text-anchor="middle" '
                 f'transform="rotate(-90 14 {(top + bottom) / 2:.1f})">{html.escape(y_label)}</text>')
    for index, (name, pts) in enumerate(series.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        if len(pts) == 1:
            parts.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{colour}"/>')
            continue
        path = [f"M{sx(pts[0][0]):.1f},{sy(pts[0][1]):.1f}"]
        for (_, y_prev), (x, y) in itertools.pairwise(pts):
            if steps:  # stock holds its value until the next event
                path.append(f"L{sx(x):.1f},{sy(y_prev):.1f}")
            path.append(f"L{sx(x):.1f},{sy(y):.1f}")
        parts.append(
            f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{html.escape(name)}</title></path>"
        )
    legend = " ".join(
        f'<tspan fill="{_COLOURS[i % len(_COLOURS)]}">■ {html.escape(name)}</tspan>'
        for i, name in enumerate(series)
    )
    parts.append(f'<text x="{pad_l + 8}" y="18" class="legend">{legend}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_bars(values: list[int], y_label: str, x_label: str, width: int = 640, height: int = 220) -> str:
    if not values:
        return ""
    pad_l, pad_r, pad_t, pad_b = 64, 16, 14, 48
    top = max(max(values), 1)
    slot = (width - pad_l - pad_r) / len(values)
    bottom = height - pad_b

    def sy(y: float) -> float:
        return bottom - y / top * (height - pad_t - pad_b)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(y_label)} per {html.escape(x_label)}">',
        f'<line x1="{pad_l}" y1="{bottom}" x2="{width - pad_r}" y2="{bottom}" class="axis"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{bottom}" class="axis"/>',
    ]
    for y in nice_ticks(0, top, 4):
        if y != int(y):
            continue  # whole units only
        parts.append(f'<line x1="{pad_l - 4}" y1="{sy(y):.1f}" x2="{width - pad_r}" y2="{sy(y):.1f}" class="grid"/>')
        parts.append(f'<text x="{pad_l - 8}" y="{sy(y) + 4:.1f}" class="tick" text-anchor="end">{int(y)}</text>')
    every = max(1, math.ceil(len(values) / 12))  # at most a dozen minute labels
    for index, value in enumerate(values):
        h = value / top * (height - pad_t - pad_b)
        x = pad_l + index * slot + slot * 0.1
        parts.append(
            f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}" '
            f'fill="{_COLOURS[0]}"><title>minute {index + 1}: {value} units</title></rect>'
        )
        if index % every == 0:
            parts.append(f'<text x="{x + slot * 0.4:.1f}" y="{bottom + 17}" class="tick" text-anchor="middle">'
                         f"{index + 1}</text>")
    parts.append(f'<text x="{(pad_l + width - pad_r) / 2:.1f}" y="{height - 6}" class="label" '
                 f'text-anchor="middle">{html.escape(x_label)}</text>')
    mid = (pad_t + bottom) / 2
    parts.append(f'<text x="14" y="{mid:.1f}" class="label" text-anchor="middle" '
                 f'transform="rotate(-90 14 {mid:.1f})">{html.escape(y_label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;background:#14161a;color:#e8e8e8;
margin:2rem;max-width:980px}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .6rem;color:#9fb4c7}
.meta{color:#9aa0a6;margin-bottom:1.2rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.6rem}
.kpi{background:#1f232a;border-radius:8px;padding:.6rem .8rem}.kpi b{display:block;font-size:1.4rem}
.kpi span{color:#9aa0a6;font-size:.85rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #2c313a}
th{color:#9fb4c7;font-weight:600}svg{background:#1a1d22;border-radius:8px;margin:.3rem 0}
.axis{stroke:#777;stroke-width:1}.grid{stroke:#2c313a;stroke-width:1}.mark{stroke:#ffd166;stroke-dasharray:4 3}
.tick{fill:#9aa0a6;font-size:11px}.label{fill:#c8ccd0;font-size:12px}.legend{font-size:12px}
.none{color:#9aa0a6}
.rehearsal{background:#ff3b30;color:#fff;font-weight:800;padding:.5rem .8rem;border-radius:8px}
.pack{display:flex;flex-wrap:wrap;gap:.8rem}.clip{margin:0;width:160px}.clip figcaption{font-size:12px}
.clip a{color:#8ecae6}
"""


def _pack_html(pack: PackLinks) -> str:
    """A thumbnail per clip, each linking to its MP4, with the moment, its time and the stock then."""
    esc = html.escape
    if not pack.clips:
        return f'<p class="none">{esc(pack.note or "The pack has no clips.")}</p>'
    cards = []
    for clip in pack.clips:
        href = esc(clip.file.absolute().as_uri(), quote=True)
        picture = (f'<img src="{esc(clip.thumbnail.absolute().as_uri(), quote=True)}" alt="{esc(clip.moment)}" '
                   'width="135">' if clip.thumbnail is not None else "")  # fmt: skip
        when = f" at {fmt_clock(clip.time_s)}" if clip.time_s is not None else ""
        stock = f" · {clip.stock_then} left" if clip.stock_then is not None else ""
        length = f" · {fmt_dur(clip.duration_s)}" if clip.duration_s is not None else ""
        cards.append(f'<figure class="clip"><a href="{href}">{picture}</a><figcaption><a href="{href}">'
                     f"{esc(clip.moment)}</a>{esc(when + stock + length)}</figcaption></figure>")  # fmt: skip
    return (f'<p class="meta">{esc(str(pack.folder))}</p><div class="pack">' + "".join(cards)
            + "</div>")  # fmt: skip


def render_html(report: Report) -> str:
    esc = html.escape
    kpis = "".join(
        f'<div class="kpi"><b>{esc(_show(value, unit))}</b><span>{esc(label)}</span></div>'
        for label, _, value, unit in _summary(report)
        if label not in ("Offer started",)
    )
    sections = [f'<p class="rehearsal">{esc(REHEARSAL_NOTE)}</p>'] if report.rehearsal else []
    sections += [
        f"<h1>{esc(report.title)}</h1>",
        f'<div class="meta">Session {report.session_id} · {esc(report.kind)} · {esc(report.state)} · started '
        f"{esc(fmt_time(report.started_wall))} · offer opened {esc(fmt_time(report.offer_start_wall))} · "
        f"every number here is derived from the session log</div>",
        f'<div class="kpis">{kpis}</div>',
        "<h2>Products</h2>",
        _html_table(
            ["SKU", "Name", "Initial", "Sold", "Left", "Sell-through", "Sold out after"],
            [[s.id, s.name, s.initial, s.units_sold, s.stock_left, fmt_num(s.sell_through_pct, "%"),
              fmt_dur(s.sold_out_after_s) if s.sold_out_after_s is not None else "not sold out"]
             for s in report.skus],
        ),
        "<h2>Stock over time</h2>",
        _svg_lines({k: [(x, float(y)) for x, y in v] for k, v in report.stock_series.items()}, "units left")
        or '<p class="none">No drop events.</p>',
        "<h2>Units sold per minute</h2>",
        _svg_bars(report.sales_per_minute_series, "units sold", "minute of the offer")
        or '<p class="none">No offer window.</p>',
    ]
    if report.gate is not None:
        sections.append(f"<p>{esc(_gate_line(report.gate))}</p>")
    if report.segments:
        sections += ["<h2>Run of show</h2>", _html_table(SEGMENT_HEADERS, _segment_rows(report))]
    for card in report.scorecards:
        sections += [f"<h2>{esc(_card_line(card))}</h2>", _html_table(DRILL_HEADERS, _drill_rows(card))]
    if report.viewer_windows:
        sections += ["<h2>Decision rate</h2>", _html_table(
            ["From", "Viewers", "Orders", "Decision rate"],
            [[fmt_time(w.start_wall), w.viewers, w.orders, fmt_num(w.decision_rate_pct, "%", 2)]
             for w in report.viewer_windows],
        )]
    sections.append("<h2>Failover incidents</h2>")
    sections.append(
        _html_table(
            ["At", "To", "On backup", "Worst gap", "Reason"],
            [[fmt_time(f.start_wall), f.to, fmt_dur(f.duration_s) if f.end_wall else "until the end",
              fmt_num(f.gap_ms, "ms", 0), f.reason] for f in report.failovers],
        )
        if report.failovers
        else '<p class="none">None.</p>'
    )
    sections.append("<h2>Host lock changes</h2>")
    sections.append(
        _html_table(["At", "From", "To", "Reason"],
                    [[fmt_time(c.wall), c.from_source, c.to_source, c.reason] for c in report.lock_changes])
        if report.lock_changes
        else '<p class="none">None: automation ran the sources throughout.</p>'
    )
    for metric, title, what, unit in (("battery_pct", "Battery", "battery", "%"),
                                      ("rtt_ms", "Round trip to the ingest", "round trip", "ms")):
        series = report.health_series.get(metric)
        if series:
            low_high = {f"lowest {what} in 10 s": [(t, lo) for t, lo, _ in series],
                        f"highest {what} in 10 s": [(t, hi) for t, _, hi in series]}
            sections += [f"<h2>{title} ({unit})</h2>", _svg_lines(low_high, f"{what} ({unit})", steps=False)]
    sections.append("<h2>Alerts</h2>")
    sections.append(
        _html_table(["At", "Level", "Message"], [[fmt_time(a.wall), a.level, a.message] for a in report.alerts])
        if report.alerts
        else '<p class="none">None.</p>'
    )
    sections.append("<h2>Clips</h2>")
    sections.append(
        _html_table(["At", "Length", "File"], [[fmt_time(c.wall), fmt_dur(c.seconds), c.path] for c in report.clips])
        if report.clips
        else '<p class="none">None.</p>'
    )
    if report.pack is not None:
        sections += ["<h2>Clip pack</h2>", _pack_html(report.pack)]
    if report.incidents:
        sections += ["<h2>Incidents</h2>", _html_table(
            ["At", "What", "Message"], [[fmt_time(i.wall), i.what, i.message] for i in report.incidents]
        )]
    if report.shop is not None:
        sections += ["<h2>Shop</h2>", f"<p>{esc(_shop_summary(report.shop))}</p>", "<h2>Sync incidents</h2>",
                     _html_table(["At", "Level", "What", "Message"],
                                 [[fmt_time(i.wall), i.severity, i.what, i.message]
                                  for i in report.shop.sync_incidents])
                     if report.shop.sync_incidents else '<p class="none">None.</p>']  # fmt: skip
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(report.title)} — Booth report</title><style>{_CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
