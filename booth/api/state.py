"""The state a client sees — the drop, the sources, the output — as plain JSON-ready dicts.

`GET /state`, the event stream's snapshot and its `state` messages all come from here, so a button,
the phone remote and the overlay never disagree. Times are absolute (`deadline_wall`, wall clock)
with the server's clock beside them (`server_wall`): a page computes its own countdown and is not
thrown off by a late message.
"""

from __future__ import annotations

import time
from typing import Any

from booth.api.ports import ApiPorts
from booth.core.drop import DropView


def drop_state(view: DropView, featured: str, last_call_s: float) -> dict[str, Any]:
    return {
        "title": view.title,
        "phase": str(view.phase),
        "remaining_s": round(view.remaining_s, 3),
        "deadline_wall": view.deadline_wall,
        "timer_seconds": view.timer_seconds,
        "last_call_seconds": last_call_s,
        "units_sold": view.units_sold,
        "featured": featured,
        "skus": {s.id: {"name": s.name, "left": s.left, "initial": s.initial, "level": str(s.level),
                        **({"shop_available": s.shop_available} if s.shop_available is not None else {})}
                 for s in view.skus},
    }


def full_state(ports: ApiPorts) -> dict[str, Any]:
    controller = ports.drop
    state: dict[str, Any] = {
        "drop": drop_state(controller.view(), controller.featured_sku, controller.spec.last_call_seconds),
        "overlay": {"corner": ports.corner},
        "sources": None,
        "output": None,
        "server_wall": round(time.time(), 3),
    }
    status = ports.shop.status() if ports.shop is not None else None
    if status is not None:
        state["shop"] = {
            "line": status.line, "connected": status.connected, "rehearsal": status.rehearsal,
            "queued": status.queued, "sync_age_s": None if status.sync_age_s is None else round(status.sync_age_s, 1),
            "alerts": [{"level": a.severity, "what": a.what, "message": a.message} for a in status.alerts],
        }
    if ports.sources is not None:
        sources = ports.sources
        state["sources"] = {
            "on_program": sources.on_program,
            "lock": lock_name(sources.lock.value),
            "states": {s.role: {"state": s.state.value, "label": s.label, "message": s.message}
                       for s in sources.statuses()},
        }
    if ports.output is not None:
        status = ports.output.status()
        state["output"] = {
            "state": status.state.value,
            "recording": bool(status.recording_path),
            "replay_s": round(status.replay_s, 1),
            "moments": status.moments,
            "message": " ".join(status.problems),
        }
    return state


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The state without what changes by itself every instant (the countdown, the clock)."""
    drop = {k: v for k, v in state["drop"].items() if k != "remaining_s"}
    steady = {**state, "drop": drop, "server_wall": None}
    if state.get("shop"):  # the age of the last sync ticks by itself too
        steady["shop"] = {k: v for k, v in state["shop"].items() if k not in ("line", "sync_age_s")}
    return steady


# The API names locks by a single word; the host's panel uses sentences.
LOCK_NAMES = {"auto": "auto", "force primary": "primary", "stay on secondary": "secondary"}


def lock_name(value: str) -> str:
    return LOCK_NAMES.get(value, value)
