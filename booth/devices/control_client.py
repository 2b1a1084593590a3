"""A client of Booth's own control API (token, Idempotency-Key), as a shop or a button would call it:
the order-burst drill sends its orders through it. Each call is its own connection (safe from any
thread, like separate shops), with a timeout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (refused, timed out)
    body: dict[str, Any]
    replayed: bool  # Idempotent-Replayed: the first answer to this key, given again
    error: str = ""


class ControlClient:
    def __init__(self, url: str, token: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self.timeout_s = timeout_s

    def post(self, path: str, body: dict[str, Any], key: str) -> Answer:
        try:
            response = requests.post(f"{self.url}{path}", json=body, timeout=self.timeout_s,
                                     headers={"Authorization": f"Bearer {self._token}", "Idempotency-Key": key})
        except requests.RequestException as exc:
            return Answer(0, {}, False, f"{type(exc).__name__}: {exc}")
        try:
            parsed = response.json()
        except ValueError:
            parsed = {}
        return Answer(response.status_code, parsed if isinstance(parsed, dict) else {},
                      response.headers.get("Idempotent-Replayed") == "true")  # fmt: skip
