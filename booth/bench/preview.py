"""The real preview widget, pulling program frames the way the host's window does (offscreen)."""

from __future__ import annotations

from booth.ui.bridge import FrameNotifier
from booth.ui.program_view import ProgramView
from booth.video.compositor import Compositor


def attach_preview(compositor: Compositor) -> tuple[ProgramView, FrameNotifier]:
    """A shown 960×540 ProgramView fed latest-frame-wins from `compositor`; keep both alive."""
    view = ProgramView()
    view.resize(960, 540)
    view.show()
    notifier = FrameNotifier()

    def show_latest() -> None:
        notifier.taken()
        _seq, frame = compositor.output.latest()
        if frame is not None:
            view.show_frame(frame)

    notifier.frame_ready.connect(show_latest)
    compositor.subscribe(notifier.notify)
    return view, notifier
