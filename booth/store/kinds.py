"""Shapes of what the session log holds besides drop events — the contract for their producers.

Drop events (``sale``, ``undo``, ``adjust``, ``timer_start``, ``timer_extend``, ``offer_end``, for a run
of show ``segment_start``, ``segment_end``, and with a shop ``shop_baseline``, ``shop_sold``, ``shop_returned``,
``stall_attempt``, ``stall_confirmed``, ``stall_refused``, ``sync_incident`` — see `booth.core.shop.events`)
are stored as ``DropEvent.to_dict()``; they are the only rows a crash recovery replays.

Everything else is recorded with ``SessionLog.record(kind, payload)`` from any thread. The payload is a
JSON object; the keys below are the ones reports read (extra keys are kept and ignored):

``source_switch``  the program cut to another source
    {"from": "primary", "to": "secondary", "reason": "phone stream frozen for 1.0 s",
     "automatic": true, "gap_ms": 180.0}
    ``gap_ms``: the viewer-visible gap (repeated or slate frames in the program) around the switch;
    null when not measured. A failover incident starts with a switch away from "primary" and ends with
    the switch back to it.
``output_switch``  an output changed its target, e.g. primary → backup ingest
    {"output": "ingest", "from": "primary", "to": "backup", "reason": "primary ingest refused the connection"}
``alert``          a rig alert was raised
    {"level": "info" | "warn" | "critical", "code": "battery_low", "message": "Battery 11 min left, …"}
``clip``           a replay clip was written
    {"path": "/…/clip-2031.mp4", "seconds": 30.0}
``moment``         a moment marked for a clip (first sale, low stock, sold out, camera or ingest switch)
    {"index": 3, "reason": "sold out", "stream_s": 812.4}
``viewers``        a viewer count, typed in by the host or received from the platform
    {"count": 240, "origin": "host" | "platform"}
``incident``       something happened to Booth itself
    {"what": "recovered after crash" | "resumed after restart" | "disk low", "message": "…", "down_s": 12.5}
``shutdown``       a clean exit (so the next start can tell a crash from a restart)
    {"reason": "signal" | "quit"}
``api_call``       a control API call that is not a drop event (clip, lock, feature, …), answered;
    stored with its idempotency key (columns ``request_key``, ``request_digest``) so a retry — also
    after a restart — gets this answer again: {"action": "clip", "status": 200, "body": {…}}
    (drop events keep their keys in the same columns)
``overlay``        the overlay showed something else than the plain truth because viewers see it D s late
    {"what": "viewer_delay" | "countdown" | "stock", "shown": "00:00 OFFER ENDED", "true": "00:04 LAST CALL",
     "delay_s": 4.0, "at_wall": 1717000000.0, "viewers_see_at_wall": 1717000004.0, "reason": "…"}
    ``viewer_delay``: D changed (measured by the read-back, or configured); ``countdown``: the burned clock
    started or changed its label (it runs D ahead of the sale window); ``stock``: LAST CALL replaced the
    number (what is left sells within D) or the number came back. An input delay that grew is an ``alert``
    with code ``input_delay.<role>``.
``drill``          one rehearsal drill, scored (booth.core.drills.DrillResult.to_json)
    {"name": "pull-primary", "figure": 34.0, "target": 300.0, "unit": "ms", "passed": true,
     "detail": "cut to the secondary, 34 ms …", "checks": {"the cut is in the session log": true}, …}
``scorecard``      the drills run together, for the report and the go-live gate
    {"drills": [ …drill… ], "passed": true, "full": true, "duration_s": 71.2, "file_sha256": "…"}
``gate``           going live: did the drop have the rehearsals its file asks for (booth.core.drills.gate)
    {"ok": false, "required": 2, "counted": [4], "sentence": "1 of 2 full rehearsals …", "override": true}

Health samples (``SessionLog.sample(metric, value)``), downsampled by the writer into buckets of
`SAMPLE_BUCKET_S` seconds keeping n/min/max/mean/last so no extreme is lost:
"""

from __future__ import annotations

from typing import Final

SOURCE_SWITCH: Final = "source_switch"
OUTPUT_SWITCH: Final = "output_switch"
ALERT: Final = "alert"
CLIP: Final = "clip"
MOMENT: Final = "moment"
VIEWERS: Final = "viewers"
INCIDENT: Final = "incident"
SHUTDOWN: Final = "shutdown"
API_CALL: Final = "api_call"
OVERLAY: Final = "overlay"
DRILL: Final = "drill"
SCORECARD: Final = "scorecard"
GATE: Final = "gate"
RECORDING: Final = "recording"  # the run's recording files: {"program": path, "clean": path}

NON_DROP_KINDS: Final = frozenset(
    {SOURCE_SWITCH, OUTPUT_SWITCH, ALERT, CLIP, MOMENT, VIEWERS, INCIDENT, SHUTDOWN, API_CALL, OVERLAY}
    | {DRILL, SCORECARD, GATE, RECORDING}
)

# metric → unit. Producers may send other metrics; reports read these.
HEALTH_METRICS: Final = {
    "battery_pct": "%",  # report: lowest
    "battery_min_left": "min",  # forecast minutes left
    "rtt_ms": "ms",  # report: worst (highest) round trip to the ingest
    "loss_pct": "%",
    "cpu_pct": "%",
    "disk_free_gb": "GB",
    "program_fps": "fps",
}

SAMPLE_BUCKET_S: Final = 10.0

if __doc__ is not None:  # pragma: no branch - keep the metric list in the docstring in step
    __doc__ += "".join(f"\n``{name}`` ({unit})" for name, unit in HEALTH_METRICS.items()) + "\n"
