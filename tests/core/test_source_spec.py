from __future__ import annotations

import pytest

from booth.core.redact import redact_text, redact_url
from booth.core.source_spec import SourceKind, SpecError, parse_source_spec


@pytest.mark.parametrize(
    ("text", "kind", "target"),
    [
        ("demo:", SourceKind.DEMO, "bars"),
        ("camera:0", SourceKind.CAMERA, "0"),
        ("camera:HD Webcam C920", SourceKind.CAMERA, "HD Webcam C920"),
        ("file:/videos/loop.mp4", SourceKind.FILE, "/videos/loop.mp4"),
        ("rtmp://127.0.0.1/live/phone", SourceKind.NETWORK, "rtmp://127.0.0.1/live/phone"),
        ("srt://0.0.0.0:9000?mode=listener", SourceKind.NETWORK, "srt://0.0.0.0:9000?mode=listener"),
        ("tcp://127.0.0.1:5000", SourceKind.NETWORK, "tcp://127.0.0.1:5000"),
        ("udp://127.0.0.1:5000", SourceKind.NETWORK, "udp://127.0.0.1:5000"),
        ("http://127.0.0.1:8080/video.mjpg", SourceKind.NETWORK, "http://127.0.0.1:8080/video.mjpg"),
        ("rtsp://127.0.0.1:8554/cam", SourceKind.NETWORK, "rtsp://127.0.0.1:8554/cam"),
    ],
)
def test_specs_parse(text, kind, target):
    spec = parse_source_spec(text)
    assert (spec.kind, spec.target) == (kind, target)


@pytest.mark.parametrize("text", ["webcam", "camera:", "file:", "ftp://x", "rtmp:nohost"])
def test_bad_specs_explain_themselves(text):
    with pytest.raises(SpecError) as caught:
        parse_source_spec(text)
    assert str(caught.value)


def test_stream_keys_and_passwords_never_show_in_full():
    url = "rtmp://user:hunter2@ingest.example/live/live_sk_9f8e7d6c5b4a"
    shown = redact_url(url)
    assert "hunter2" not in shown and "live_sk_9f8e7d6c5b4a" not in shown
    assert shown.startswith("rtmp://user:•••@ingest.example/live/liv…")
    srt = redact_url("srt://1.2.3.4:9000?mode=caller&passphrase=supersecret123&latency=200")
    assert "supersecret123" not in srt and "latency=200" in srt
    assert "live_sk_9f8e7d6c5b4a" not in redact_text(f"error opening {url}: refused")
    assert parse_source_spec(url).label == shown
