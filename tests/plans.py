"""The 48-hour weekend plan the run-of-show tests walk through (pure domain and the real controller alike)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
STOCK = {"tee": 150, "cap": 30}

WEEKEND_SEGMENTS = [
    {"name": "TEASER", "kind": "teaser", "start": "2026-12-04 18:00", "minutes": 10},
    {"name": "HEADLINE BURST", "start": "2026-12-05 19:00", "minutes": 15, "last_call_seconds": 60,
     "quota": {"tee": 50, "cap": 10}},
    {"name": "CREATOR COLLAB", "start": "2026-12-06 12:00", "minutes": 15, "carry_over": False,
     "quota": {"tee": 50}},
    {"name": "COMMUNITY DEAL", "kind": "community", "start": "2026-12-06 17:45", "minutes": 15,
     "hard_start": True, "quota": {"tee": 50, "cap": 20}},
    {"name": "RECAP", "kind": "recap", "start": "2026-12-06 18:30", "minutes": 10},
]  # fmt: skip


def berlin_wall(text: str) -> float:
    """'2026-12-05 19:00' in Berlin, as wall-clock seconds."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=BERLIN).timestamp()
