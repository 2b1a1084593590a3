from __future__ import annotations

import threading

from booth.runtime.feed import Feed


def test_a_slow_reader_gets_the_newest_item_and_counts_what_it_missed():
    feed: Feed[int, None] = Feed()
    reader = feed.reader()
    for i in range(5):
        feed.put(i)
    assert reader.latest() == 4
    assert reader.dropped == 4
    assert reader.latest() is None  # nothing newer yet
    feed.put(5)
    assert reader.wait(0.0) == 5
    assert (reader.dropped, reader.last_skipped) == (4, 0)  # in step: nothing was replaced unread


def test_each_reader_has_its_own_position_and_drop_count():
    feed: Feed[str, None] = Feed()
    fast, slow = feed.reader(), feed.reader()
    for frame in ("a", "b", "c"):
        feed.put(frame)
        assert fast.latest() == frame
    assert slow.latest() == "c"
    assert (fast.dropped, slow.dropped) == (0, 2)


def test_a_reader_sees_only_what_comes_after_it_joined():
    feed: Feed[str, None] = Feed()
    feed.put("old")
    late = feed.reader()
    assert late.latest() is None
    feed.put("new")
    assert late.latest() == "new"


def test_wait_times_out_empty_and_wakes_on_put():
    feed: Feed[str, None] = Feed()
    reader = feed.reader()
    assert reader.wait(0.01) is None
    got: list = []
    waiting = threading.Thread(target=lambda: got.append(reader.wait(5.0)), name="test-reader")
    waiting.start()
    feed.put("frame")
    waiting.join(5.0)
    assert got == ["frame"]


def test_history_readers_see_every_stamp_without_the_pixels():
    feed: Feed[dict, int] = Feed(stamp=lambda item: item["seq"], history=4)
    history = feed.reader()
    for seq in range(3):
        feed.put({"seq": seq, "pixels": b"x" * 1000})
    assert history.history() == [0, 1, 2]
    for seq in range(3, 9):
        feed.put({"seq": seq, "pixels": b"x"})
    assert history.history() == [5, 6, 7, 8]  # the history holds 4: two were lost, and counted
    assert history.dropped == 2
