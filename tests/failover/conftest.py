"""Real streams on 127.0.0.1 through the real object graph: a sender process as primary, the demo as secondary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import numpy as np
import pytest

from booth.app.root import Booth
from booth.bench.failover import FailoverRig, failover_rig
from booth.core.failover import FailoverSettings
from booth.core.frames import ProgramFrame
from booth.devices.imaging import solid
from booth.video.overlay_render import OverlayRenderer

PROGRAM = (320, 180)
DWELL_S = 1.0  # short return dwell so recovery tests stay quick; the bench uses the default 5 s


@pytest.fixture
def make_rig(qapp) -> Iterator[Callable[..., FailoverRig]]:
    """Start a sender + booth; both are stopped (threads joined, processes killed by PID) after the test."""
    with ExitStack() as stack:

        def make(
            dwell_s: float = DWELL_S, crf: int | None = None, size: tuple[int, int] = PROGRAM, **settings: float
        ) -> FailoverRig:
            sender_size = f"{size[0]}x{size[1]}"
            return stack.enter_context(
                failover_rig(FailoverSettings(dwell_s=dwell_s, **settings), size, sender_size, crf=crf)
            )

        yield make


def latest_frame(booth: Booth) -> ProgramFrame:
    frame = booth.program.newest()
    assert frame is not None
    return frame


def overlay_share(booth: Booth, frame: ProgramFrame) -> float:
    """Share of the overlay's opaque pixels that are in `frame` exactly as the overlay draws them.

    The opaque pixels are those that come out the same whether the overlay is burned onto
    black or onto white; those must be in the program frame whatever source is under it.
    """
    renderer = OverlayRenderer(PROGRAM)
    model = booth.overlay_model()
    on_black, on_white = solid(*PROGRAM, (0, 0, 0)), solid(*PROGRAM, (255, 255, 255))
    renderer.burn(on_black, model)
    renderer.burn(on_white, model)
    opaque = np.all(on_black[:, :, :3] == on_white[:, :, :3], axis=2)
    assert opaque.sum() > 200, "the overlay should have opaque text and plates"
    close = np.all(np.abs(frame.pixels[:, :, :3].astype(np.int16) - on_black[:, :, :3]) <= 3, axis=2)
    return float((close & opaque).sum() / opaque.sum())
