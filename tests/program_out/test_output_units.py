"""The pure parts of program out: config, ingest URLs, the failover policy, failure words,
commerce moments, TS splitting, the bounded replay buffer, and the disk guards."""

from __future__ import annotations

import io
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from booth.core.config import ConfigError, parse_config
from booth.core.drop import DropView, Phase, SkuView, StockLevel
from booth.core.output import (
    IngestPolicy,
    IngestUrlError,
    MomentDetector,
    OutputConfig,
    OutputState,
    PolicyTimes,
    PushReport,
    describe_failure,
    parse_ingest_url,
)
from booth.core.recording import RecordingConfig
from booth.core.tsscan import TsSplitter
from booth.program_out.program_out import ProgramOut
from booth.program_out.recorder import Recorder
from booth.program_out.replay import Chunk, ReplayBuffer
from booth.runtime.disk_guard import DiskGuard
from booth.runtime.feed import Feed
from tests.waiting import wait_until

BASE = {"drop": {"title": "T"}, "sku": [{"id": "a", "name": "A", "stock": 5}]}


def config_with(output: dict) -> OutputConfig:
    return parse_config({**BASE, "output": output}, "drop.toml").output


def test_output_section_reads_and_defaults():
    assert config_with({}) == OutputConfig()
    c = config_with({"primary": "rtmp://a.example/live/KEY1234567", "backup": "srt://b.example:9000?passphrase=x",
                     "bitrate_kbps": 3000, "keyframe_seconds": 2, "preset": "veryfast", "clip_seconds": 20})
    assert (c.bitrate_kbps, c.preset, c.clip_s) == (3000, "veryfast", 20)
    assert [t.name for t in c.targets()] == ["primary", "backup"]
    assert "KEY1234567" not in repr(c) and "KEY1234567" not in c.targets()[0].label


@pytest.mark.parametrize(
    ("output", "key", "words"),
    [
        ({"primary": "http://x/live/k"}, "output.primary", "must start with rtmp://"),
        ({"primary": "rtmp:///live/sk_secret99"}, "output.primary", "no host"),
        ({"primary": "rtmp://host/sk_secret99"}, "output.primary", "application and a stream key"),
        ({"primary": "srt://host"}, "output.primary", "needs a port"),
        ({"backup": "rtmp://h/live/k"}, "output.backup", "needs a primary"),
        ({"clip_seconds": 10}, "output.clip_seconds", "between 15 and 60"),
        ({"preset": "slowest"}, "output.preset", "must be one of"),
        ({"bitrate": 100}, "output.bitrate", "unknown key"),
    ],
)
def test_bad_output_config_names_the_key_and_hides_the_secret(output, key, words):
    with pytest.raises(ConfigError) as err:
        config_with(output)
    assert any(f": {key}: " in p and words in p for p in err.value.problems), err.value.problems
    assert "secret99" not in str(err.value)


def test_ingest_url_checks():
    assert parse_ingest_url("rtmps://live.example:443/app/key").scheme == "rtmps"
    with pytest.raises(IngestUrlError):
        parse_ingest_url("rtmp://host/live/key with space")


def live(started: float, now: float) -> PushReport:
    return PushReport(started, now, exited=False)


def test_policy_fails_over_at_once_retries_primary_alongside_and_returns_when_stable():
    t = PolicyTimes(stall_s=2, stable_s=10, retry_s=(1, 2))
    p = IngestPolicy(has_backup=True, times=t)
    assert [(a.kind, a.target) for a in p.step(0, {})] == [("start", "primary")]
    assert p.step(1, {"primary": live(0, 1)}) == []
    died = PushReport(0, 1, exited=True, reason="closed the connection")
    actions = p.step(5, {"primary": died})
    assert [(a.kind, a.target) for a in actions] == [("stop", "primary"), ("start", "backup")]
    assert p.active == "backup" and p.switches == 1 and "closed" in p.last_switch_reason
    # the primary is retried alongside after its backoff
    assert [(a.kind, a.target) for a in p.step(6, {"backup": live(5, 6)})] == [("start", "primary")]
    reports = {"backup": live(5, 7), "primary": live(6, 7)}
    assert p.step(7, reports) == [] and p.active == "backup"
    actions = p.step(17.5, {"backup": live(5, 17.5), "primary": live(6, 17.5)})
    assert p.active == "primary" and [(a.kind, a.target) for a in actions] == [("stop", "backup")]


