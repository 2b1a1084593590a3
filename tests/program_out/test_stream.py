"""Program out against real ingests on 127.0.0.1: what a viewer's client receives, failover to the
backup ingest and back, clips and recordings that play, and bad ingests that never stop the show."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import av
import numpy as np
import pytest

from booth.core.output import OutputState
from booth.devices.clip import probe_media
from tests.program_out.conftest import SIZE
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def last_frame_bgr(path: Path) -> np.ndarray:
    frame = None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):  # noqa: B007 - we want the last one
            pass
    assert frame is not None, f"no video frame decoded from {path.name}"
    return frame.to_ndarray(format="bgr24")


def overlay_mask(program_bgr: np.ndarray) -> np.ndarray:
    """Pixels the overlay (bottom-left corner) changed: the camera (SolidSource) is flat grey 90.
    Only the lower half is compared: the compositor blinks a marker in the top-right corner."""
    mask = np.abs(program_bgr.astype(int) - 90).max(axis=2) > 60
    mask[: program_bgr.shape[0] // 2] = False
    return mask


def test_stream_reaches_the_ingest_with_size_rate_and_overlay(program_booth, make_output, nginx_factory, tmp_path):
    ingest = nginx_factory()
    out = make_output(primary=ingest.url())
    out.start()
    wait_until(lambda: out.status().state is OutputState.LIVE, 15, "the stream to go live")
    wait_until(lambda: out.status().replay_s >= 5.0, 20, "5 s of encoded program")
    status = out.status()
    assert "0123456789" not in status.ingest, "the stream key is never shown in full"
    assert status.frames_sent > 100 and status.bitrate_kbps > 0
    program = program_booth.program.newest()
    clip = out.clip(3.0).result(15)
    out.stop()

    received = ingest.recordings()
    assert received, "nginx recorded nothing"
    info = probe_media(received[-1])
    assert (info.width, info.height) == SIZE
    assert info.fps == pytest.approx(30, abs=0.5)
    assert info.has_audio, "a silent AAC track goes with the video"
    assert info.video_frames >= 90
    # the overlay the host sees is what viewers get: compare the burned-in pixels
    program_bgr = program.pixels[:, :, :3]
    mask = overlay_mask(program_bgr)
    assert mask.sum() > 500, "the program frame should carry the overlay"
    viewer = last_frame_bgr(received[-1])
    inside = np.abs(viewer.astype(int) - program_bgr.astype(int))[mask].mean()
    lower = np.zeros_like(mask)
    lower[SIZE[1] // 2 :] = True
    everywhere = np.abs(viewer.astype(int) - program_bgr.astype(int))[lower].mean()
    assert inside < 25 and everywhere < 6, (inside, everywhere)

    # the clip: a playable MP4 from a keyframe, no shorter than asked, at most one GOP longer
    assert clip.ok, clip.message
    clip_info = probe_media(clip.path)
    assert (clip_info.width, clip_info.height) == SIZE
    assert 3.0 - 0.1 <= clip_info.duration_s <= 3.0 + 1.0 + 0.2  # keyframe_s = 1
    # the local recording plays too
    recording = probe_media(out.status().recording_path)
    assert recording.video_frames >= 150 and (recording.width, recording.height) == SIZE


def test_primary_killed_backup_takes_over_and_primary_comes_back(make_output, nginx_factory):
    primary = nginx_factory("primary")
    backup = nginx_factory("backup")
    out = make_output(primary=primary.url(), backup=backup.url(key="sk_backup_abcdef"))
    out.start()
    wait_until(lambda: out.status().state is OutputState.LIVE, 15, "live on the primary")
    wait_until(lambda: primary.received_bytes() > 20_000, 10, "the primary to receive")
    port = primary.port
    primary.kill()  # the platform's primary ingest dies mid-show

    wait_until(lambda: out.status().state is OutputState.BACKUP, 10, "the switch to the backup")
    status = out.status()
    assert "backup" in status.message and "primary" in status.message
    assert "abcdef" not in status.ingest
    wait_until(lambda: backup.received_bytes() > 20_000, 10, "the backup to receive")
    assert any(m.reason.startswith("ingest primary") for m in out.moments()), "the failover is a marked moment"

    revived = nginx_factory("primary-again", port=port)  # the primary comes back on the same address
    wait_until(lambda: out.status().state is OutputState.LIVE, 20, "the return to the primary")
    wait_until(lambda: revived.received_bytes() > 20_000, 10, "the revived primary to receive")
    out.stop()
    frames = probe_media(backup.recordings()[-1]).video_frames
    assert frames > 0, "the backup received playable video"


def test_refused_and_auth_failure_are_named_and_the_show_goes_on(program_booth, make_output, nginx_factory):
    from tests.senders import free_port

    locked = nginx_factory("locked")
    refused = make_output(primary=f"rtmp://127.0.0.1:{free_port()}/live/sk_nobody_listens")
    rejected = make_output(primary=locked.url(app="locked"), recording="rec2")
    refused.start()
    rejected.start()
    wait_until(lambda: "refused" in refused.status().message, 15, "the refused message")
    wait_until(lambda: "stream key" in rejected.status().message, 15, "the rejected-key message")
    for out in (refused, rejected):
        status = out.status()
        assert status.state is OutputState.RECONNECTING
        assert "sk_" not in status.message
    # preview and drop carry on; the recording and clips still work without an ingest
    frames = program_booth.compositor.stats().frames
    assert program_booth.controller.sell().accepted
    wait_until(lambda: program_booth.compositor.stats().frames > frames + 15, 5, "program frames")
    wait_until(lambda: refused.status().recording_bytes > 50_000, 10, "the recording to grow")


def test_malformed_url_and_silent_peer(program_booth, make_output, silent_peer):
    bad = make_output(primary="rtmp://:1935/live/sk_secret_value")
    bad.start()
    status = bad.status()
    assert status.state is OutputState.OFF
    assert "no host" in status.message and "secret_value" not in status.message
    stalled = make_output(primary=f"rtmp://127.0.0.1:{silent_peer.port}/live/sk_stalled_key", recording="r2")
    stalled.start()
    wait_until(lambda: silent_peer.accepted, 10, "the silent peer to be connected")
    frames = program_booth.compositor.stats().frames
    wait_until(lambda: "stalled" in stalled.status().message, 15, "the stall to be named")
    assert program_booth.compositor.stats().frames > frames + 30, "the program kept running meanwhile"
    wait_until(lambda: bad.status().replay_s > 2.0, 10, "encoding without an ingest")


def test_moments_export_from_memory_and_from_the_recording(program_booth, make_output):
    out = make_output(replay_s=3.0, clip_s=4.0)  # a tiny replay buffer: older moments come from disk
    out.watch_drop(program_booth.controller)
    out.start()
    wait_until(lambda: out.status().replay_s > 1.5, 15, "encoded program")
    assert program_booth.controller.sell(qty=2).accepted  # 12 → 10: first sale and low stock
    reasons = [m.reason for m in out.moments()]
    assert reasons[0] == "first sale" and "low stock: 10 left" in reasons[1]
    wait_until(lambda: out.status().recording_bytes > 0 and out.status().replay_s > 2.9, 15, "a full buffer")
    wait_until(lambda: out.replay.start_time() > out.moments_log.at(0), 15, "the moment to leave memory")
    old = out.export_moment(0).result(15)
    assert old.ok, old.message
    info = probe_media(old.path)
    assert 2.0 <= info.duration_s <= 5.5 and info.video_frames > 30
    recent = out.mark("host pressed clip")
    result = out.export_moment(recent.index).result(15)
    assert result.ok, result.message
    assert out.export_moment(99).result(5).message == "There is no moment 99."


def test_encoder_killed_mid_show_restarts(program_booth, make_output):
    out = make_output(recording=None)
    out.start()
    wait_until(lambda: out.status().replay_s > 1.0, 15, "encoded program")
    os.kill(out.encoder.pid, signal.SIGKILL)  # the encoder process dies mid-show
    wait_until(lambda: "Encoder stopped" in out.status().message, 10, "the encoder failure to be shown")
    sent = out.status().frames_sent
    wait_until(lambda: out.status().message == "" and out.status().frames_sent > sent + 30, 15, "the restart")


def test_srt_ingest_receives_the_program(make_output, tmp_path):
    from tests.senders import ffmpeg_sender, free_port

    port = free_port()
    received = tmp_path / "srt-received.ts"
    url = f"srt://127.0.0.1:{port}?mode=listener&passphrase=sk_srt_passphrase1"
    listener = ["-i", url, "-c", "copy", "-f", "mpegts", str(received)]
    with ffmpeg_sender(*listener):
        out = make_output(primary=f"srt://127.0.0.1:{port}?passphrase=sk_srt_passphrase1", recording=None)
        out.start()
        wait_until(lambda: out.status().state is OutputState.LIVE, 15, "live over SRT")
        out.push_audio(bytes(48000 * 2 // 10), time.monotonic() - 0.1)  # 100 ms from the microphone seam
        wait_until(lambda: received.exists() and received.stat().st_size > 100_000, 15, "SRT bytes")
        assert "sk_srt_passphrase1" not in out.status().ingest
        out.stop()
    info = probe_media(received)
    assert (info.width, info.height) == SIZE and info.has_audio and info.video_frames > 30
