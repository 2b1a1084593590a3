"""A drop backed by the session log: open (or recover) the log, build the controller, replay.

The one call for an app (GUI or headless)::

    session = start_drop_session(data_dir, config)      # StoreError → show its text, exit 2
    session.controller                                  # the DropController, already replayed
    session.messages                                    # sentences to show the host (recovery, set-aside DB)
    session.log.record(kinds.SOURCE_SWITCH, {...})      # non-drop events, any thread
    session.log.sample("battery_pct", 62.0)             # health samples, any thread
    ...
    session.close()                                     # on quit: logs a clean shutdown, joins the writer

Closing keeps the session open while the offer is still running (with a plan: until every segment has
run), so the next start resumes it; once the drop is over the session is closed and the next start
begins a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from booth.core.clock import Clock, SystemClock
from booth.core.config import BoothConfig
from booth.drop.controller import DropController
from booth.store import kinds
from booth.store.recovery import OpenedSession, open_session_log
from booth.store.session_log import SessionLog

log = logging.getLogger(__name__)


@dataclass
class DropSession:
    controller: DropController
    opened: OpenedSession
    close_reason: str = "quit"  # what the shutdown record says (set before the lifecycle stops)
    end_on_close: bool = False  # close the session even with the offer open (a rehearsal run by `booth rehearse`)

    @property
    def log(self) -> SessionLog:
        return self.opened.log

    @property
    def messages(self) -> list[str]:
        return self.opened.messages

    @property
    def good_news(self) -> list[str]:
        """Those of `messages` that report a success (a resumed drop), not a problem."""
        return self.opened.good_news

    @property
    def session_id(self) -> int:
        return self.opened.session_id

    @property
    def kind(self) -> str:
        """drop | rehearsal | live, as the session log has it (a resumed session keeps its kind)."""
        return self.opened.kind

    def close(self, reason: str | None = None) -> None:
        reason = reason or self.close_reason
        ended = self.end_on_close or self.controller.view().over  # with a plan: every segment has run
        self.log.record(kinds.SHUTDOWN, {"reason": reason, "offer_ended": ended})
        if ended:
            self.log.end_session()
        self.log.close()


def start_drop_session(
    data_dir: Path | str | None,
    config: BoothConfig,
    clock: Clock | None = None,
    kind: str = "drop",
    resume: bool = True,
    on_warning: Callable[[str], None] | None = None,
) -> DropSession:
    """Open the log in `data_dir` (None: user data folder), resume or begin a session, replay it."""
    clock = clock or SystemClock()
    opened = open_session_log(data_dir, config, kind=kind, resume=resume, on_warning=on_warning, wall=clock.wall)
    controller = DropController(opened.spec, clock, journal=opened.log)
    controller.replay(opened.recovered_events)
    if opened.resumed:
        view = controller.view()
        log.info(
            "drop resumed: phase %s, %.0f s left, stock %s",
            view.phase,
            view.remaining_s,
            {s.id: s.left for s in view.skus},
        )
    return DropSession(controller, opened)
