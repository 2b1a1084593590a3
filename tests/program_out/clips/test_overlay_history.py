"""A clip that spans a stock change lifts every place the plate had: "12 LEFT" is wider than "9 LEFT"."""

from __future__ import annotations

from booth.core.clip_presets import overlay_extent
from booth.core.overlay import AMBER, Corner, OverlayModel
from booth.program_out.overlay_history import OverlayHistory

SIZE = (1280, 720)


def model(left: int) -> OverlayModel:
    return OverlayModel("TEE / BLACK", f"{left} LEFT", AMBER, "00:40", "LIVE", AMBER, Corner.BOTTOM_LEFT)


def test_the_union_over_a_clip_covers_the_wider_plate_it_had_earlier() -> None:
    now = [100.0]
    shown = [model(12)]
    history = OverlayHistory(lambda: overlay_extent(*SIZE, [shown[-1]]), keep_s=90, clock=lambda: now[0])
    history.sample()  # t = 100: "12 LEFT"
    now[0] = 110.0
    shown.append(model(9))  # three sold
    history.sample()
    wide, narrow = overlay_extent(*SIZE, [model(12)]), overlay_extent(*SIZE, [model(9)])
    assert wide is not None and narrow is not None and wide.w > narrow.w
    assert history.union(95.0, 112.0) == wide.union(narrow)  # the clip saw both
    assert history.union(105.0, 112.0) == narrow  # only after the change


def test_the_history_samples_on_its_own_worker() -> None:
    from tests.waiting import wait_until

    calls = []

    def box():  # type: ignore[no-untyped-def]
        calls.append(1)
        return overlay_extent(*SIZE, [model(5)])

    history = OverlayHistory(box, keep_s=10)
    history.start()
    try:
        wait_until(lambda: len(calls) >= 2, 5, "two samples")
    finally:
        history.stop()
