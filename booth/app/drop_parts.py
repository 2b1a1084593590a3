"""The parts every running drop has, with or without a picture: the session log, the drop
clock, the shop sync (with `[shop]`) and the control API. The GUI's root (`booth.app.root`) and
`booth serve` both build them here, into the same kind of lifecycle — so a headless drop never
imports Qt or a video library.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from booth.app.control_api import ControlApi, add_control_api
from booth.app.lifecycle import Lifecycle
from booth.app.options import Options
from booth.app.shop_part import ShopPart, add_shop
from booth.core.clock import Clock, SystemClock
from booth.core.config import BoothConfig
from booth.drop.clock import DropClock
from booth.drop.controller import DropController, Journal
from booth.drop.session import DropSession
from booth.ops.metrics import MetricsSources


@dataclass
class DropParts:
    controller: DropController
    drop_clock: DropClock
    lifecycle: Lifecycle
    session: DropSession | None = None
    api: ControlApi | None = None  # the control API, when asked for
    shop: ShopPart | None = None  # [shop]: the shop sync, sticker codes, webhooks
    problems: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.lifecycle.start()

    def stop(self) -> None:
        self.lifecycle.stop()


def build_drop(
    config: BoothConfig,
    lifecycle: Lifecycle,
    clock: Clock | None = None,
    journal: Journal | None = None,
    session: DropSession | None = None,
) -> DropParts:
    """The drop's controller (replayed from `session` when there is one) and its clock.
    The session log is the lifecycle's first part, so it is the last to stop."""
    clock = clock or SystemClock()
    controller = session.controller if session is not None else DropController(config.drop, clock, journal)
    if session is not None:
        lifecycle.add("session log", lambda: None, session.close)
    return DropParts(controller, DropClock(controller), lifecycle, session)


def add_drop_clock(parts: DropParts) -> None:
    clock = parts.drop_clock
    parts.lifecycle.add("drop clock", clock.start, clock.stop, lambda: [clock.problem] if clock.problem else [])


def add_drop_shop(parts: DropParts, config: BoothConfig, options: Options) -> None:
    """`[shop]` without a picture: the sync, sticker codes and webhooks (nothing without `[shop]`)."""
    parts.shop = add_shop(parts.lifecycle, config, options, parts.controller, parts.session)


def add_drop_api(parts: DropParts, options: Options, commit_timeout_s: float = 5.0) -> None:
    """`--api-port` without a picture (`booth serve`): the drop's endpoints and its metrics.
    `commit_timeout_s`: how long a call waits for the disk before it answers 504."""
    controller = parts.controller
    parts.api = add_control_api(parts.lifecycle, parts.problems, options, controller, parts.session,
                                MetricsSources(drop=controller.view), commit_timeout_s=commit_timeout_s,
                                shop=parts.shop)  # fmt: skip
