"""The event stream: a snapshot on connect, then numbered deltas, as Server-Sent Events.

Every message has a sequence number (`seq`) that grows by one per delta, and the id of this server
run (`stream`); its SSE id is `stream:seq`. A client that sees a gap, or loses the connection,
reconnects with `Last-Event-ID` (or `?after=stream:seq`): if the deltas it missed are still in the
ring it gets exactly those, otherwise (or after a restart of Booth: another `stream`) a fresh
snapshot. Either way it is back in step without a gap.

Deltas carry the *state after* the change, never an increment, so applying one twice is harmless —
which is what makes taking the snapshot and joining the stream in one step enough.

- `drop`: a drop event was committed (a sale, an undo, the timer…): the event and the drop state;
- `state`: something else changed (featured product, a source, the lock, the output, the phase):
  the whole state. Checked every `POLL_S` on the API's loop.

Everything here runs on the API's event loop; `publish_drop` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from booth.core.events import DropEvent

log = logging.getLogger(__name__)

POLL_S = 0.25
RING = 2048  # deltas kept for clients that reconnect
QUEUE = 512  # a subscriber this far behind is dropped (it reconnects and resyncs)
HEARTBEAT_S = 10.0
_END = object()


class EventHub:
    def __init__(self, state: Callable[[], dict[str, Any]], comparable: Callable[[dict[str, Any]], Any],
                 drop_state: Callable[[], dict[str, Any]]) -> None:  # fmt: skip
        self._state = state
        self._comparable = comparable
        self._drop_state = drop_state
        self.stream = secrets.token_hex(4)
        self.seq = 0
        self._ring: deque[dict[str, Any]] = deque(maxlen=RING)
        self._queues: set[asyncio.Queue[object]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last: Any = None
        self._poller: asyncio.Task[None] | None = None
        self._closed = False

    # -- lifecycle (on the loop) ----------------------------------------------------------------

    async def run(self) -> None:
        """Bind to the running loop and watch the state until `close()`."""
        self._loop = asyncio.get_running_loop()
        self._last = self._comparable(self._state())
        self._poller = asyncio.current_task()
        while not self._closed:
            await asyncio.sleep(POLL_S)
            try:
                self.check()
            except Exception:
                log.exception("event stream: reading the state failed")

    def close(self) -> None:
        """End every stream (any thread): shutdown must not wait for clients that never hang up."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._closed = True
            return
        try:
            loop.call_soon_threadsafe(self._close_now)
        except RuntimeError:  # the loop is already gone
            self._closed = True

    def _close_now(self) -> None:
        self._closed = True
        for queue in self._queues:
            _offer(queue, _END)
        if self._poller is not None:
            self._poller.cancel()

    # -- publishing -----------------------------------------------------------------------------

    def publish_drop(self, event: DropEvent) -> None:
        """A committed drop event (the controller's listener, on the journal's thread)."""
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed while stopping
            loop.call_soon_threadsafe(self._publish_drop, event)

    def _publish_drop(self, event: DropEvent) -> None:
        self._publish({"type": "drop", "event": event.to_dict(), "drop": self._drop_state()})

    def check(self) -> None:
        """Publish the whole state if anything but the clock changed since the last look."""
        state = self._state()
        now = self._comparable(state)
        if now != self._last:
            self._last = now
            self._publish({"type": "state", "state": state})

    def _publish(self, message: dict[str, Any]) -> None:
        self.seq += 1
        message = {"seq": self.seq, "stream": self.stream, **message}
        self._ring.append(message)
        for queue in list(self._queues):
            if not _offer(queue, message):
                log.info("event stream: a client fell %d messages behind; it will resync", QUEUE)
                self._queues.discard(queue)
                _force(queue, _END)

    # -- subscribing ----------------------------------------------------------------------------

    async def messages(self, after: str | None) -> AsyncIterator[dict[str, Any] | None]:
        """What one client gets: catch-up (snapshot or missed deltas), then live deltas.
        None is a heartbeat (nothing happened for HEARTBEAT_S)."""
        queue: asyncio.Queue[object] = asyncio.Queue(QUEUE)
        for message in self._catch_up(after):  # taken and joined without an await in between
            queue.put_nowait(message)
        self._queues.add(queue)
        try:
            while not self._closed or not queue.empty():
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield None
                    continue
                if item is _END:
                    return
                assert isinstance(item, dict)
                yield item
        finally:
            self._queues.discard(queue)

    def _catch_up(self, after: str | None) -> list[dict[str, Any]]:
        seen = _parse_after(after)
        if seen is not None and seen[0] == self.stream and seen[1] <= self.seq:
            missed = [m for m in self._ring if m["seq"] > seen[1]]
            first = missed[0]["seq"] if missed else self.seq + 1
            if first == seen[1] + 1:
                return missed
        self.check()  # so the snapshot's seq covers everything up to now
        return [{"seq": self.seq, "stream": self.stream, "type": "snapshot", "state": self._state()}]


def sse(message: dict[str, Any] | None) -> bytes:
    if message is None:
        return b": heartbeat\n\n"
    data = json.dumps(message, separators=(",", ":"))
    return f"id: {message['stream']}:{message['seq']}\nevent: {message['type']}\ndata: {data}\n\n".encode()


def _parse_after(after: str | None) -> tuple[str, int] | None:
    if not after:
        return None
    stream, _, seq = after.strip().partition(":")
    if not seq.isdigit() or len(seq) > 18:
        return None
    return stream, int(seq)


def _offer(queue: asyncio.Queue[object], item: object) -> bool:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        return False
    return True


def _force(queue: asyncio.Queue[object], item: object) -> None:
    """Make room for the end marker in a full queue: the client is resyncing anyway."""
    while not _offer(queue, item):
        queue.get_nowait()
