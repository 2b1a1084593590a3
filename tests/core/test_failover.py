"""Health judgement and failover policy with scripted observations and an injected clock."""

from __future__ import annotations

import random

from booth.core.failover import (
    PRIMARY,
    SECONDARY,
    SLATE,
    FailoverPolicy,
    FailoverSettings,
    Lock,
    Observation,
    Verdict,
    judge,
    reconnect_delay,
)
from booth.core.source_state import SourceState

S = FailoverSettings()
LIVE = Verdict(SourceState.LIVE, "")
DOWN = Verdict(SourceState.DOWN, "connection refused")
STALLED = Verdict(SourceState.STALLED, "no frame for 210 ms")
FROZEN = Verdict(SourceState.FROZEN, "picture unchanged for 0.8 s")


def feed(times: list[float], changes: list[float], fps: float = 30.0, live_since: float | None = 0.0) -> Observation:
    return Observation(
        SourceState.LIVE, "", fps, times[-1] if times else None, tuple(times),
        tuple(zip(times[1:], changes, strict=False)), live_since,
    )  # fmt: skip


def steady(seconds: float, fps: float = 30.0, change: float = 4.0, start: float = 0.0):
    times = [start + i / fps for i in range(int(seconds * fps))]
    return times, [change] * (len(times) - 1)


def test_a_steady_feed_is_live():
    times, changes = steady(3)
    assert judge(feed(times, changes), times[-1] + 0.01, S).state is SourceState.LIVE


def test_a_stop_is_seen_as_stalled_within_about_200_ms_at_30_fps():
    times, changes = steady(3)
    last = times[-1]
    assert judge(feed(times, changes), last + 0.19, S).state is SourceState.LIVE
    verdict = judge(feed(times, changes), last + 0.21, S)
    assert verdict.state is SourceState.STALLED and verdict.reason == "no frame for 210 ms"


def test_identical_pictures_are_frozen_but_a_noisy_still_scene_is_not():
    times, _ = steady(3)
    frozen_changes = [0.0] * (len(times) - 1)
    frozen_changes[-15] = 0.9  # a keyframe blip inside the window does not hide the freeze
    verdict = judge(feed(times, frozen_changes), times[-1] + 0.01, S)
    assert verdict.state is SourceState.FROZEN and "unchanged" in verdict.reason
    rng = random.Random(7)
    noisy_still = [rng.uniform(0.4, 2.5) for _ in range(len(times) - 1)]  # sensor noise, nothing moving
    assert judge(feed(times, noisy_still), times[-1] + 0.01, S).state is SourceState.LIVE


def test_a_noisy_still_scene_through_a_constant_quality_encoder_is_not_frozen():
    # recorded shape: x264 CRF 23 at 720p on a still scene with sensor noise, decoded, every 8th pixel
    rng = random.Random(3)
    times, _ = steady(3)
    changes = [
        rng.choice((0.004, 0.012, 0.018)) if i % 5 == 0 else rng.uniform(0.025, 0.09) for i in range(len(times) - 1)
    ]
    assert judge(feed(times, changes), times[-1] + 0.01, S).state is SourceState.LIVE


def test_freeze_is_detected_within_one_second():
    times, changes = steady(4)
    freeze_at = 3.0
    changes = [0.0 if t >= freeze_at else c for t, c in zip(times[1:], changes, strict=False)]
    detected = next(
        t for t in times if t > freeze_at and judge(feed([x for x in times if x <= t], changes), t, S).state
        is SourceState.FROZEN
    )  # fmt: skip
    assert detected - freeze_at <= 1.0


def test_a_trickle_is_stalled_but_only_after_a_full_window():
    times = [i / 8 for i in range(40)]  # 8 fps from a 30 fps source, for 5 s
    changes = [3.0] * 39
    verdict = judge(feed(times, changes), times[-1] + 0.01, S)
    assert verdict.state is SourceState.STALLED and "trickling at 8 fps of 30" in verdict.reason
    young = feed(times[-10:], changes[-9:], live_since=times[-10])
    assert judge(young, times[-1] + 0.01, S).state is SourceState.LIVE  # too soon to judge a rate


def test_jittery_but_healthy_feed_never_leaves_live():
    rng = random.Random(11)
    t, times = 0.0, []
    for _ in range(30 * 300):  # 5 minutes at 30 fps, every interval ±40 %
        t += (1 / 30) * rng.uniform(0.6, 1.4)
        times.append(t)
    changes = [rng.uniform(1, 5) for _ in times[1:]]
    policy = FailoverPolicy(S)
    for i in range(60, len(times), 3):
        window = times[max(0, i - 120) : i]
        now = window[-1] + rng.uniform(0, 1 / 30 * 1.4)
        verdict = judge(feed(window, changes[max(0, i - 120) : i - 1]), now, S)
        assert verdict.state is SourceState.LIVE
        assert policy.decide(verdict, LIVE, now) is None


def test_reader_states_pass_through_with_their_message():
    obs = Observation(SourceState.DOWN, "tcp://127.0.0.1:9: Connection refused", 30, None, (), (), None)
    assert judge(obs, 5.0, S) == Verdict(SourceState.DOWN, "tcp://127.0.0.1:9: Connection refused")


