"""The health widgets, offscreen: text per snapshot, plots at most once a second, severity colours."""

from __future__ import annotations

import pytest

from booth.core.health.alerts import Severity
from booth.ui.health_panel import HealthPanel, HostAlertLine

from .fakes import CRIT_INGEST, WARN_BATTERY, make_snapshot


def test_host_line_shows_the_worst_alert(qtbot):
    line = HostAlertLine()
    qtbot.addWidget(line)
    line.set_snapshot(make_snapshot())
    assert line.text() == "Rig OK" and line.severity is Severity.OK
    line.set_snapshot(make_snapshot(alerts=(WARN_BATTERY,)))
    assert line.text() == "Battery 14 %: about 11 min left, the drop needs 15" and line.severity is Severity.WARN
    line.set_snapshot(make_snapshot(alerts=(CRIT_INGEST, WARN_BATTERY)))
    assert line.text().startswith("Ingest unreachable") and "(+1 more)" in line.text()
    assert line.severity is Severity.CRITICAL


def test_panel_text_and_plot_refresh(qtbot, tmp_path):
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.resize(1100, 900)
    for i in range(20):  # 4 snapshots a second for 5 s
        panel.set_snapshot(make_snapshot(seq=i, t=1000 + i * 0.25, battery=62 - i * 0.01, rtt_s=0.048))
    assert panel.plot_redraws == 5  # plots redraw once per second of snapshot time
    assert len(panel.history) == 3  # one point per 2 s of snapshot time
    text = panel.findChild(type(panel.rows["power"]), "health_power").text()
    assert "GO" in text and "drop needs 15 min" in text
    endpoints = panel.rows["endpoints"].text()
    assert "ingest" in endpoints and "RTT 48 ms" in endpoints
    panel.set_snapshot(make_snapshot(seq=99, t=1010, rtt_s=None, alerts=(CRIT_INGEST,)))
    assert "unreachable" in panel.rows["endpoints"].text()
    assert "Ingest unreachable" in panel.rows["alerts"].text()
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.grab().save(str(tmp_path / "health.png"))


def test_history_is_kept_while_the_panel_is_hidden_and_the_plots_say_what_they_show(qtbot):
    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.resize(1100, 900)
    for i in range(120):  # a minute of snapshots while nobody looks at the panel
        panel.record(make_snapshot(seq=i, t=1000 + i * 0.5, battery=62 - i * 0.05, rtt_s=0.048))
    assert panel.plot_redraws == 0 and len(panel.history) == 30
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.plot_redraws == 1  # opening it draws what was kept, at once
    xs, ys = panel.curves["battery_percent"].getData()
    assert len(xs) == 30 and xs[0] == pytest.approx(-58 / 60) and xs[-1] == 0
    assert ys[0] == pytest.approx(62) and ys[-1] == pytest.approx(62 - 116 * 0.05)
    for plot in panel.plot_items.values():
        assert plot.getAxis("bottom").labelText == "minutes before now"
        assert plot.getAxis("left").labelText  # "percent (%)", "RTT (ms)", …
        assert plot.legend is not None
    legend = [label.text for _sample, label in panel.plot_items['power'].legend.items]
    assert legend == ["battery %", "CPU % (machine)"]
    assert "1 min of history kept" in panel.covered_label.text() or "58 s" in panel.covered_label.text()


def test_free_disk_reads_the_same_in_the_health_and_output_tabs(qtbot):
    """One unit convention: the same bytes are the same figure wherever they are shown."""
    import dataclasses

    from booth.core.health.system import DiskStatus
    from booth.core.output import OutputStatus
    from booth.ui.output_panel import OutputPanel

    free = 41_234_567_890
    health, output = HealthPanel(), OutputPanel()
    qtbot.addWidget(health)
    qtbot.addWidget(output)
    snapshot = dataclasses.replace(make_snapshot(), disk=DiskStatus("/rec", free, 256_000_000_000, 6e6))
    health.set_snapshot(snapshot)
    output.set_status(OutputStatus(recording_path="/rec/x.ts", recording_bytes=812_000_000, free_disk_bytes=free))
    assert "41.2 GB free" in health.rows["disk"].text()
    assert "41.2 GB free" in output.recording_label.text() and "812.0 MB" in output.recording_label.text()
