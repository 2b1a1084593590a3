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
