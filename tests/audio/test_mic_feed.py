"""Microphone blocks reach the program audio at 48 kHz; PortAudio's thread never waits."""

from __future__ import annotations

import numpy as np

from booth.audio.mic_feed import MAX_QUEUED_BLOCKS, MicFeed
from booth.core.audio import resample_s16_mono


def tone(rate: int, seconds: float, hz: float = 440.0) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * hz * t) * 16000).astype("<i2").tobytes()


def test_a_44k1_microphone_becomes_48k_program_audio_with_the_same_pitch():
    out = np.frombuffer(resample_s16_mono(tone(44100, 1.0), 44100, 48000), dtype="<i2")
    assert abs(len(out) - 48000) <= 1
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * 48000 / len(out) - 440) < 2  # still an A


def test_blocks_are_pushed_in_order_and_a_stalled_encoder_cannot_grow_memory():
    pushed: list[bytes] = []
    feed = MicFeed(pushed.append)
    blocks = [bytes([i % 256, 0]) * 1024 for i in range(MAX_QUEUED_BLOCKS + 10)]
    for block in blocks:
        feed.on_block(block, 48000)  # the encoder is not draining: the oldest audio goes
    assert feed.dropped_blocks == 10
    feed.drain()
    assert pushed == blocks[10:]
