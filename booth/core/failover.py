"""Source health judged from outside the reading thread, and the failover policy.

`SourceJudge` turns what the capture threads publish (frame times, how much each picture
changed, the reader's own state) into a state the host understands, with a reason in plain
words. `FailoverPolicy` decides what is on program: cut away from a failing primary at once,
return only after it has been healthy for a dwell time, respect the host's lock, and show
the slate when nothing delivers pictures — or when the host forced a primary that has none (a
frozen frame is never held on program under a lock). Both are pure: time is passed in.

Telling a frozen feed from a still scene: a frozen feed repeats *identical* pictures (an app
or encoder re-sending its last frame; a decoder's skip blocks), so consecutive frames differ
by exactly nothing, apart from a blip at each keyframe. A real camera pointed at a still
scene never does: sensor noise changes a few levels of every sampled pixel in every frame. So
a feed is frozen when nearly all frame pairs in the last ~0.8 s changed by (almost) nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from booth.core.source_state import SourceState

PRIMARY = "primary"
SECONDARY = "secondary"
SLATE = "slate"


@dataclass(frozen=True)
class FailoverSettings:
    stall_frames: float = 6.0  # no new frame for this many frame intervals = stalled (200 ms at 30 fps)
    min_stall_s: float = 0.15
    frozen_window_s: float = 0.8
    frozen_share: float = 0.85  # share of frame pairs in the window that did not change
    # Mean absolute level change below which a pair counts as "identical". Measured on real
    # streams (tests/failover): a frozen feed decodes to 0.000 (≤ 0.016 for refinement frames);
    # a noisy still scene through x264 at its default quality (CRF 23, 720p) changes by a
    # median 0.045 with a fifth of pairs ≤ 0.02 — 0.05 called it frozen and cut away.
    still_change: float = 0.02
    trickle_window_s: float = 2.0
    trickle_ratio: float = 0.5  # below half the expected rate over the window = trickling
    dwell_s: float = 5.0  # healthy this long before automation returns to the primary
    hung_after_s: float = 3.0  # stalled this long without the reader noticing = hung reader


@dataclass(frozen=True)
class Observation:
    """What a capture thread published, read from outside it."""

    reader_state: SourceState  # the reader's own view: STARTING, LIVE, RECONNECTING, DOWN
    reader_message: str
    expected_fps: float
    last_frame_at: float | None
    frame_times: Sequence[float]  # recent capture times, oldest first
    changes: Sequence[tuple[float, float]]  # (capture time, picture change vs the previous frame)
    live_since: float | None  # when the reader last started delivering


@dataclass(frozen=True)
class Verdict:
    state: SourceState
    reason: str  # "" when live

    @property
    def delivering(self) -> bool:
        """Still has pictures to show (live, or stalled/frozen/trickling with a last frame)."""
        return self.state in (SourceState.LIVE, SourceState.STALLED, SourceState.FROZEN)


def judge(obs: Observation, now: float, s: FailoverSettings) -> Verdict:
    if obs.reader_state in (SourceState.DOWN, SourceState.RECONNECTING, SourceState.STARTING):
        if obs.reader_state is SourceState.STARTING and not obs.reader_message:
            return Verdict(SourceState.STARTING, "opening")
        return Verdict(obs.reader_state, obs.reader_message or obs.reader_state.value)
    if obs.last_frame_at is None:
        return Verdict(SourceState.STARTING, "waiting for the first picture")
    interval = 1.0 / max(1.0, obs.expected_fps)
    age = now - obs.last_frame_at
    if age >= max(s.min_stall_s, s.stall_frames * interval):
        return Verdict(SourceState.STALLED, f"no frame for {age * 1000:.0f} ms")
    recent = [c for t, c in obs.changes if now - t <= s.frozen_window_s]
    if len(recent) >= max(3, 0.5 * s.frozen_window_s * obs.expected_fps):
        still = sum(1 for c in recent if c <= s.still_change)
        if still >= s.frozen_share * len(recent):
            return Verdict(SourceState.FROZEN, f"picture unchanged for {s.frozen_window_s:.1f} s")
    if obs.live_since is not None and now - obs.live_since >= s.trickle_window_s:
        count = sum(1 for t in obs.frame_times if now - t <= s.trickle_window_s)
        fps = count / s.trickle_window_s
        if fps < s.trickle_ratio * obs.expected_fps:
            return Verdict(SourceState.STALLED, f"trickling at {fps:.0f} fps of {obs.expected_fps:.0f}")
    return Verdict(SourceState.LIVE, "")


class Lock(StrEnum):
    AUTO = "auto"
    PRIMARY = "force primary"
    SECONDARY = "stay on secondary"


@dataclass(frozen=True)
class Switch:
    at: float
    from_source: str
    to_source: str
    reason: str  # a sentence for the host and the log
    automatic: bool = True  # False when the host's lock change made the cut (a host action, not a failover)


@dataclass
class FailoverPolicy:
    settings: FailoverSettings = field(default_factory=FailoverSettings)
    has_secondary: bool = True
    on_program: str = PRIMARY
    lock: Lock = Lock.AUTO
    _primary_live_since: float | None = None
    _primary_has_failed: bool = False  # the dwell guards against a flapping primary, not a slow start
    _lock_changed: bool = False  # the next decision answers the host's lock change

    def set_lock(self, lock: Lock) -> None:
        self._lock_changed = self._lock_changed or lock is not self.lock
        self.lock = lock

    def returning_in(self, now: float) -> float | None:
        """Seconds until automation returns to the primary (the healthy dwell still running), or None
        when no return is pending: for "back to the primary in 4 s" on the host's screen."""
        if self.lock is not Lock.AUTO or self.on_program != SECONDARY or not self._primary_has_failed:
            return None
        if self._primary_live_since is None:
            return None
        return max(0.0, self.settings.dwell_s - (now - self._primary_live_since))

    def decide(self, primary: Verdict, secondary: Verdict | None, now: float) -> Switch | None:
        """Where the program should be now; a Switch when that differs from where it is."""
        if primary.state is SourceState.LIVE:
            if self._primary_live_since is None:
                self._primary_live_since = now
        else:
            if self._primary_live_since is not None:
                self._primary_has_failed = True
            self._primary_live_since = None
        target, reason = self._target(primary, secondary, now)
        by_host, self._lock_changed = self._lock_changed, False
        if target == self.on_program:
            return None
        # A cut the lock change made is the host's; one a failure made under a lock (a forced primary
        # going to the slate) is automatic, like any failover.
        switch = Switch(now, self.on_program, target, reason, automatic=not by_host)
        self.on_program = target
        return switch

    def _target(self, primary: Verdict, secondary: Verdict | None, now: float) -> tuple[str, str]:
        sec = secondary if self.has_secondary and secondary is not None else None
        if self.lock is Lock.PRIMARY:
            # Forced means "no other camera", not "freeze the picture": once the primary is past the
            # stall (or freeze) threshold, or down, viewers get the slate with the overlay on it.
            if primary.state is SourceState.LIVE:
                return PRIMARY, "host forced the primary"
            why = f"{primary.state.value}: {primary.reason}"
            return SLATE, f"host forced the primary, which is {why}; showing the slate"
        if self.lock is Lock.SECONDARY and sec is not None:
            return SECONDARY, "host locked the secondary"
        current = self.on_program
        primary_ok = primary.state is SourceState.LIVE
        secondary_ok = sec is not None and sec.state is SourceState.LIVE
        if current == PRIMARY:
            if primary_ok:
                return PRIMARY, ""
            if primary.state is SourceState.STARTING and (sec is None or sec.state is SourceState.STARTING):
                return PRIMARY, ""  # nothing has opened yet: not a failure, and no cut to log (the slate shows)
            why = f"primary {primary.state.value}: {primary.reason}"
            if secondary_ok:
                return SECONDARY, why
            if primary.delivering:
                return PRIMARY, ""  # nothing better: keep its last picture rather than cut to a card
            return (SECONDARY, why) if sec is not None and sec.delivering else (SLATE, f"{why}; nothing else live")
        if current == SECONDARY:
            healthy_for = 0.0 if self._primary_live_since is None else now - self._primary_live_since
            if primary_ok and not secondary_ok:
                lost = f"{sec.state.value}: {sec.reason}" if sec is not None else "removed"
                return PRIMARY, f"secondary {lost}; the primary is live"
            if primary_ok and not self._primary_has_failed:
                return PRIMARY, "the primary is up"  # it opened after the secondary: no reason to wait
            if primary_ok and healthy_for >= self.settings.dwell_s:
                return PRIMARY, f"primary healthy for {healthy_for:.0f} s: back to the primary"
            if secondary_ok or (sec is not None and sec.delivering):
                return SECONDARY, ""
            if primary.delivering:
                return PRIMARY, "secondary lost, the primary still has pictures"
            return SLATE, "both sources down"
        # on the slate: the first source with pictures, the primary first
        if primary_ok:
            return PRIMARY, "primary is back"
        if secondary_ok:
            return SECONDARY, "secondary is back"
        return SLATE, ""


def reconnect_delay(failures: int, drop_live: bool) -> float:
    """Retry every second while a drop is live; back off otherwise (0.5, 1, 2, 4, 8, 10 s)."""
    if drop_live:
        return 1.0
    backoff = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
    return backoff[min(failures, len(backoff) - 1)]
