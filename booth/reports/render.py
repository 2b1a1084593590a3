"""A drop report as a text table, JSON, CSV or one self-contained HTML page (inline SVG, no CDN)."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import itertools
import json
import time
from collections.abc import Sequence
from typing import Any

from booth.reports.kpis import Report
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
    if not sessions:
        return "No sessions yet."
    rows = [
        [str(s.id), s.title, s.kind, s.state, fmt_time(s.started_wall), fmt_time(s.ended_wall), str(s.units_sold)]
        for s in sessions
    ]
    return _table(["id", "drop", "kind", "state", "started", "ended", "units sold"], rows)


# -- summary rows shared by table and CSV ---------------------------------------------------------


def _summary(report: Report) -> list[tuple[str, str, Any, str]]:
    """(label, key, value, unit) rows."""
    return [
        ("Offer started", "offer_start", fmt_time(report.offer_start_wall), ""),
        ("Offer length", "offer_s", report.offer_s, "s"),
        ("Units sold", "units_sold", report.units_sold, "units"),
        ("Orders", "orders", report.orders, "orders"),
        ("Sell-through", "sell_through_pct", report.sell_through_pct, "%"),
        ("Sales per minute", "sales_per_minute", report.sales_per_minute, "units/min"),
        ("Decision rate", "decision_rate_pct", report.decision_rate_pct, "%"),
        ("Sold in first 72 h", "velocity_72h_units", report.velocity_72h_units, "units"),
        ("Inventory velocity (72 h)", "velocity_72h_pct", report.velocity_72h_pct, "%"),
        ("Failover incidents", "failovers", len(report.failovers), ""),
        ("Alerts", "alerts", len(report.alerts), ""),
        ("Lowest battery", "lowest_battery_pct", report.lowest_battery_pct, "%"),
        ("Worst RTT", "worst_rtt_ms", report.worst_rtt_ms, "ms"),
        ("Clips", "clips", report.clips, ""),
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
    out = [
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
    if report.alerts:
        out += ["", "Alerts:", _table(
            ["at", "level", "message"], [[fmt_time(a.wall), a.level, a.message] for a in report.alerts]
        )]
    if report.incidents:
        out += ["", "Incidents:", _table(
            ["at", "what", "message"], [[fmt_time(i.wall), i.what, i.message] for i in report.incidents]
        )]
    return "\n".join(out)


def render_json(report: Report) -> str:
    data = dataclasses.asdict(report)
    return json.dumps(data, indent=2, ensure_ascii=False)


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
    for index, f in enumerate(report.failovers, start=1):
        writer.writerow(["failover", f"incident_{index}_gap_ms", "", "" if f.gap_ms is None else f.gap_ms, "ms"])
        writer.writerow(["failover", f"incident_{index}_duration_s", "",
                         "" if f.duration_s is None else f.duration_s, "s"])
    for a in report.alerts:
        writer.writerow(["alert", a.level, "", a.message, ""])
    return buffer.getvalue()


# -- HTML -----------------------------------------------------------------------------------------


def _svg_lines(
    series: dict[str, list[tuple[float, float]]], y_label: str, width: int = 640, height: int = 220
) -> str:
    points = [p for pts in series.values() for p in pts]
    if not points:
        return ""
    pad_l, pad_r, pad_t, pad_b = 48, 12, 26, 28
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def sx(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * (width - pad_l - pad_r)

    def sy(y: float) -> float:
        return height - pad_b - (y - y0) / (y1 - y0) * (height - pad_t - pad_b)

    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(y_label)}">',
        f'<line x1="{pad_l}" y1="{sy(y0):.1f}" x2="{width - pad_r}" y2="{sy(y0):.1f}" class="axis"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" class="axis"/>',
        f'<text x="{pad_l - 6}" y="{sy(y1) + 4:.1f}" class="tick" text-anchor="end">{y1:g}</text>',
        f'<text x="{pad_l - 6}" y="{sy(y0) + 4:.1f}" class="tick" text-anchor="end">{y0:g}</text>',
        f'<text x="{pad_l}" y="{height - 8}" class="tick">{fmt_dur(x0) if x0 >= 0 else f"{x0:.0f} s"}</text>',
        f'<text x="{width - pad_r}" y="{height - 8}" class="tick" text-anchor="end">{fmt_dur(x1)}</text>',
    ]
    for index, (name, pts) in enumerate(series.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        if len(pts) == 1:
            parts.append(f'<circle cx="{sx(pts[0][0]):.1f}" cy="{sy(pts[0][1]):.1f}" r="3" fill="{colour}"/>')
            continue
        # Stock is a step function: it holds its value until the next event.
        path = [f"M{sx(pts[0][0]):.1f},{sy(pts[0][1]):.1f}"]
        for (_, y_prev), (x, y) in itertools.pairwise(pts):
            path.append(f"L{sx(x):.1f},{sy(y_prev):.1f}L{sx(x):.1f},{sy(y):.1f}")
        parts.append(
            f'<path d="{"".join(path)}" fill="none" stroke="{colour}" stroke-width="2">'
            f"<title>{html.escape(name)}</title></path>"
        )
    legend = " ".join(
        f'<tspan fill="{_COLOURS[i % len(_COLOURS)]}">■ {html.escape(name)}</tspan>'
        for i, name in enumerate(series)
    )
    parts.append(f'<text x="{pad_l + 8}" y="16" class="legend">{legend}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_bars(values: list[int], label: str, width: int = 640, height: int = 200) -> str:
    if not values:
        return ""
    pad_l, pad_r, pad_t, pad_b = 48, 12, 12, 28
    top = max(max(values), 1)
    slot = (width - pad_l - pad_r) / len(values)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{html.escape(label)}">',
        f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" class="axis"/>',
        f'<text x="{pad_l - 6}" y="{pad_t + 4}" class="tick" text-anchor="end">{top}</text>',
        f'<text x="{pad_l - 6}" y="{height - pad_b + 4}" class="tick" text-anchor="end">0</text>',
    ]
    for index, value in enumerate(values):
        h = value / top * (height - pad_t - pad_b)
        x = pad_l + index * slot + slot * 0.1
        parts.append(
            f'<rect x="{x:.1f}" y="{height - pad_b - h:.1f}" width="{slot * 0.8:.1f}" height="{h:.1f}" '
            f'fill="{_COLOURS[0]}"><title>minute {index + 1}: {value} units</title></rect>'
        )
    parts.append(f'<text x="{pad_l}" y="{height - 8}" class="tick">minute 1</text>')
    parts.append(
        f'<text x="{width - pad_r}" y="{height - 8}" class="tick" text-anchor="end">minute {len(values)}</text>'
    )
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
.axis{stroke:#555;stroke-width:1}.tick{fill:#9aa0a6;font-size:11px}.legend{font-size:12px}
.none{color:#9aa0a6}
"""


