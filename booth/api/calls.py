"""Answers to the API's calls that are not drop events (feature, lock, reconnect, clip, moment, viewers).

Drop events keep their idempotency receipts in the drop controller (`booth.drop.receipts`). The
other calls keep theirs here: the answer is kept in memory at once (a retry while Booth runs gets
it) and stored in the session log as an `api_call` record with its key (a retry after a restart
gets it too; `booth.store.recovery` hands them back). Those calls move no stock, so the narrow
window between answering and the record reaching the disk is an accepted risk: after a crash
inside it, a retry could mark one more moment or save one more clip — never sell.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from booth.api.ports import CallRecorder
from booth.core.events import Request

log = logging.getLogger(__name__)


@dataclass
class Call:
    request: Request
    action: str
    status: int | None = None  # None while the first attempt is still running
    body: dict[str, Any] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class CallReceipts:
    """Runs on the API's event loop only."""

    def __init__(self, recorder: CallRecorder | None, recovered: list[tuple[Request, dict[str, Any]]]) -> None:
        self._recorder = recorder
        self._calls: dict[str, Call] = {}
        for request, answer in recovered:
            call = Call(request, str(answer.get("action", "")), int(answer.get("status", 200)),
                        dict(answer.get("body", {})))  # fmt: skip
            call.done.set()
            self._calls[request.key] = call

    def get(self, key: str) -> Call | None:
        return self._calls.get(key)

    def begin(self, request: Request, action: str) -> Call:
        call = self._calls[request.key] = Call(request, action)
        return call

    def forget(self, call: Call) -> None:
        """Nothing happened (the part was not running): a retry may try again."""
        if self._calls.get(call.request.key) is call:
            del self._calls[call.request.key]
        call.done.set()

    def settle(self, call: Call, status: int, body: dict[str, Any]) -> None:
        call.status, call.body = status, body
        call.done.set()
        if self._recorder is None:
            return
        answer = {"action": call.action, "status": status, "body": body}

        def failed(reason: str) -> None:
            log.warning("the answer to %s (key %s…) is not in the session log: %s", call.action,
                        call.request.key[:8], reason)  # fmt: skip

        self._recorder(call.request, answer, lambda: None, failed)