def test_a_quiet_primary_warms_the_backup_so_the_switch_finds_it_connected_and_a_hiccup_cools_it():
    t = PolicyTimes(stall_s=1, warm_s=0.5, stable_s=10, retry_s=(1, 2))
    p = IngestPolicy(has_backup=True, times=t)
    p.step(0, {})
    assert p.step(1, {"primary": live(0, 1)}) == []
    # 0.6 s without data: the backup starts alongside, the primary still carries the stream
    warm = p.step(1.6, {"primary": live(0, 1)})
    assert [(a.kind, a.target) for a in warm] == [("start", "backup")] and "warming" in warm[0].reason
    assert p.active == "primary" and p.switches == 0
    # the primary takes data again: the warmed backup stops, nothing switched
    cool = p.step(1.8, {"primary": live(0, 1.8), "backup": live(1.6, 1.8)})
    assert [(a.kind, a.target) for a in cool] == [("stop", "backup")] and p.active == "primary"
    # another hiccup right after: the backup rests instead of starting an ffmpeg again
    assert p.step(2.4, {"primary": live(0, 1.8)}) == []
    assert p.step(2.5, {"primary": live(0, 2.5)}) == []
    # a real stall while it rests is not held up: the backup starts with the switch, as without warming
    resting = IngestPolicy(has_backup=True, times=t)
    resting.step(0, {})
    resting.step(1.6, {"primary": live(0, 1)})
    resting.step(1.8, {"primary": live(0, 1.8), "backup": live(1.6, 1.8)})
    actions = resting.step(2.9, {"primary": live(0, 1.8)})
    assert [(a.kind, a.target) for a in actions] == [("stop", "primary"), ("start", "backup")]
    assert resting.active == "backup"
    # a real stall later: warmed at 7.6, judged failed at 8.1, and the backup already running takes over at once
    assert p.step(7.0, {"primary": live(0, 7.0)}) == []
    assert [(a.kind, a.target) for a in p.step(7.6, {"primary": live(0, 7.0)})] == [("start", "backup")]
    failed = p.step(8.1, {"primary": live(0, 7.0), "backup": live(7.6, 8.1)})
    assert [(a.kind, a.target) for a in failed] == [("stop", "primary")]  # no second start of the backup
    assert p.active == "backup" and p.switches == 1 and "stalled" in p.last_switch_reason
    assert p.is_live("backup", 8.1, live(7.6, 8.1))


def test_policy_without_backup_backs_off_and_judges_stalls():
    t = PolicyTimes(connect_timeout_s=3, stall_s=2, retry_s=(1, 2, 4))
    p = IngestPolicy(has_backup=False, times=t)
    p.step(0, {})
    never = PushReport(0, None, exited=False)
    assert p.step(2, {"primary": never}) == []
    actions = p.step(3.5, {"primary": never})
    assert actions[0].kind == "stop" and "sent nothing" in actions[0].reason
    assert p.step(4, {}) == [] and p.step(4.6, {})[0].kind == "start"
    stalled = PushReport(4.6, 5, exited=False)
    assert "stopped taking data" in p.step(7.5, {"primary": stalled})[0].reason
    assert p.next_try_in("primary", 7.5) == pytest.approx(2)


def test_failure_words():
    assert "refused" in describe_failure("Connection refused", 1)
    assert "stream key" in describe_failure("Incorrect passphrase", 1)
    assert "stream key" in describe_failure("av_interleaved_write_frame(): Broken pipe", 1, was_live_s=0.2)
    assert describe_failure("Broken pipe", 1, was_live_s=60) == "closed the connection"
    text = describe_failure("something odd at rtmp://h/live/sk_verysecret", 3)
    assert "exit code 3" in text and "verysecret" not in text


def view(left: int, sold: int) -> DropView:
    level = StockLevel.SOLD_OUT if left == 0 else StockLevel.CRITICAL if left <= 3 else (
        StockLevel.LOW if left <= 10 else StockLevel.PLENTY)
    return DropView("T", (SkuView("a", "TEE", left, 20, level),), Phase.LIVE, 60, 90, sold)


