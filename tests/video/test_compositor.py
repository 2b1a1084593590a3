"""Program frames carry the overlay in their pixels, legibly, at the program size and rate."""

from __future__ import annotations

import numpy as np

from booth.core.frames import ProgramFrame
from booth.core.overlay import AMBER, RED, WHITE
from tests.waiting import wait_until

GREY = 90


def colour_mask(frame: ProgramFrame, rgb: tuple[int, int, int], tolerance: int = 30) -> np.ndarray:
    bgr = np.array([rgb[2], rgb[1], rgb[0]], dtype=np.int16)
    diff = np.abs(frame.pixels[:, :, :3].astype(np.int16) - bgr)
    return np.all(diff <= tolerance, axis=2)


def next_frame(qtbot, booth, after_seq: int = 0) -> ProgramFrame:
    """The first program frame composed after `after_seq`."""
    wait_until(lambda: booth.program.seq > after_seq, 5)
    frame = booth.program.newest()
    return frame


def frame_after_change(qtbot, booth) -> ProgramFrame:
    start = booth.program.seq
    return next_frame(qtbot, booth, start + 1)  # +1: a frame already being composed may predate the change


def test_program_frames_are_program_size_bgra_with_the_overlay_burned_in(qtbot, small_booth):
    small_booth.start()
    frame = next_frame(qtbot, small_booth)
    assert frame.pixels.shape == (360, 640, 4)
    assert frame.source == "primary"
    # Untouched source picture away from the overlay…
    assert tuple(frame.pixels[100, 300, :3]) == (GREY, GREY, GREY)
    # …and the white "12 LEFT" text inside the bottom-left plate.
    white = colour_mask(frame, WHITE, tolerance=10)
    assert white[180:, :320].sum() > 500
    assert white[:180].sum() == 0


def test_stock_colour_in_the_program_turns_amber_then_red_then_sold_out(qtbot, small_booth):
    small_booth.start()
    controller = small_booth.controller
    for _ in range(2):
        controller.sell()  # 10 left → amber
    amber = colour_mask(frame_after_change(qtbot, small_booth), AMBER).sum()
    for _ in range(7):
        controller.sell()  # 3 left → red
    frame = frame_after_change(qtbot, small_booth)
    red = colour_mask(frame, RED).sum()
    assert amber > 300
    assert red > 300 and colour_mask(frame, AMBER).sum() < amber / 10
    for _ in range(3):
        controller.sell()  # SOLD OUT: white text on a red pill
    frame = frame_after_change(qtbot, small_booth)
    assert colour_mask(frame, RED).sum() > red  # the pill is bigger than the red digits were
    assert controller.view().sku("tee").left == 0


def test_stock_text_is_at_least_six_percent_of_the_frame_height_and_inside_the_safe_area(qtbot, small_booth):
    small_booth.start()
    for _ in range(3):
        small_booth.controller.sell()  # 9 left: amber, so the stock text can be told from the rest
    frame = frame_after_change(qtbot, small_booth)
    rows, _cols = np.nonzero(colour_mask(frame, AMBER))
    text_height = rows.max() - rows.min() + 1
    assert text_height >= 0.06 * 360
    # overlay pixels (anything not the grey source, below its blinking corner) stay in the safe area
    changed_rows, changed_cols = np.nonzero(np.any(frame.pixels[64:, :, :3] != GREY, axis=2))
    changed_rows += 64
    assert changed_rows.min() >= 0.05 * 360 - 1 and changed_rows.max() <= 0.95 * 360 + 1
    assert changed_cols.min() >= 0.05 * 640 - 1 and changed_cols.max() <= 0.95 * 640 + 1


def test_the_countdown_really_closes_the_offer_at_its_deadline(qtbot, qapp):
    from booth.app.root import build_booth
    from booth.core.config import ProgramConfig, demo_config
    from booth.core.drop import DropSpec, Sku
    from booth.core.events import OfferEnded
    from tests.conftest import SolidSource

    spec = DropSpec("Short", (Sku("tee", "TEE", 5),), timer_seconds=0.5, last_call_seconds=0.25)
    config = type(demo_config())(drop=spec, program=ProgramConfig(640, 360, 30))
    booth = build_booth(config, source=SolidSource((640, 360)))
    booth.start()
    try:
        controller = booth.controller
        controller.start_timer()
        assert controller.sell().accepted
        wait_until(lambda: any(isinstance(e, OfferEnded) for e in controller.events()), 5)
        ended = [e for e in controller.events() if isinstance(e, OfferEnded)]
        assert [e.reason for e in ended] == ["deadline"]  # recorded once, by the clock, not by a click
        result = controller.sell()
        assert not result.accepted and "Offer ended" in result.refusal.message
        assert controller.view().sku("tee").left == 4
        assert booth.overlay_model().timer_label == "OFFER ENDED"
        assert booth.overlay_model().timer_text == "00:00"
    finally:
        booth.stop()


def test_slate_is_shown_with_the_overlay_while_the_source_has_no_frame(qtbot, qapp):
    from booth.app.root import build_booth
    from booth.core.config import ProgramConfig, demo_config
    from booth.devices.sources import SourceError

    class DeadSource:
        label, live, nominal_fps = "camera:9", True, 30.0

        def open(self):
            raise SourceError("Camera '9' could not be opened (is it plugged in, or busy?).")

        def read(self):
            raise AssertionError("never opened")

        def close(self):
            pass

    config = demo_config()
    config = type(config)(drop=config.drop, program=ProgramConfig(640, 360, 30))
    booth = build_booth(config, source=DeadSource())
    booth.start()
    try:
        frame = next_frame(qtbot, booth, 3)
        assert frame.source == "slate" and frame.repeat
        assert colour_mask(frame, WHITE, tolerance=10)[180:, :320].sum() > 500  # "50 LEFT" still on
        wait_until(lambda: booth.source_statuses()[0].state.value == "down", 3)
        status = booth.source_statuses()[0]
        assert "could not be opened" in status.message and status.reconnects >= 1
    finally:
        booth.stop()
