"""`booth check` opens every source for real and reads one picture."""

from __future__ import annotations

import pytest

from booth.core.source_spec import parse_source_spec
from booth.health.preflight import CheckStatus, check_source
from tests import senders


def test_a_garbage_video_file_fails_the_check_with_the_reason(tmp_path):
    bad = tmp_path / "loop.mp4"
    bad.write_bytes(b"not a video" * 500)
    item = check_source("primary", parse_source_spec(f"file:{bad}"))
    assert item.status is CheckStatus.FAIL and "Not a playable video file" in item.summary


def test_a_missing_camera_fails_the_check():
    item = check_source("secondary", parse_source_spec("camera:No Such Camera"))
    assert item.status is CheckStatus.FAIL and "No camera named" in item.summary


@pytest.mark.slow
def test_a_live_stream_passes_with_its_first_picture_time():
    port = senders.free_port()
    with senders.ffmpeg_sender(*senders.mpegts_tcp_listener(port)):
        for _ in range(50):  # bounded: the sender may not be listening yet
            item = check_source("primary", parse_source_spec(f"tcp://127.0.0.1:{port}"))
            if "refused" not in item.summary.lower():
                break
    assert item.status is CheckStatus.OK, item.summary
    assert "first picture in" in item.summary and "(1280x720)" in item.summary
    assert item.figures["first_frame_ms"] > 0


def test_a_refused_stream_fails_with_the_decoders_reason():
    item = check_source("primary", parse_source_spec(f"tcp://127.0.0.1:{senders.free_port()}"))
    assert item.status is CheckStatus.FAIL and "refused" in item.summary.lower()
