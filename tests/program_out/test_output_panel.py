"""The output panel shows each state in words, the problems as sentences, and emits clip requests."""

from __future__ import annotations

import os

from booth.core.output import OutputState, OutputStatus
from booth.ui.output_panel import OutputPanel
from booth.ui.theme import stylesheet

LIVE = OutputStatus(
    state=OutputState.LIVE, ingest="rtmp://a.rtmp.youtube.com/live2/abc…yz", encoding=True, bitrate_kbps=4620,
    encode_fps=30, frames_sent=5400, dropped_frames=3, time_live_s=754, recording_path="/rec/booth-20250101.ts",
    recording_bytes=420 * 1024**2, free_disk_bytes=41 * 1024**3, disk_minutes_left=1210, replay_s=90,
    last_clip="/rec/clips/clip-1.mp4", clip_message="Clip saved: 30 s, clip-1.mp4", moments=4,
)


def test_states_problems_and_clip_button(qtbot):
    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.setStyleSheet(stylesheet())
    panel.resize(460, 420)
    assert panel.state_text == "NOT STREAMING"
    assert not panel.clip_button.isEnabled()
    panel.set_status(LIVE)
    assert panel.state_text == "LIVE" and panel.time_label.text() == "12:34"
    assert "3 dropped" in panel.figures_label.text() and "4.6 Mbit/s" in panel.figures_label.text()
    assert "REC booth-20250101.ts" in panel.recording_label.text()
    with qtbot.waitSignal(panel.clip_requested, timeout=1000):
        panel.clip_button.click()
    backup = OutputStatus(**{**LIVE.__dict__, "state": OutputState.BACKUP,
                             "message": "On the backup ingest: the primary closed the connection; retrying."})
    panel.set_status(backup)
    assert panel.state_text == "LIVE · BACKUP" and "backup ingest" in panel.message_label.text()
    broken = OutputStatus(state=OutputState.RECONNECTING, encoding=True, replay_s=40,
                          message="Stream not reaching viewers: primary refused the connection. Retrying in 2 s.",
                          recording_path="/rec/x.ts", recording_error="Disk full: recording stopped after 812 MB.")
    panel.set_status(broken)
    assert panel.state_text == "RECONNECTING" and "Disk full" in panel.message_label.text()
    assert panel.recording_label.text() == "○ not recording"
    if os.environ.get("BOOTH_SCREENSHOTS"):
        panel.set_status(backup)
        panel.grab().save(os.path.join(os.environ["BOOTH_SCREENSHOTS"], "output_panel.png"))


def test_marked_moments_are_listed_and_the_selected_one_is_exported(qtbot):
    from PySide6.QtCore import Qt

    from booth.core.output import Moment

    panel = OutputPanel()
    qtbot.addWidget(panel)
    moments = [Moment(0, "first sale", 12.0, 0.0), Moment(1, "TEE / BLACK low stock: 10 left", 75.5, 0.0)]
    panel.set_moments(moments)
    panel.set_moments([*moments, Moment(2, "TEE / BLACK sold out", 130.0, 0.0)])  # only the new one is added
    texts = [panel.moment_list.item(i).text() for i in range(panel.moment_list.count())]
    assert texts == ["00:12  first sale", "01:15  TEE / BLACK low stock: 10 left", "02:10  TEE / BLACK sold out"]
    with qtbot.waitSignal(panel.export_requested) as exported:
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)  # nothing selected: the newest
    assert exported.args == [2]
    panel.moment_list.setCurrentRow(0)
    with qtbot.waitSignal(panel.export_requested) as exported:
        qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert exported.args == [0]
