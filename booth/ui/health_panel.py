"""Rig health widgets: the tech lead's panel and the host's one-line alert.

Both are passive: the owner pulls `HealthMonitor.latest()` on a GUI timer (≤500 ms). It calls
`record` on every pull whether the panel is shown or not, so the history goes back to start-up
(bounded: see `booth.core.health.history`), and `set_snapshot` while the panel is shown: texts
refresh on every call, the plots redraw at most once a second of snapshot time. No timers, no
threads in here.
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QBoxLayout, QComboBox, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from booth.core.health.alerts import Alert, Severity
from booth.core.health.history import HealthHistory
from booth.core.health.meter import MicState
from booth.core.health.network import EndpointState, InterfaceKind
from booth.core.health.power import PowerVerdict
from booth.core.health.snapshot import HealthSnapshot
from booth.core.health.system import format_bytes, format_duration
from booth.ui.elided import ElidedLabel
from booth.ui.theme import PALETTE

SEVERITY_COLOURS = {
    Severity.CRITICAL: (PALETTE.red, "#ffffff"),
    Severity.WARN: (PALETTE.amber, "#111111"),
    Severity.INFO: (PALETTE.panel, PALETTE.text),
    Severity.OK: (PALETTE.panel, PALETTE.green),
}
_LIGHT = {Severity.CRITICAL: PALETTE.red, Severity.WARN: PALETTE.amber, Severity.INFO: PALETTE.muted,
          Severity.OK: PALETTE.green}
_VERDICT_SEVERITY = {
    PowerVerdict.NO_GO: Severity.CRITICAL,
    PowerVerdict.AT_RISK: Severity.WARN,
    PowerVerdict.ESTIMATING: Severity.INFO,
    PowerVerdict.UNKNOWN: Severity.WARN,
}
PLOT_STEP_S = 1.0
WIDE_PX = 900  # from this width the figures sit beside the plots
# What the plots span: (label, seconds; None = everything kept since start-up).
RANGES: tuple[tuple[str, float | None], ...] = (("last 10 min", 600.0), ("last hour", 3600.0),
                                                 ("since start-up", None))


def _light(severity: Severity) -> str:
    return f'<span style="color:{_LIGHT[severity]}">●</span>'


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class HostAlertLine(ElidedLabel):
    """The worst alert the host must act on, in one large line coloured by severity ("Rig OK" when
    there is none). Info items and alerts whose cause is gone (clearing) stay in the tech lead's
    view. One line whatever the sentence: a long one is cut with "…", whole in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hostAlert")
        self._severity: Severity | None = None
        self._show(None, 0)

    @property
    def severity(self) -> Severity:
        return self._severity or Severity.OK

    def set_snapshot(self, snapshot: HealthSnapshot | None, extra: tuple[Alert, ...] = ()) -> None:
        """The rig's alerts, and `extra` ones from elsewhere (the shop's sync): the worst is shown."""
        pressing = sorted((*(snapshot.for_host if snapshot is not None else ()), *extra),
                          key=lambda a: a.severity, reverse=True)  # fmt: skip
        self._show(pressing[0] if pressing else None, max(0, len(pressing) - 1))

    def _show(self, alert: Alert | None, others: int) -> None:
        severity = alert.severity if alert else Severity.OK
        text = alert.message if alert else "Rig OK"
        if others:
            text += f"   (+{others} more)"
        self.set_full_text(text)
        if severity is not self._severity:
            self._severity = severity
            bg, fg = SEVERITY_COLOURS[severity]
            self.setStyleSheet(
                f"QLabel#hostAlert {{ background: {bg}; color: {fg}; font-size: 21px; font-weight: 800; "
                f"padding: 2px 12px; border-radius: 8px; }}"
            )