def test_moments_first_sale_each_level_down_and_sold_out():
    d = MomentDetector()
    seen = [d.feed(view(left, 20 - left)) for left in (20, 19, 15, 10, 9, 3, 2, 5, 3, 0)]
    # a restock (2 → 5) makes the next crossing a new moment
    assert seen == [[], ["first sale"], [], ["TEE low stock: 10 left"], [], ["TEE low stock: 3 left"], [], [],
                    ["TEE low stock: 3 left"], ["TEE sold out"]]


def encoded_ts(seconds: float = 3.0, gop: int = 15) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mpegts") as out:
        v = out.add_stream("libx264", rate=30)
        v.width, v.height, v.pix_fmt = 160, 90, "yuv420p"
        v.codec_context.gop_size = gop
        v.options = {"preset": "ultrafast", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        for i in range(round(seconds * 30)):
            frame = av.VideoFrame.from_ndarray(np.full((90, 160, 3), i % 255, np.uint8), format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, 30)
            for packet in v.encode(frame):
                out.mux(packet)
        for packet in v.encode():
            out.mux(packet)
    return buf.getvalue()


def test_ts_splitter_cuts_before_each_keyframe_and_loses_nothing():
    data = encoded_ts()
    splitter = TsSplitter()
    chunks = [c for i in range(0, len(data), 1000) for c in splitter.feed(data[i : i + 1000])]
    assert b"".join(c.data for c in chunks) == data
    starts = [i for i, c in enumerate(chunks) if c.keyframe]
    assert len(starts) == 6  # 3 s at one keyframe per 0.5 s
    tail = b"".join(c.data for c in chunks[starts[3] :])
    with av.open(io.BytesIO(tail), format="mpegts") as c:
        frames = list(c.decode(video=0))
    assert frames[0].key_frame and len(frames) == 45


def test_replay_buffer_keeps_whole_gops_and_stays_bounded():
    buf = ReplayBuffer(10.0)
    for i in range(600):  # 60 s at 10 chunks/s, a keyframe every 2 s
        buf.append(Chunk(i / 10, i % 20 == 0, b"x" * 1000))
    assert 10.0 <= buf.span_s() <= 12.0
    assert buf.bytes <= 121 * 1000
    data, start = buf.window(55.0, 60.0)
    assert start == 54.0 and len(data) == 60 * 1000
    assert buf.last_gop()[0].at == 58.0


def test_recording_on_a_full_disk_stops_with_a_sentence():
    recorder = Recorder(Path("/dev/full"), time.monotonic)  # every write fails with ENOSPC
    recorder.start()
    recorder.put(Chunk(0.0, True, b"\x47" * 188 * 200))
    wait_until(lambda: recorder.error, 5, "the disk-full error")
    recorder.stop()
    assert recorder.error.startswith("Disk full: recording stopped")


def test_disk_guard_warns_then_stops_recording_and_nothing_else(tmp_path, qapp):
    from booth.core.config import ProgramConfig
    from booth.core.frames import ProgramFrame

    free = {"bytes": 10 * 1024**3}
    config = OutputConfig(bitrate_kbps=4000)
    recording = RecordingConfig(folder="rec", warn_minutes=60, min_free_mb=200)
    guard = DiskGuard(tmp_path / "rec", recording, config.stream_bytes_per_s,
                      disk_usage=lambda _p: (0, 0, free["bytes"])).start()  # fmt: skip
    out = ProgramOut(config, ProgramConfig(320, 180, 30), Feed(stamp=ProgramFrame.stamp), recording=recording,
                     recording_folder=tmp_path / "rec", disk=guard.status)  # fmt: skip
    out.start()
    try:
        wait_until(lambda: out.status().free_disk_bytes is not None, 5, "a disk check")
        assert out.status().disk_warning == "" and out.status().state is OutputState.OFF
        free["bytes"] = 1 * 1024**3  # about 33 min at 4.1 Mbit/s
        wait_until(lambda: out.status().disk_warning, 5, "the warning")
        assert "min of recording space left" in out.status().disk_warning
        free["bytes"] = 100 * 1024**2
        wait_until(lambda: out.status().recording_error, 5, "recording to stop")
        assert "Disk almost full" in out.status().recording_error
        assert out.status().problems
    finally:
        out.stop()
        guard.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("booth-output")]
