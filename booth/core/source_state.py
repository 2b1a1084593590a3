"""Source states as the host sees them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceState(StrEnum):
    STARTING = "starting"
    LIVE = "live"
    STALLED = "stalled"  # connected, no new frame for a few frame intervals
    FROZEN = "frozen"  # frames arrive, the picture does not change
    RECONNECTING = "reconnecting"
    DOWN = "down"


@dataclass(frozen=True)
class SourceStatus:
    role: str  # "primary", "secondary"
    label: str  # spec with secrets masked
    state: SourceState
    fps: float
    last_frame_age_s: float | None  # None before the first frame
    frames: int
    reconnects: int
    message: str  # the last problem in plain words, "" when fine
    next_attempt_in_s: float | None = None
    delay_ms: float | None = None  # sender → program (median of the last second) where the sender stamps its time
    delay_alert: str = ""  # a sentence while that delay has grown (a backlog building), "" otherwise
    dropped: int = 0  # pictures skipped to stay at the newest when Booth fell behind the source
