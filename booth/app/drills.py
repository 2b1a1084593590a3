"""Rehearsal drills against the real pipeline: each one puts a fault on one of Booth's seams
(`booth.devices.faults`), measures what Booth really did and scores it (`booth.core.drills`).

Where each figure comes from — never from the drill's own clock alone:
- pull / stall the primary: the viewer-visible gap the switcher's gap meter read in the program frames'
  stamps (last fresh picture before the cut → first fresh one after it);
- freeze the primary: from the first repeated picture to the switcher's decision to cut;
- lose the ingest: from the stall to the ingest supervisor judging the backup push live (ffmpeg's own
  byte count moving on the backup);
- low battery, disk nearly full, shop unreachable: from the fault to that alert being the one the
  host's line shows (the health snapshot the line is drawn from);
- the order burst: 100 orders through the control API with Idempotency-Keys, then the session log is
  read back: sale events per key (double counts), acknowledged orders missing (lost).
Every drill also checks the session log has what the report needs (the cut, the switch, the alert).

Each result and the scorecard go into the session log (`drill`, `scorecard`), for the report and the
go-live gate. The runner blocks its caller: `booth rehearse` runs it on the main thread, the drills
panel on its own worker (`DrillDesk`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from booth.app.root import Booth
from booth.core.drills import DRILL_NAMES, DrillResult, Scorecard, not_applicable, score
from booth.core.drop import Phase
from booth.core.failover import PRIMARY, SECONDARY, Switch
from booth.core.health.power import BatteryReading
from booth.core.health.system import MB
from booth.core.output import OutputState
from booth.devices.control_client import Answer, ControlClient
from booth.devices.faults import FREEZE, PULL, STALL, UNREACHABLE
from booth.runtime.worker import Worker
from booth.store import kinds
from booth.video.program_gaps import ProgramCut

log = logging.getLogger(__name__)

STEADY_TIMEOUT_S = 20.0  # a drill waits this long for the rig to be healthy before it starts
CUT_TIMEOUT_S = 5.0
ALERT_TIMEOUT_S = 5.0
RETURN_TIMEOUT_S = 25.0
ORDERS, BURST_S, DUPLICATES, LATE, LATE_BY_S = 100, 10.0, 12, 6, 2.5


class ShopDrillPort(Protocol):
    """What the shop drill needs from a running shop sync: the alerts the host's line shows for it."""

    def host_alerts(self) -> Sequence[tuple[str, str]]:
        """(what, message) of each shop alert now: what is unreachable | stale | throttled | auth | …"""
        ...


@dataclass
class _Seen:
    at: float
    what: Any


