"""The real preview widget, pulling program frames the way the host's window does (offscreen)."""

from __future__ import annotations

from PySide6.QtCore import QTimer

from booth.core.frames import FrameStamp, ProgramFrame
from booth.runtime.feed import Feed
from booth.ui.program_view import ProgramView

DISPLAY_MS = 15


def attach_preview(program: Feed[ProgramFrame, FrameStamp]) -> tuple[ProgramView, QTimer]:
    """A shown 960×540 ProgramView pulling the newest program frame at display rate; keep both
    alive and stop the timer when done."""
    view = ProgramView()
    view.resize(960, 540)
    view.show()
    reader = program.reader()
    timer = QTimer(view)
    timer.setInterval(DISPLAY_MS)

    def show_newest() -> None:
        frame = reader.latest()
        if frame is not None:
            view.show_frame(frame)

    timer.timeout.connect(show_newest)
    timer.start()
    return view, timer