def test_cut_to_secondary_at_once_and_back_only_after_the_dwell():
    policy = FailoverPolicy(FailoverSettings(dwell_s=5))
    assert policy.decide(LIVE, LIVE, 0.0) is None
    cut = policy.decide(STALLED, LIVE, 1.0)
    assert cut is not None and (cut.from_source, cut.to_source) == (PRIMARY, SECONDARY)
    assert cut.reason == "primary stalled: no frame for 210 ms"
    assert policy.decide(LIVE, LIVE, 2.0) is None  # primary back, but not for long enough
    assert policy.decide(STALLED, LIVE, 3.0) is None  # flaps again: the dwell restarts
    assert policy.decide(LIVE, LIVE, 4.0) is None
    assert policy.decide(LIVE, LIVE, 8.9) is None
    back = policy.decide(LIVE, LIVE, 9.0)
    assert back is not None and back.to_source == PRIMARY and "healthy for 5 s" in back.reason


def test_a_primary_flapping_every_two_seconds_causes_one_cut_not_many():
    policy = FailoverPolicy(FailoverSettings(dwell_s=5))
    switches = []
    for step in range(60):  # 30 s of 0.5 s ticks: 2 s up, 2 s down
        now = step * 0.5
        primary = LIVE if (now // 2) % 2 == 0 else DOWN
        if (switch := policy.decide(primary, LIVE, now)) is not None:
            switches.append(switch)
    assert [s.to_source for s in switches] == [SECONDARY]


def test_both_down_shows_the_slate_and_the_first_source_back_wins():
    policy = FailoverPolicy()
    policy.decide(DOWN, LIVE, 0)
    to_slate = policy.decide(DOWN, DOWN, 1)
    assert to_slate is not None and to_slate.to_source == SLATE and to_slate.reason == "both sources down"
    back = policy.decide(DOWN, LIVE, 2)
    assert back is not None and back.to_source == SECONDARY


def test_nothing_opened_yet_is_not_a_cut():
    starting = Verdict(SourceState.STARTING, "opening")
    policy = FailoverPolicy(S)
    assert policy.decide(starting, starting, 0.0) is None  # both still opening at start: no cut to the slate
    assert FailoverPolicy(S, has_secondary=False).decide(starting, None, 0.0) is None
    assert policy.decide(starting, LIVE, 0.1).to_source == SECONDARY  # the secondary has pictures first
    assert FailoverPolicy(S).decide(starting, DOWN, 0.1).to_source == SLATE  # a real failure beside it


def test_with_no_alternative_a_frozen_primary_stays_on_program():
    policy = FailoverPolicy(has_secondary=False)
    assert policy.decide(FROZEN, None, 0) is None
    slate = policy.decide(DOWN, None, 1)
    assert slate is not None and slate.to_source == SLATE


def test_host_locks_override_automation():
    policy = FailoverPolicy()
    policy.set_lock(Lock.SECONDARY)
    assert policy.decide(LIVE, LIVE, 0).to_source == SECONDARY
    assert policy.decide(LIVE, LIVE, 100) is None  # stays, however healthy the primary is
    policy.set_lock(Lock.PRIMARY)
    forced = policy.decide(LIVE, LIVE, 101)
    assert forced.to_source == PRIMARY and forced.reason == "host forced the primary" and not forced.automatic
    policy.set_lock(Lock.AUTO)
    assert policy.decide(STALLED, LIVE, 102).to_source == SECONDARY


def test_a_forced_primary_without_pictures_shows_the_slate_never_a_frozen_frame():
    policy = FailoverPolicy()
    policy.set_lock(Lock.PRIMARY)
    assert policy.decide(LIVE, LIVE, 0) is None
    for broken in (STALLED, FROZEN, DOWN):
        slate = policy.decide(broken, LIVE, 1)
        assert slate is not None and slate.to_source == SLATE and slate.automatic  # the failure's cut, not the host's
        assert slate.reason == f"host forced the primary, which is {broken.state.value}: {broken.reason}; " \
                               "showing the slate"
        back = policy.decide(LIVE, LIVE, 2)  # forced: no dwell, the primary goes back on at once
        assert back is not None and back.to_source == PRIMARY


def test_the_return_countdown_runs_only_while_the_dwell_does():
    policy = FailoverPolicy(FailoverSettings(dwell_s=5))
    policy.decide(LIVE, LIVE, 0.0)
    assert policy.returning_in(0.0) is None  # on the primary: nothing to return to
    policy.decide(DOWN, LIVE, 1.0)
    assert policy.returning_in(1.0) is None  # on the secondary, the primary is not live
    policy.decide(LIVE, LIVE, 2.0)
    assert policy.returning_in(3.0) == 4.0
    policy.set_lock(Lock.SECONDARY)
    policy.decide(LIVE, LIVE, 3.5)
    assert policy.returning_in(3.5) is None  # held on the secondary: no return pending
    policy.set_lock(Lock.AUTO)
    assert policy.decide(LIVE, LIVE, 7.0).to_source == PRIMARY
    assert policy.returning_in(7.0) is None


def test_reconnect_every_second_while_live_and_back_off_otherwise():
    assert [reconnect_delay(n, drop_live=True) for n in range(8)] == [1.0] * 8
    assert [reconnect_delay(n, drop_live=False) for n in range(8)] == [0.5, 1, 2, 4, 8, 10, 10, 10]


def test_a_primary_that_opens_after_the_secondary_goes_on_program_without_the_dwell():
    starting = Verdict(SourceState.STARTING, "opening")
    policy = FailoverPolicy(FailoverSettings(dwell_s=5))
    assert policy.decide(starting, LIVE, 0.0).to_source == SECONDARY  # show something while the phone connects
    up = policy.decide(LIVE, LIVE, 0.6)
    assert up is not None and up.to_source == PRIMARY and up.reason == "the primary is up"
    # once it has failed, the dwell applies again
    assert policy.decide(STALLED, LIVE, 1.0).to_source == SECONDARY
    assert policy.decide(LIVE, LIVE, 1.5) is None
    assert policy.decide(LIVE, LIVE, 6.5).to_source == PRIMARY
