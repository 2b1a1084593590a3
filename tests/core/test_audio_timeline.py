"""Program sound stays on the program clock: a drifting sound card, jittery blocks, gaps and silence."""

from __future__ import annotations

import random

import numpy as np

from booth.core.audio_timeline import AudioTimeline

RATE = 48000
BLOCK = 1024


def beep_positions(frames: list[tuple[int, np.ndarray]]) -> list[int]:
    """Sample index where each beep (loud samples after at least 0.1 s of quiet) starts."""
    starts: list[int] = []
    last_loud = -RATE
    for first, chunk in frames:
        for index in np.flatnonzero(np.abs(chunk.astype(np.int32)) > 8000):
            position = first + int(index)
            if position - last_loud > RATE // 10:
                starts.append(position)
            last_loud = position
    return starts


def run_microphone(ppm: float, minutes: float, jitter_s: float = 0.004, seed: int = 5, starved: bool = False):
    """A sound card whose clock runs `ppm` fast, beeping at every whole second of real time;
    blocks are stamped with their arrival time (as PortAudio's callback would see it). `starved`:
    now and then the machine holds the callbacks back for up to 150 ms, then runs them in a burst."""
    rng = random.Random(seed)
    held_until = 0.0
    timeline = AudioTimeline(RATE)
    card_rate = RATE * (1 + ppm / 1e6)  # samples it produces per real second
    frames: list[tuple[int, np.ndarray]] = []
    total = int(minutes * 60 * card_rate)
    for first in range(0, total - BLOCK, BLOCK):
        real = (first + np.arange(BLOCK)) / card_rate  # real time of each sample
        block = np.zeros(BLOCK, np.int16)
        block[(real % 1.0) < 0.010] = 20000  # a 10 ms beep at every whole second
        arrival = real[-1] + abs(rng.gauss(0, jitter_s))
        if starved:
            if arrival > held_until + 1.0 and rng.random() < 0.02:
                held_until = arrival + rng.uniform(0.03, 0.15)
            arrival = max(arrival, held_until)
        timeline.add(arrival - BLOCK / RATE, block.tobytes())
        frames += timeline.frames_until(arrival - 0.25)
    return timeline, frames


def test_a_fast_sound_card_stays_on_the_program_clock():
    timeline, frames = run_microphone(ppm=300, minutes=20)
    beeps = beep_positions(frames)
    assert len(beeps) >= 1195
    errors_ms = [(pos - round(pos / RATE) * RATE) / RATE * 1000 for pos in beeps]
    assert max(abs(e) for e in errors_ms) <= 25  # counting samples would be 360 ms off by now
    assert 10 <= timeline.resyncs <= 40  # a small correction every minute or so, not every block


def test_a_slow_sound_card_and_jittery_callbacks_stay_within_the_resync_bound():
    _timeline, frames = run_microphone(ppm=-200, minutes=8, jitter_s=0.008)
    beeps = beep_positions(frames)
    errors_ms = [(pos - round(pos / RATE) * RATE) / RATE * 1000 for pos in beeps]
    assert max(abs(e) for e in errors_ms) <= 25


def test_a_starved_machine_delivering_blocks_late_and_in_bursts_does_not_move_the_sound():
    _timeline, frames = run_microphone(ppm=100, minutes=6, starved=True)
    beeps = beep_positions(frames)
    errors_ms = [(pos - round(pos / RATE) * RATE) / RATE * 1000 for pos in beeps]
    assert len(beeps) >= 355 and max(abs(e) for e in errors_ms) <= 15


def test_frames_are_whole_evenly_spaced_and_silence_fills_where_no_sound_came():
    timeline = AudioTimeline(RATE)
    timeline.add(0.0, (np.full(RATE // 2, 1000, np.int16)).tobytes())  # the first half second
    timeline.add(2.0, (np.full(RATE // 2, 2000, np.int16)).tobytes())  # then nothing until 2 s (a gap)
    frames = timeline.frames_until(3.0)
    starts = [start for start, _c in frames]
    assert starts == list(range(0, starts[-1] + 1, 1024)) and starts[-1] + 1024 <= 3 * RATE
    track = np.concatenate([c for _s, c in frames])
    assert (track[: RATE // 2] == 1000).all()
    assert (track[RATE // 2 + 1 : 2 * RATE] == 0).all()
    assert (track[2 * RATE : 2 * RATE + RATE // 2] == 2000).all()
    assert timeline.resyncs == 1  # the gap re-aligned the blocks to their time


def test_sound_from_before_the_program_started_or_already_cut_is_dropped_not_shifted():
    timeline = AudioTimeline(RATE)
    timeline.add(-0.1, np.full(RATE // 5, 500, np.int16).tobytes())  # half of it before program time 0
    frames = timeline.frames_until(0.2)
    track = np.concatenate([c for _s, c in frames])
    assert (track[: RATE // 10 - 1] == 500).all() and (track[RATE // 10 + 1 :] == 0).all()
    assert timeline.dropped_samples == RATE // 10