class DrillRunner:
    def __init__(self, booth: Booth, stop: threading.Event | None = None, shop: ShopDrillPort | None = None) -> None:
        if booth.faults is None:
            raise ValueError("Drills run only in a rehearsal (start Booth with --rehearsal).")
        self.booth = booth
        self.faults = booth.faults
        self.shop = shop
        self._stop = stop or threading.Event()
        self._lock = threading.Lock()
        self._cuts: deque[ProgramCut] = deque(maxlen=200)
        self._switches: deque[Switch] = deque(maxlen=200)
        self._ingest_switches: deque[_Seen] = deque(maxlen=50)
        booth.switcher.on_cut(self._keep(self._cuts))
        booth.switcher.on_switch(self._keep(self._switches))
        if booth.output is not None:
            booth.output.on_ingest_switch(
                lambda a, b, why: self._keep(self._ingest_switches)(_Seen(time.monotonic(), (a, b, why))))

    def _keep(self, into: deque[Any]) -> Callable[[Any], None]:
        def keep(item: Any) -> None:
            with self._lock:
                into.append(item)

        return keep

    # -- running ---------------------------------------------------------------------------------

    def run(self, names: Sequence[str] = DRILL_NAMES, on_result: Callable[[DrillResult], None] | None = None,
            ) -> Scorecard:  # fmt: skip
        started, started_wall = time.monotonic(), time.time()
        results: list[DrillResult] = []
        for name in names:
            if self._stop.is_set():
                break
            result = self.run_one(name)
            results.append(result)
            self._record(kinds.DRILL, result.to_json())
            log.info("drill %s: %s — %s", name, result.verdict, result.detail)
            if on_result is not None:
                on_result(result)
        card = Scorecard(tuple(results), time.monotonic() - started, started_wall)
        if not self._stop.is_set():
            self._record(kinds.SCORECARD, {**card.to_json(), "file_sha256": self.booth.config.file_sha256})
        return card

    def run_one(self, name: str) -> DrillResult:
        drill = getattr(self, "_" + name.replace("-", "_"))
        started, started_wall = time.monotonic(), time.time()
        try:
            result: DrillResult = drill(started_wall)
        except Exception as exc:  # a drill that breaks is a failed drill, not a crashed rehearsal
            log.exception("drill %s failed to run", name)
            result = score(name, None, f"the drill itself failed: {type(exc).__name__}: {exc}")
        finally:
            self.faults.clear()
        return DrillResult(result.name, result.figure, result.target, result.unit, result.passed, result.detail,
                           result.checks, started_wall, time.monotonic() - started)  # fmt: skip

    # -- the source drills -------------------------------------------------------------------------

    def _pull_primary(self, wall0: float) -> DrillResult:
        return self._source_drill("pull-primary", PULL, wall0)

    def _stall_primary(self, wall0: float) -> DrillResult:
        return self._source_drill("stall-primary", STALL, wall0)

    def _freeze_primary(self, wall0: float) -> DrillResult:
        return self._source_drill("freeze-primary", FREEZE, wall0)

    def _source_drill(self, name: str, mode: str, wall0: float) -> DrillResult:
        switcher = self.booth.switcher
        if SECONDARY not in switcher.roles:
            return not_applicable(name, "no secondary source: a failed primary puts the slate on program "
                                        "(add [sources] secondary to rehearse a cut)", wall0)  # fmt: skip
        if not self._wait(self._primary_steady, STEADY_TIMEOUT_S):
            return score(name, None, f"the primary was not live on program ({self._primary_state()}): "
                                     "connect it, then run the drill again")  # fmt: skip
        switch = self.faults.source(PRIMARY)
        t0 = switch.set(mode)
        t0_wall = time.time()
        decided = self._wait(lambda: self._switch_after(t0) is not None, CUT_TIMEOUT_S)
        cut_seen = self._wait(lambda: self._cut_after(t0) is not None, CUT_TIMEOUT_S) if decided else False
        cut, decision = self._cut_after(t0), self._switch_after(t0)
        # Let the secondary carry the program a moment; a stall must end before a hung reader is replaced.
        self._pause(0.5)
        switch.clear()
        t_back = time.monotonic()
        back = self._wait(lambda: self._primary_on_program_since(t_back), RETURN_TIMEOUT_S)
        logged = self._wait(lambda: self._logged(kinds.SOURCE_SWITCH, t0_wall,
                                                 lambda p: p.get("from") == PRIMARY), 3.0)  # fmt: skip
        checks = {"the cut is in the session log": logged, "back on the primary afterwards": back}
        if not decided or decision is None:
            return score(name, None, f"no cut within {CUT_TIMEOUT_S:g} s of the fault", checks)
        if mode == FREEZE:
            figure = (decision.at - t0) * 1000
            detail = f"frozen picture detected after {figure:.0f} ms ({decision.reason})"
        else:
            if not cut_seen or cut is None or cut.gap_ms is None:
                return score(name, None, f"the cut to the {decision.to_source} did not reach the program", checks)
            figure = cut.gap_ms
            detail = f"cut to the {cut.to_source}, {figure:.0f} ms without a fresh picture ({decision.reason})"
        back_s = time.monotonic() - t_back
        return score(name, figure, f"{detail}; back on the primary {back_s:.1f} s after it recovered", checks)

    def _primary_state(self) -> str:
        status = next((s for s in self.booth.switcher.statuses() if s.role == PRIMARY), None)
        state = status.state.value if status is not None else "missing"
        return f"{state}, program on {self.booth.switcher.on_program}"

    def _primary_steady(self) -> bool:
        """Primary live and on program, and still so a second later (the dwell after a previous drill)."""
        return self._primary_live() and self._pause(1.0) and self._primary_live()

    def _primary_live(self) -> bool:
        status = next((s for s in self.booth.switcher.statuses() if s.role == PRIMARY), None)
        return (status is not None and status.state.value == "live" and self.booth.switcher.on_program == PRIMARY)

    def _primary_on_program_since(self, t: float) -> bool:
        with self._lock:
            return any(c.to_source == PRIMARY and c.at >= t for c in self._cuts) and self._primary_live()

    def _cut_after(self, t: float) -> ProgramCut | None:
        with self._lock:
            return next((c for c in self._cuts if c.at >= t and c.from_source == PRIMARY), None)

    def _switch_after(self, t: float) -> Switch | None:
        with self._lock:
            return next((s for s in self._switches if s.at >= t and s.from_source == PRIMARY), None)

    # -- the ingest ----------------------------------------------------------------------------------

    def _lose_ingest(self, wall0: float) -> DrillResult:
        name, output = "lose-ingest", self.booth.output
        if output is None or not self.booth.config.output.primary:
            return not_applicable(name, "not streaming: no [output] primary ingest", wall0)
        if not self.booth.config.output.backup:
            return not_applicable(name, "no [output] backup ingest: a stalled ingest is retried, not replaced",
                                  wall0)  # fmt: skip
        if not self._wait(lambda: output.status().state is OutputState.LIVE, STEADY_TIMEOUT_S):
            return score(name, None, f"the stream was not live on the primary ingest ({output.status().state.value}: "
                                     f"{output.status().message or 'no message'})")  # fmt: skip
        t0 = self.faults.ingest("primary").set(STALL)
        t0_wall = time.time()
        on_backup = self._wait(lambda: output.status().state is OutputState.BACKUP, 10.0)
        t_backup = time.monotonic()
        with self._lock:
            switched = next((s for s in self._ingest_switches if s.at >= t0), None)
        self.faults.ingest("primary").clear()
        logged = self._wait(lambda: self._logged(kinds.OUTPUT_SWITCH, t0_wall, lambda p: p.get("to") == "backup"), 3.0)
        checks = {"the switch is in the session log": logged}
        if not on_backup:
            return score(name, None, f"the backup ingest was not carrying the stream 10 s after the stall "
                                     f"({output.status().message or output.status().state.value})", checks)  # fmt: skip
        figure = t_backup - t0
        detected = f"stall detected after {switched.at - t0:.1f} s, " if switched is not None else ""
        return score(name, figure, f"{detected}the backup ingest carried the stream {figure:.1f} s after the primary "
                                   "stalled; the primary is retried alongside", checks)  # fmt: skip

    # -- alerts on the host's line -----------------------------------------------------------------

    def _low_battery(self, wall0: float) -> DrillResult:
        name, health, sensors = "low-battery", self.booth.health, self.faults.sensors
        if health is None or sensors is None:
            return not_applicable(name, "rig health is not running", wall0)
        percent = max(1.0, health.config.thresholds.battery_critical_percent - 2)
        t0, t0_wall = time.monotonic(), time.time()
        sensors.battery_override = BatteryReading(percent, None, False)
        return self._alert_drill(name, "battery", t0, t0_wall, lambda: setattr(sensors, "battery_override", None),
                                 f"battery reading {percent:.0f} %, unplugged")  # fmt: skip

    def _disk_full(self, wall0: float) -> DrillResult:
        name, health, disk = "disk-full", self.booth.health, self.faults.disk
        if health is None or disk is None:
            return not_applicable(name, "rig health is not running", wall0)
        config = self.booth.config
        per_s = config.recording_bytes_per_s  # the clean recording too, when it runs
        floor = config.recording.min_free_mb * MB  # above it, so the recording goes on (nothing lost)
        free = max(int(floor * 1.05), int(config.recording.critical_minutes * 60 * per_s / 2))
        if free / per_s / 60 >= config.recording.warn_minutes:
            return not_applicable(name, f"below {floor / 1e6:.0f} MB free the recording stops, and that is still "
                                        f"{free / per_s / 60:.0f} min of recording at this bitrate: no disk warning "
                                        "comes before it (lower [recording] min_free_mb or raise warn_minutes)",
                                  wall0)  # fmt: skip
        t0, t0_wall = time.monotonic(), time.time()
        disk.free_override = free
        result = self._alert_drill(name, "disk", t0, t0_wall, lambda: setattr(disk, "free_override", None),
                                   f"free space read as {free / 1e6:.0f} MB")  # fmt: skip
        recording = self.booth.output.status() if self.booth.output is not None else None
        if recording is not None and recording.recording_path:
            kept = not recording.recording_error
            return score(name, result.figure, result.detail, {**result.checks, "the recording kept going": kept})
        return result

    def _alert_drill(self, name: str, key: str, t0: float, t0_wall: float, undo: Callable[[], None],
                     what: str) -> DrillResult:  # fmt: skip
        health = self.booth.health
        assert health is not None

        def shown() -> bool:
            # The host's line shows the worst alert and counts the others ("(+1 more)"): this one is on it
            # when it is among them, at warn or worse.
            return any(a.key == key for a in health.latest().for_host)

        on_line = self._wait(shown, ALERT_TIMEOUT_S)
        figure = time.monotonic() - t0 if on_line else None
        pressing = health.latest().for_host
        message = next((a.message for a in pressing if a.key == key), "")
        behind = ""
        if on_line and pressing and pressing[0].key != key:
            behind = f" (behind the worse “{pressing[0].message}”: “+{len(pressing) - 1} more”)"
        logged = self._wait(lambda: self._logged(kinds.ALERT, t0_wall, lambda p: p.get("code") == key), 3.0)
        undo()
        cleared = self._wait(lambda: all(a.key != key for a in health.latest().for_host), 15.0)
        checks = {"the alert is in the session log": logged, "it cleared once the fault was gone": cleared}
        if figure is None:
            others = "; ".join(a.message for a in health.latest().for_host[:2]) or "nothing"
            return score(name, None, f"{what}: the host's line did not show it within {ALERT_TIMEOUT_S:g} s "
                                     f"(it showed: {others})", checks)  # fmt: skip
        return score(name, figure, f"{what}: “{message}” on the host's line after {figure:.2f} s{behind}", checks)

    def _shop_unreachable(self, wall0: float) -> DrillResult:
        name, shop = "shop-unreachable", self.shop
        if shop is None and self.booth.shop is not None:  # the drop sells through a shop Booth cannot reach
            return score(name, None, f"the drop has [shop] but no shop sync is running ({self.booth.shop.problem}): "
                                     "fix that and rehearse again", started_wall=wall0)  # fmt: skip
        if shop is None:
            return not_applicable(name, "no shop sync running for this drop: nothing to cut off", wall0)

        def unreachable() -> bool:
            return any(what == "unreachable" for what, _ in shop.host_alerts())

        self._wait(lambda: not unreachable(), STEADY_TIMEOUT_S)
        t0 = self.faults.shop.set(UNREACHABLE)
        on_line = self._wait(unreachable, ALERT_TIMEOUT_S)
        figure = time.monotonic() - t0 if on_line else None
        message = next((m for what, m in shop.host_alerts() if what == "unreachable"), "")
        self.faults.shop.clear()
        back = self._wait(lambda: not unreachable(), 15.0)
        checks = {"the shop answered again after the fault": back}
        if figure is None:
            return score(name, None, f"no “shop unreachable” alert within {ALERT_TIMEOUT_S:g} s", checks)
        return score(name, figure, f"“{message}” for the host after {figure:.2f} s", checks)

    # -- the order burst -----------------------------------------------------------------------------

    def _order_burst(self, wall0: float) -> DrillResult:
        name, api, controller = "order-burst", self.booth.api, self.booth.controller
        session = self.booth.session
        if api is None or api.url is None or session is None:
            return not_applicable(name, "the control API (or the session log) is not running", wall0)
        self._to_a_selling_segment()
        view = controller.view()
        if view.phase is Phase.READY:
            started = controller.start_timer()
            if not started.accepted:
                return score(name, None, f"no offer open to sell into: {started.refusal.message}")  # type: ignore[union-attr]
        if not self._wait(lambda: controller.view().phase in (Phase.LIVE, Phase.LAST_CALL), 3.0):
            return score(name, None, f"no offer open to sell into ({controller.view().phase.value})")
        if controller.view().remaining_s < BURST_S + LATE_BY_S + 10:
            controller.extend_timer(60)  # a rehearsal: the burst must fit in the offer
        sku = controller.featured_sku
        before = controller.view().sku(sku).left
        client = ControlClient(api.url, api.token)
        keys = [f"drill-{uuid.uuid4()}" for _ in range(ORDERS)]
        sends = _burst_schedule(keys, random.Random(len(keys)))
        answers: dict[str, list[Answer]] = {k: [] for k in keys}
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="booth-drill-orders") as pool:
            futures = []
            for at, key in sends:  # bounded: ORDERS + DUPLICATES sends, within BURST_S + LATE_BY_S
                if not self._pause(max(0.0, t0 + at - time.monotonic())):
                    break
                futures.append((key, pool.submit(client.post, "/sale", {"sku": sku, "qty": 1}, key)))
            for key, future in futures:
                answers[key].append(future.result())
        span = time.monotonic() - t0
        session.log.flush()
        rows: list[str] = session.log.call(lambda db: [r[0] for r in db.execute(
            f"SELECT request_key FROM events WHERE session_id = ? AND kind = 'sale' AND request_key IN "
            f"({','.join('?' * len(keys))})", (session.session_id, *keys)).fetchall()])  # fmt: skip
        accepted = {k for k, got in answers.items() if any(a.status == 200 for a in got)}
        refused = {k for k, got in answers.items() if got and all(a.status == 409 for a in got)}
        unanswered = {k for k, got in answers.items() if got and not any(a.status in (200, 409) for a in got)}
        doubled = len(rows) - len(set(rows))
        lost = accepted - set(rows)
        moved = before - controller.view().sku(sku).left
        consistent = all(len({(a.status, json.dumps(a.body, sort_keys=True)) for a in got}) == 1
                         for got in answers.values() if len(got) > 1)  # fmt: skip
        figure = float(doubled + max(0, moved - len(accepted)))
        checks = {"every acknowledged order is in the session log": not lost,
                  "every order was answered": not unanswered,
                  "a retry got the first answer back": consistent,
                  "the counter moved by the orders sold": moved == len(accepted)}  # fmt: skip
        return score(name, figure, f"{len(keys)} orders ({DUPLICATES} sent twice, {LATE} late, out of order) in "
                                   f"{span:.1f} s: {len(accepted)} sold, {len(refused)} refused (sold out or closed), "
                                   f"{doubled} counted twice, {len(lost)} lost", checks)  # fmt: skip

    # -- helpers ----------------------------------------------------------------------------------------

    def _to_a_selling_segment(self) -> None:
        """A plan that opens with a teaser: step through (end it, start the next, as the host would) to
        the first segment that sells, so the burst sells into a real quota. Bounded by the plan's length;
        each step waits for the session log to commit it (the view shows committed events only)."""
        controller = self.booth.controller
        plan = controller.spec.plan

        def running() -> object:
            show = controller.view().show
            return show.now if show is not None else None

        for _ in range(2 * len(plan.segments) if plan is not None else 0):
            show = controller.view().show
            if show is None:
                return
            if show.now is not None:
                if show.now.sells or not controller.end_offer().accepted:
                    return
                self._wait(lambda: running() is None, 3.0)
            elif show.next is None or show.next.sells or not controller.start_timer().accepted:
                return
            else:
                self._wait(lambda: running() is not None, 3.0)

    def _wait(self, condition: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
        """Poll `condition` until it holds (True), `timeout` passes or the run is stopped (False)."""
        deadline = time.monotonic() + timeout
        while not self._stop.is_set():
            if condition():
                return True
            if time.monotonic() >= deadline:
                return False
            self._stop.wait(step)
        return False

    def _pause(self, seconds: float) -> bool:
        """Wait `seconds` unless the run is stopped (False then)."""
        return not self._stop.wait(seconds)

    def _logged(self, kind: str, since_wall: float, match: Callable[[dict[str, Any]], bool]) -> bool:
        session = self.booth.session
        if session is None:
            return False
        rows = session.log.call(lambda db: db.execute(
            "SELECT payload FROM events WHERE session_id = ? AND kind = ? AND wall >= ?",
            (session.session_id, kind, since_wall - 0.5)).fetchall())  # fmt: skip
        return any(match(json.loads(payload)) for (payload,) in rows)

    def _record(self, kind: str, payload: dict[str, Any]) -> None:
        if self.booth.session is not None:
            self.booth.session.log.record(kind, payload)


def _burst_schedule(keys: list[str], rng: random.Random) -> list[tuple[float, str]]:
    """When each order is sent: evenly over BURST_S, shuffled within each second (out of order), some
    late, and some sent twice — at once (a double click) or after a while (a shop's retry)."""
    slots = [i * BURST_S / len(keys) for i in range(len(keys))]
    order = list(keys)
    for start in range(0, len(order), 10):
        block = order[start : start + 10]
        rng.shuffle(block)
        order[start : start + 10] = block
    sends = list(zip(slots, order, strict=True))
    for index in rng.sample(range(len(sends)), LATE):
        at, key = sends[index]
        sends[index] = (at + LATE_BY_S, key)
    for n, index in enumerate(rng.sample(range(len(sends)), DUPLICATES)):
        at, key = sends[index]
        sends.append((at + (0.0 if n % 2 else 1.5), key))
    return sorted(sends)


# -- the drills panel's runner ------------------------------------------------------------------------


class DrillDesk:
    """Runs drills for the app's drills panel on its own worker (`booth-drills`), one request at a time;
    results come back through the callbacks, on that worker's thread (the panel bridges them)."""

    def __init__(self, booth: Booth, shop: ShopDrillPort | None = None) -> None:
        self._stop = threading.Event()
        self._runner = DrillRunner(booth, self._stop, shop) if booth.faults is not None else None
        self._queue: deque[tuple[list[str], Callable[[DrillResult], None], Callable[[Scorecard], None]]] = deque()
        self._worker = Worker("booth-drills", self._step, "Rehearsal drills")
        self.busy = False

    @property
    def available(self) -> bool:
        return self._runner is not None

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._worker.stop()

    def run(self, names: list[str], on_result: Callable[[DrillResult], None],
            on_done: Callable[[Scorecard], None]) -> None:  # fmt: skip
        self._queue.append((names, on_result, on_done))
        self._worker.wake()

    def _step(self) -> float:
        if not self._queue or self._runner is None:
            return 0.5
        names, on_result, on_done = self._queue.popleft()
        self.busy = True
        try:
            card = self._runner.run(names, on_result)
        finally:
            self.busy = False
        if not self._stop.is_set():
            on_done(card)
        return 0.0
