from __future__ import annotations

import threading

from booth.runtime.feed import FrameSlot


def test_a_slow_reader_gets_the_newest_item_and_drops_are_counted():
    slot: FrameSlot[int] = FrameSlot()
    for i in range(5):
        slot.put(i)
    seq, item = slot.latest()
    assert (seq, item) == (5, 4)
    assert slot.dropped == 4
    slot.put(5)
    assert slot.wait_newer(seq, 0.0) == (6, 5)
    assert slot.dropped == 4  # the reader took item 5, nothing was replaced unread


def test_wait_newer_times_out_empty_and_wakes_on_put():
    slot: FrameSlot[str] = FrameSlot()
    assert slot.wait_newer(0, 0.01) is None
    got: list = []
    reader = threading.Thread(target=lambda: got.append(slot.wait_newer(0, 5.0)), name="test-reader")
    reader.start()
    slot.put("frame")
    reader.join(5.0)
    assert got == [(1, "frame")]