class HealthPanel(QWidget):
    """Every figure, with its status light, and the last 10 minutes plotted."""

    def __init__(self, parent: QWidget | None = None, span_s: float | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthPanel")
        self.setStyleSheet(
            f"QWidget#healthPanel {{ background: {PALETTE.window}; }}"
            f"QLabel {{ color: {PALETTE.text}; font-size: 17px; background: transparent; }}"
            f"QLabel[role='head'] {{ color: {PALETTE.muted}; font-size: 15px; font-weight: 700; }}"
        )
        self.history = HealthHistory() if span_s is None else HealthHistory(span_s=span_s)
        self._last_plot_at: float | None = None
        self.plot_redraws = 0

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(6)
        self.rows: dict[str, QLabel] = {}
        for row, (key, title) in enumerate(
            [("power", "POWER"), ("system", "SYSTEM"), ("disk", "DISK"), ("network", "NETWORK"),
             ("endpoints", "ENDPOINTS"), ("mic", "MICROPHONE"), ("alerts", "ALERTS")]
        ):
            head = QLabel(title)
            head.setProperty("role", "head")
            head.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            value = QLabel("—")
            value.setTextFormat(Qt.TextFormat.RichText)
            value.setWordWrap(True)
            value.setObjectName(f"health_{key}")
            grid.addWidget(head, row, 0)
            grid.addWidget(value, row, 1)
            self.rows[key] = value
        grid.setColumnStretch(1, 1)

        self.range_box = QComboBox()
        self.range_box.addItems([label for label, _ in RANGES])
        self.range_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.range_box.currentIndexChanged.connect(lambda _i: self._redraw_plots())
        self.range_box.setToolTip("How far back the plots go (the history is kept from start-up, up to "
                                  f"{self.history.span_s / 3600:.0f} h)")
        range_row = QHBoxLayout()
        range_row.addWidget(QLabel("Plots:"))
        range_row.addWidget(self.range_box)
        range_row.addStretch(1)
        self.covered_label = QLabel("")
        range_row.addWidget(self.covered_label)

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground(PALETTE.window)
        self.plots.setMinimumHeight(240)
        self._plots_added = 0
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._plot_power = self._add_plot("Battery and CPU", "percent", "%", (0, 100))
        self.curves["battery_percent"] = self._plot_power.plot(pen=pg.mkPen(PALETTE.green, width=2),
                                                                name="battery %")
        self.curves["cpu_percent"] = self._plot_power.plot(pen=pg.mkPen("#5dade2", width=1), name="CPU % (machine)")
        self._plot_rtt = self._add_plot("Round trip to each endpoint", "RTT", "ms", None)
        self._plot_rtt.getViewBox().setLimits(yMin=0)
        self._plot_mic = self._add_plot("Microphone", "peak", "dBFS", (-90, 0))
        self.curves["mic_peak_dbfs"] = self._plot_mic.plot(pen=pg.mkPen(PALETTE.amber, width=1), name="peak dBFS")
        self._plot_net = self._add_plot("Upload, all interfaces", "upload", "Mbit/s", None)
        self._plot_net.getViewBox().setLimits(yMin=0)
        self.curves["upload_mbps"] = self._plot_net.plot(pen=pg.mkPen("#af7ac5", width=1), name="upload Mbit/s")
        self.plot_items = {"power": self._plot_power, "rtt": self._plot_rtt, "mic": self._plot_mic,
                           "upload": self._plot_net}
        self._rtt_pens = ["#f4d03f", "#48c9b0", "#eb984e", "#a569bd", "#5dade2"]
        self._dirty = False

        figures = QVBoxLayout()
        figures.addLayout(grid)
        figures.addLayout(range_row)
        figures.addStretch(1)
        # Figures above the plots in a tall window, beside them in a wide one (the window over a
        # 1366×768 laptop's preview is wide and short).
        self._layout = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self._layout.setContentsMargins(12, 12, 12, 12)
        self._layout.setSpacing(12)
        self._layout.addLayout(figures)
        self._layout.addWidget(self.plots, 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE_PX
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if self._layout.direction() != direction:
            self._layout.setDirection(direction)

    def _add_plot(self, title: str, y_name: str, y_unit: str, y_range: tuple[float, float] | None) -> pg.PlotItem:
        plot = self.plots.addPlot(title=f'<span style="color:{PALETTE.muted}">{title}</span>')
        axis_style = {"color": PALETTE.muted, "font-size": "11pt"}
        plot.setLabel("left", f"{y_name} ({y_unit})", **axis_style)
        plot.setLabel("bottom", "minutes before now", **axis_style)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)  # the unit is in the label: no "(x0.001)"
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        legend = plot.addLegend(offset=(6, 2), labelTextColor=PALETTE.text, labelTextSize="9pt", verSpacing=-6)
        legend.setBrush(pg.mkBrush(PALETTE.panel))
        if y_range is not None:
            plot.setYRange(*y_range, padding=0.02)
        self._plots_added += 1
        if self._plots_added % 2 == 0:  # two plots a row: each gets room for its axes and legend
            self.plots.nextRow()
        return plot

    # ------------------------------------------------------------------ updates
    def record(self, snapshot: HealthSnapshot) -> None:
        """Keep the figures for the plots (called on every refresh, shown or not)."""
        if self.history.add(snapshot):
            self._dirty = True

    def set_snapshot(self, snapshot: HealthSnapshot) -> None:
        """Record, and refresh what the panel shows (the owner calls this while it is shown)."""
        self.record(snapshot)
        self.rows["power"].setText(self._power_text(snapshot))
        self.rows["system"].setText(self._system_text(snapshot))
        self.rows["disk"].setText(self._disk_text(snapshot))
        self.rows["network"].setText(self._network_text(snapshot))
        self.rows["endpoints"].setText(self._endpoints_text(snapshot))
        self.rows["mic"].setText(self._mic_text(snapshot))
        self.rows["alerts"].setText(self._alerts_text(snapshot))
        if self._last_plot_at is None or snapshot.taken_at - self._last_plot_at >= PLOT_STEP_S * 0.95:
            self._last_plot_at = snapshot.taken_at
            self._redraw_plots()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._redraw_plots()  # what was recorded while hidden, at once

    @property
    def plot_span_s(self) -> float | None:
        return RANGES[self.range_box.currentIndex()][1]

    def _redraw_plots(self) -> None:
        self.plot_redraws += 1
        self._dirty = False
        span = self.plot_span_s
        for key, curve in self.curves.items():
            if key.startswith("rtt_ms."):
                continue
            xs, ys = self.history.series(key, span)
            curve.setData([x / 60 for x in xs], ys, connect="finite")
        for key in self.history.figure_names():
            if not key.startswith("rtt_ms."):
                continue
            curve = self.curves.get(key)
            if curve is None:
                pen = self._rtt_pens[sum(k.startswith("rtt_ms.") for k in self.curves) % len(self._rtt_pens)]
                curve = self.curves[key] = self._plot_rtt.plot(pen=pg.mkPen(pen, width=2),
                                                               name=f"{key.removeprefix('rtt_ms.')} ms")
            xs, ys = self.history.series(key, span)
            curve.setData([x / 60 for x in xs], ys, connect="finite")
        shown = span if span is not None else max(60.0, self.history.covered_s)
        for plot in self.plot_items.values():
            plot.setXRange(-shown / 60, 0, padding=0)
        covered = self.history.covered_s
        self.covered_label.setText(f"{format_duration(covered)} of history kept" if covered else "")

    # ------------------------------------------------------------------ texts
    @staticmethod
    def _power_text(s: HealthSnapshot) -> str:
        p = s.power
        light = _light(_VERDICT_SEVERITY.get(p.verdict, Severity.OK))
        if p.verdict is PowerVerdict.MAINS:
            return f"{light} mains power (no battery)"
        if p.percent is None:
            return f"{light} {_esc(p.verdict.value)}: {_esc(p.detail)}"
        parts = [f"battery {p.percent:.0f} %", "on charger" if p.plugged else "on battery"]
        if p.drain_pct_per_min is not None and not p.plugged:
            parts.append(f"drain {p.drain_pct_per_min:.2f} %/min")
        if p.forecast_min is not None and not p.plugged:
            parts.append(f"≈{p.forecast_min:.0f} min left ({p.forecast_source})")
        if p.os_minutes_left is not None:
            parts.append(f"OS says {p.os_minutes_left:.0f} min")
        if p.need_min is not None:
            parts.append(f"drop needs {p.need_min:.0f} min")
        return f"{light} <b>{_esc(p.verdict.value.upper())}</b> · " + " · ".join(parts)

    @staticmethod
    def _system_text(s: HealthSnapshot) -> str:
        r = s.system
        if r is None:
            return "—"
        cpu = f"CPU {r.cpu_percent:.0f} %" if r.cpu_percent is not None else "CPU n/a"
        if r.process_cpu_percent is not None:
            cpu += f" (Booth {r.process_cpu_percent:.0f} %)"
        mem = f"memory {r.memory_percent:.0f} %" if r.memory_percent is not None else "memory n/a"
        hottest = r.hottest
        temp = f"{hottest.celsius:.0f} °C ({_esc(hottest.sensor)})" if hottest else "temperature n/a"
        sev = max((a.severity for a in s.alerts if a.key in ("cpu", "memory", "temperature")),
                  default=Severity.OK)
        return f"{_light(sev)} {cpu} · {mem} · {temp}"

    @staticmethod
    def _disk_text(s: HealthSnapshot) -> str:
        d = s.disk
        if d is None:
            return "—"
        if d.free_bytes is None:
            return f"{_light(Severity.WARN)} {_esc(d.path)}: {_esc(d.error or 'n/a')}"
        left = d.record_seconds_left
        sev = next((a.severity for a in s.alerts if a.key == "disk"), Severity.OK)
        rec = f" · ≈{format_duration(left)} of recording at {d.record_bitrate_bps / 1e6:.1f} Mbit/s" if left else ""
        return f"{_light(sev)} {format_bytes(d.free_bytes)} free{rec}"

    @staticmethod
    def _network_text(s: HealthSnapshot) -> str:
        parts = []
        for i in s.interfaces:
            if i.kind in (InterfaceKind.LOOPBACK, InterfaceKind.VIRTUAL):
                continue
            rate = ""
            if i.tx_bps is not None and i.rx_bps is not None:
                rate = f" ↑{i.tx_bps / 1e6:.2f} ↓{i.rx_bps / 1e6:.2f} Mbit/s"
            speed = f" link {i.speed_mbps:.0f} Mbit/s" if i.speed_mbps else ""
            parts.append(f"{_light(Severity.OK if i.up else Severity.CRITICAL)} {_esc(i.name)} "
                         f"({_esc(i.kind.value)}, {'up' if i.up else 'down'}){rate}{speed}")
        if s.output_bitrate_bps:
            parts.append(f"stream needs {s.output_bitrate_bps / 1e6:.1f} Mbit/s up")
        return "<br>".join(parts) or "no interfaces"

    @staticmethod
    def _endpoints_text(s: HealthSnapshot) -> str:
        if not s.endpoints:
            return "none configured"
        lines = []
        for e in s.endpoints:
            sev = {EndpointState.OK: Severity.OK, EndpointState.FAILING: Severity.WARN,
                   EndpointState.UNREACHABLE: Severity.CRITICAL}.get(e.state, Severity.INFO)
            sev = max(sev, max((a.severity for a in s.alerts if a.key.startswith(f"endpoint.{e.name}.")),
                               default=Severity.OK))
            figures = []
            if e.srtt_s is not None:
                figures.append(f"RTT {e.srtt_s * 1000:.0f} ms")
            if e.jitter_s is not None:
                figures.append(f"jitter {e.jitter_s * 1000:.0f} ms")
            if e.loss_percent is not None:
                figures.append(f"loss {e.loss_percent:.0f} % of {e.probes}")
            if e.state is not EndpointState.OK and e.last_error:
                figures.append(e.last_error)
            lines.append(f"{_light(sev)} <b>{_esc(e.name)}</b> {_esc(e.state.value)} · "
                         + _esc(" · ".join(figures)))
        return "<br>".join(lines)

    @staticmethod
    def _mic_text(s: HealthSnapshot) -> str:
        m = s.mic
        if m.state is not MicState.LIVE or m.meter is None:
            sev = Severity.INFO if m.state in (MicState.DISABLED, MicState.OPENING) else Severity.WARN
            if m.state is MicState.LOST:
                sev = Severity.CRITICAL
            return f"{_light(sev)} {_esc(m.state.value)}{': ' + _esc(m.detail) if m.detail else ''}"
        r = m.meter
        sev = max((a.severity for a in s.alerts if a.key.startswith("mic.")), default=Severity.OK)
        clip = " · <b>CLIP</b>" if r.clipping else ""
        return (f"{_light(sev)} {_esc(m.device or '?')} · peak {r.peak_dbfs:.0f} dBFS · RMS {r.rms_dbfs:.0f} · "
                f"hold {r.hold_dbfs:.0f} · clips {r.clip_count} · silent {r.silent_s:.0f} s{clip}")

    @staticmethod
    def _alerts_text(s: HealthSnapshot) -> str:
        if not s.alerts:
            return f"{_light(Severity.OK)} none"
        return "<br>".join(
            f"{_light(a.severity)} {_esc(a.severity.label)}: {_esc(a.message)}"
            + (" <i>(clearing)</i>" if a.clearing else "")
            + (" <i>(info: not on the host's line)</i>" if a.severity is Severity.INFO else "")
            for a in s.alerts
        )
