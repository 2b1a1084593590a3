"""Newest-item-wins hand-off from one producer to any number of readers.

The producer never waits and never queues: `put` replaces the newest item. Each reader has its
own read position; an item it never saw because a newer one replaced it counts as dropped for that
reader alone. A slow reader therefore lags at most one item, where a queued signal per frame
builds up seconds of lag — and one slow reader (the encoder) never slows another (the preview).

Readers that must see every item's *metadata* (the gap meter looks at each program frame's source
and timing, not its pixels) read `history()`: a bounded record of small stamps of every item put,
so a reader polling a few times per second still sees each frame without the feed keeping pixels.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
S = TypeVar("S")

HISTORY = 512  # stamps kept for history readers (17 s at 30 fps)


class Feed(Generic[T, S]):
    """`stamp(item)` makes the small record kept for history readers (None: keep no history)."""

    def __init__(self, stamp: Callable[[T], S] | None = None, history: int = HISTORY) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._seq = 0  # how many items were ever put
        self._stamp = stamp
        self._history: deque[tuple[int, S]] = deque(maxlen=history)

    def put(self, item: T) -> None:
        with self._cond:
            self._item = item
            self._seq += 1
            if self._stamp is not None:
                self._history.append((self._seq, self._stamp(item)))
            self._cond.notify_all()

    @property
    def seq(self) -> int:
        with self._cond:
            return self._seq

    def newest(self) -> T | None:
        """The newest item, without moving anyone's read position."""
        with self._cond:
            return self._item

    def reader(self) -> FeedReader[T, S]:
        """A new reader, positioned at the newest item (it will see only what comes after)."""
        with self._cond:
            return FeedReader(self, self._seq)

    # -- for readers ---------------------------------------------------------------------------

    def _take(self, after: int, timeout: float) -> tuple[int, T] | None:
        with self._cond:
            if self._seq <= after and (
                timeout <= 0 or not self._cond.wait_for(lambda: self._seq > after, timeout=timeout)
            ):
                return None
            assert self._item is not None
            return self._seq, self._item

    def _history_since(self, after: int) -> tuple[int, list[S], int]:
        with self._cond:
            stamps = [stamp for seq, stamp in self._history if seq > after]
            lost = max(0, self._seq - after - len(stamps))
            return self._seq, stamps, lost


class FeedReader(Generic[T, S]):
    """One reader's position in a feed. Use it from one thread."""

    def __init__(self, feed: Feed[T, S], seq: int) -> None:
        self._feed = feed
        self._seq = seq
        self.taken = 0
        self.dropped = 0  # items replaced before this reader saw them
        self.last_skipped = 0  # how many were replaced just before the last one taken (0 = in step)

    @property
    def seq(self) -> int:
        return self._seq

    def latest(self) -> T | None:
        """The newest item if it is newer than the last one taken, else None. Never waits."""
        return self.wait(0.0)

    def wait(self, timeout: float) -> T | None:
        """Wait up to `timeout` s for an item newer than the last one taken; None if none came."""
        got = self._feed._take(self._seq, timeout)
        if got is None:
            return None
        seq, item = got
        self.last_skipped = seq - self._seq - 1
        self.dropped += self.last_skipped
        self.taken += 1
        self._seq = seq
        return item

    def history(self) -> list[S]:
        """The stamps of every item put since the last call (oldest first); overflow counts as dropped."""
        seq, stamps, lost = self._feed._history_since(self._seq)
        self.dropped += lost
        self.taken += len(stamps)
        self._seq = seq
        return stamps
