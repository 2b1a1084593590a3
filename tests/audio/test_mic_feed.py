"""Microphone blocks reach the program audio at 48 kHz with their capture time; PortAudio's thread never waits."""

from __future__ import annotations

import numpy as np

from booth.audio.mic_feed import MAX_QUEUED_BLOCKS, MicFeed
from booth.core.audio import StreamResampler, resample_s16_mono


def tone(rate: int, seconds: float, hz: float = 440.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * hz * t) * 16000).astype("<i2").tobytes()


def test_a_44k1_microphone_becomes_48k_program_audio_with_the_same_pitch():
    out = np.frombuffer(resample_s16_mono(tone(44100, 1.0), 44100, 48000), dtype="<i2")
    assert abs(len(out) - 48000) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * 48000 / len(out) - 440) < 2  # still an A


def test_a_stream_resampled_block_by_block_keeps_its_length_and_its_waveform():
    source = tone(44100, 60.0)  # a minute of 1024-sample blocks
    resampler = StreamResampler(44100, 48000)
    pieces = [resampler.feed(source[i : i + 2048]) for i in range(0, len(source), 2048)]
    out = np.frombuffer(b"".join(pieces), dtype="<i2")
    assert abs(len(out) - 60 * 48000) <= 2  # per-block rounding would be 1,134 samples (24 ms) long
    whole = np.frombuffer(resample_s16_mono(source, 44100, 48000), dtype="<i2")
    n = min(len(out), len(whole))
    assert np.abs(out[:n].astype(np.int32) - whole[:n]).max() <= 300  # no clicks at block edges


def test_blocks_are_pushed_in_order_with_capture_times_and_a_stalled_encoder_cannot_grow_memory():
    pushed: list[tuple[bytes, float]] = []
    now = [100.0]
    feed = MicFeed(lambda pcm, at: pushed.append((pcm, at)), clock=lambda: now[0])
    blocks = [bytes([i % 256, 0]) * 1024 for i in range(MAX_QUEUED_BLOCKS + 10)]
    for block in blocks:
        now[0] += 1024 / 48000
        feed.on_block(block, 48000)  # the encoder is not draining: the oldest audio goes
    assert feed.dropped_blocks == 10
    feed.drain()
    assert [pcm for pcm, _at in pushed] == blocks[10:]
    first_kept_arrival = 100.0 + 11 * 1024 / 48000
    assert abs(pushed[0][1] - (first_kept_arrival - 1024 / 48000)) < 1e-9  # its first sample's time
