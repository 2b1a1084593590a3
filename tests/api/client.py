"""A plain HTTP client for the control API on 127.0.0.1 (http.client: every header and byte is the test's)."""

from __future__ import annotations

import http.client
import json
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error(self) -> str:
        return self.body.get("error", "") if isinstance(self.body, dict) else ""


class Client:
    def __init__(self, port: int, token: str | None) -> None:
        self.port = port
        self.token = token

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                token: str | bool | None = True, timeout: float = 10.0) -> Answer:  # fmt: skip
        sent = dict(headers or {})
        if token is True and self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        elif isinstance(token, str):
            sent.setdefault("Authorization", f"Bearer {token}")
        if body is not None and not isinstance(body, bytes | str):
            body = json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            kind = response.getheader("Content-Type", "")
            parsed: Any = json.loads(raw) if kind.startswith("application/json") else raw.decode(errors="replace")
            return Answer(response.status, parsed, {k.lower(): v for k, v in response.getheaders()})
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: Any = None, key: str | None = "new", **kwargs: Any) -> Answer:
        """POST JSON with an Idempotency-Key (a new one unless given; None sends none)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if key is not None:
            headers["Idempotency-Key"] = str(uuid.uuid4()) if key == "new" else key
        if data is None:
            data = {}
        return self.request("POST", path, data, headers=headers, **kwargs)

    def state(self) -> dict[str, Any]:
        answer = self.get("/state")
        assert answer.status == 200, answer
        return answer.body

    def left(self, sku: str) -> int:
        return int(self.state()["drop"]["skus"][sku]["left"])


class EventStream:
    """GET /events read message by message (Server-Sent Events over a real connection)."""

    def __init__(self, port: int, token: str, last_event_id: str | None = None, timeout: float = 10.0) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._conn.request("GET", "/events", headers=headers)
        self.response = self._conn.getresponse()
        assert self.response.status == 200, self.response.status
        assert self.response.getheader("Content-Type", "").startswith("text/event-stream")

    def next(self) -> dict[str, Any]:
        """The next message (heartbeats and the retry hint skipped); times out after `timeout`."""
        data: list[str] = []
        while True:
            line = self.response.readline().decode()
            if line == "":
                raise EOFError("the event stream ended")
            line = line.rstrip("\n")
            if line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                return json.loads("\n".join(data))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
