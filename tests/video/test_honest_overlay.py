"""The latency-honest overlay as viewers get it, read from the program frame's pixels: with viewers
4 s behind, the burned clock runs 4 s ahead, LAST CALL replaces a number that sells within 4 s, and
the burned 00:00 comes while sales are still open — every decision in the session log."""

from __future__ import annotations

import numpy as np

from booth.app.root import build_booth
from booth.app.session_records import SessionRecords
from booth.core.clock import ManualClock
from booth.core.config import parse_config
from booth.core.overlay import AMBER, GREY, RED, WHITE, Corner, OverlayModel
from booth.devices.imaging import solid
from booth.drop.session import start_drop_session
from booth.store.reader import SessionReader
from booth.video.overlay_render import OverlayRenderer
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)
DROP = {
    "drop": {"title": "Honest drop", "timer_seconds": 90, "last_call_seconds": 10, "low_stock_at": 10,
             "critical_stock_at": 3},
    "sku": [{"id": "tee", "name": "TEE / BLACK", "stock": 12}],
    "program": {"size": "640x360", "fps": 30},
    "timing": {"viewer_delay_seconds": 4.0},
}  # fmt: skip


def burned(booth) -> np.ndarray:
    """The overlay corner of a program frame composed after now."""
    after = booth.program.seq + 1
    wait_until(lambda: booth.program.seq > after, 5, "a new program frame")
    return booth.program.newest().pixels[180:, :400, :3].astype(np.int16)


def rendered(stock: str, stock_colour, timer: str, label: str, timer_colour) -> np.ndarray:
    """The same corner as the overlay renderer draws this model onto the grey test camera."""
    pixels = solid(*SIZE, (90, 90, 90))
    model = OverlayModel("TEE / BLACK", stock, stock_colour, timer, label, timer_colour, Corner.BOTTOM_LEFT)
    OverlayRenderer(SIZE).burn(pixels, model)
    return pixels[180:, :400, :3].astype(np.int16)


def shows(frame: np.ndarray, *model) -> bool:
    return bool(np.abs(frame - rendered(*model)).mean() < 0.5)


def test_viewers_four_seconds_behind_see_the_clock_stock_and_close_as_they_really_are(qapp, tmp_path):
    config = parse_config(DROP, "honest.toml")
    clock = ManualClock()
    session = start_drop_session(tmp_path, config, clock=clock)
    booth = build_booth(config, clock=clock, source=SolidSource(SIZE), session=session)
    records = SessionRecords(session.log, booth.compositor.stats)
    booth.scarcity.on_decision(records.overlay_decision)
    booth.start()
    try:
        controller = booth.controller
        assert controller.start_timer().accepted
        frame = burned(booth)
        assert shows(frame, "12 LEFT", WHITE, "01:26", "", WHITE)  # 90 s of offer, seen 4 s late
        assert not shows(frame, "12 LEFT", WHITE, "01:30", "", WHITE)
        assert booth.scarcity.host_view().timer_true == "01:30"

        for _ in range(8):  # a sale a second: by the time viewers read "3 LEFT", 4 more have gone
            clock.advance(1.0)
            assert controller.sell().accepted
        assert shows(burned(booth), "4 LEFT", AMBER, "01:18", "", WHITE)  # 0.8 a second × 4 s = 3.2 < 4
        clock.advance(1.0)
        assert controller.sell().accepted  # 3 left, 0.9 a second: 3.6 sell within D
        assert shows(burned(booth), "LAST CALL", RED, "01:17", "", WHITE)
        assert "on screen LAST CALL · true 3 LEFT" in booth.viewer_time()

        clock.advance(77.5)  # 3.5 s of sales left: viewers see this frame as the offer closes
        # …and nothing sold for a minute: 3 no longer go within 4 s, so the number is back.
        assert shows(burned(booth), "3 LEFT", RED, "00:00", "OFFER ENDED", GREY)
        assert controller.sell().accepted, "the sale window itself is the configured one"
        clock.advance(4.0)
        wait_until(lambda: controller.view().phase.value == "ended", 5, "the offer to close at its deadline")
        assert not controller.sell().accepted
        assert session.log.flush()
    finally:
        booth.stop()  # closes the session log last
    with SessionReader(tmp_path / "booth.sqlite3") as reader:
        shown = [e.payload for e in reader.events(reader.session().id) if e.kind == "overlay"]
    assert [(d["what"], d["shown"]) for d in shown] == [
        ("viewer_delay", "D = 4.00 s"),
        ("countdown", "01:26"),
        ("stock", "LAST CALL"),
        ("countdown", "00:00 OFFER ENDED"),
        ("stock", "3 LEFT"),
    ]
    closed = shown[3]
    assert closed["true"] == "00:04 LAST CALL" and closed["viewers_see_at_wall"] == closed["at_wall"] + 4.0
    assert "3 left sell within D = 4.00 s" in shown[2]["reason"]
