"""What the window's clip controls do: live clips on program out, with the [clips] defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from booth.core.clips_config import ClipsConfig
from booth.program_out.export import ExportJob, ExportStatus
from booth.program_out.live_clips import ClipOrder
from booth.program_out.program_out import ProgramOut


@dataclass
class ClipDesk:
    output: ProgramOut
    defaults: ClipsConfig

    @property
    def has_clean(self) -> bool:
        return self.output.live_clips.has_clean

    def export(self, order: ClipOrder) -> ExportJob:
        return self.output.export_clip(order)

    def export_moment(self, index: int, order: ClipOrder) -> ExportJob:
        return self.output.export_moment_clip(index, order)

    def clean_line(self) -> str:
        """The clean feed for the tech lead: running, its rate and what it skipped ("" when it is off)."""
        link = self.output.clean_encoder
        if link is None:
            return ""
        status = link.status()
        if status.error:
            return f"clean feed: {status.error}"
        buffered = self.output.clean_replay.span_s() if self.output.clean_replay is not None else 0.0
        return (f"clean feed: {status.fps:.0f} fps · {status.dropped_frames} skipped (below the program) · "
                f"{buffered:.0f} s buffered")  # fmt: skip

    def cancel(self, job_id: int) -> bool:
        return self.output.exports.cancel(job_id)

    def on_update(self, listener: Callable[[ExportStatus], None]) -> None:
        """`listener(status)` on the booth-export worker (marshal to the GUI thread)."""
        self.output.exports.on_update(listener)