def render_html(report: Report) -> str:
    esc = html.escape
    kpis = "".join(
        f'<div class="kpi"><b>{esc(_show(value, unit))}</b><span>{esc(label)}</span></div>'
        for label, _, value, unit in _summary(report)
        if label not in ("Offer started",)
    )
    sections = [
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
        _svg_lines({k: [(x, float(y)) for x, y in v] for k, v in report.stock_series.items()}, "stock left")
        or '<p class="none">No drop events.</p>',
        "<h2>Units sold per minute</h2>",
        _svg_bars(report.sales_per_minute_series, "units sold per minute") or '<p class="none">No offer window.</p>',
    ]
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
    for metric, title, unit in (("battery_pct", "Battery", "%"), ("rtt_ms", "Round trip to the ingest", "ms")):
        series = report.health_series.get(metric)
        if series:
            low_high = {"min": [(t, lo) for t, lo, _ in series], "max": [(t, hi) for t, _, hi in series]}
            sections += [f"<h2>{title} ({unit})</h2>", _svg_lines(low_high, f"{title} {unit}")]
    sections.append("<h2>Alerts</h2>")
    sections.append(
        _html_table(["At", "Level", "Message"], [[fmt_time(a.wall), a.level, a.message] for a in report.alerts])
        if report.alerts
        else '<p class="none">None.</p>'
    )
    if report.incidents:
        sections += ["<h2>Incidents</h2>", _html_table(
            ["At", "What", "Message"], [[fmt_time(i.wall), i.what, i.message] for i in report.incidents]
        )]
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(report.title)} — Booth report</title><style>{_CSS}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
