"""The program clock over hours, in simulated time: exactly the program rate whatever the source does."""

from __future__ import annotations

import bisect
import itertools
import random

import pytest

from booth.core.program_clock import ProgramClock

FPS = 30.0
COMPOSE_S = 0.002


def run(source_fps: float, hours: float, jitter_s: float = 0.003, stall: tuple[float, float] | None = None):
    """Drive the clock the way the compositor does, against a source with its own rate and jitter.

    Returns (slot, program instant, compose moment, fresh) per composed frame, and the clock.
    """
    rng = random.Random(7)
    seconds = hours * 3600
    arrivals = [i / source_fps + 0.4 + rng.uniform(-jitter_s, jitter_s) for i in range(int(seconds * source_fps))]
    arrivals.sort()
    clock = ProgramClock(FPS, origin=0.5)
    taken = -1  # index of the last source frame taken
    now = 0.5
    frames = []
    while True:
        window = clock.window()
        if window.opens > seconds:
            break
        now = max(now, window.opens)
        if stall is not None and stall[0] <= now < stall[1]:
            now = stall[1]  # the machine did not run the compositor at all
        newest = bisect.bisect_right(arrivals, now) - 1
        if newest <= taken:  # nothing new yet: wait for the next arrival, up to the window's end
            nxt = taken + 1
            if nxt < len(arrivals) and arrivals[nxt] <= window.closes:
                now, newest = max(now, arrivals[nxt]), nxt
        fresh = newest > taken
        in_step = fresh and newest == taken + 1
        arrival = arrivals[newest] if in_step else None
        if fresh:
            taken = newest
        now += COMPOSE_S
        frames.append((window.slot, window.at, now, fresh))
        clock.composed(now, arrival)
    return frames, clock


@pytest.mark.parametrize("source_fps", [30.0, 30.09, 30.19, 29.91, 60.0, 25.0])
def test_three_hours_of_program_keep_exactly_the_program_rate(source_fps):
    frames, clock = run(source_fps, hours=3)
    seconds = 3 * 3600
    assert abs(len(frames) - (seconds - 0.5) * FPS) <= 2  # one frame per slot from the origin, no more, no fewer
    assert clock.skipped == 0
    slots = [f[0] for f in frames]
    assert slots == list(range(slots[0], slots[0] + len(slots)))  # every slot once, in order
    # each frame is composed within a frame and a half (plus its compose time) of the instant it is
    # for, in the last hour as in the first: nothing creeps
    bound = 1.5 * clock.period + COMPOSE_S + 1e-9
    first_hour, last_hour = frames[: int(3600 * FPS)], frames[-int(3600 * FPS) :]
    for hour in (first_hour, last_hour):
        assert max(abs(composed - at) for _slot, at, composed, _fresh in hour) <= bound
    mean_offset = [sum(c - a for _s, a, c, _f in hour) / len(hour) for hour in (first_hour, last_hour)]
    assert abs(mean_offset[1] - mean_offset[0]) < 0.004


def test_a_source_at_the_program_rate_is_composed_the_moment_it_lands():
    frames, _clock = run(30.0, hours=0.5, jitter_s=0.001)
    settled = frames[300:]
    assert all(fresh for *_x, fresh in settled)
    # the phase lock puts compose moments right after arrivals: far less than a frame of waiting
    arrivals_wait = [composed - at for _s, at, composed, _f in settled]
    spread = max(arrivals_wait) - min(arrivals_wait)
    assert spread < 0.008


def test_a_stalled_machine_skips_the_slots_it_missed_and_leaves_the_timeline_in_place():
    frames, clock = run(30.0, hours=0.25, stall=(120.0, 120.5))
    assert 12 <= clock.skipped <= 15  # half a second of slots given up (one composed late), not in a burst
    slots = [f[0] for f in frames]
    gaps = [b - a for a, b in itertools.pairwise(slots) if b - a != 1]
    assert len(gaps) == 1 and gaps[0] == clock.skipped + 1
    after = [(s, at, c) for s, at, c, _f in frames if c > 121.0]
    assert max(abs(c - at) for _s, at, c in after) <= 1.5 * clock.period + COMPOSE_S + 1e-9
    assert slots[-1] == clock.slot_at(frames[-1][1])
