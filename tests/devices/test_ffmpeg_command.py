"""Decoder options per protocol (RTSP has no local test server: its options are checked here)."""

from __future__ import annotations

from booth.devices.ffmpeg_source import decoder_command


def test_rtsp_goes_over_tcp_with_a_socket_timeout():
    command = decoder_command("rtsp://127.0.0.1:8554/cam", (1280, 720))
    assert command[command.index("-rtsp_transport") + 1] == "tcp"
    assert command[command.index("-timeout") + 1] == "5000000"  # µs: a dead server cannot hold the read


def test_every_picture_is_scaled_and_padded_to_the_program_size_as_raw_bgr():
    command = decoder_command("srt://0.0.0.0:9000?mode=listener", (1920, 1080))
    vf = command[command.index("-vf") + 1]
    assert "scale=1920:1080:force_original_aspect_ratio=decrease" in vf and "pad=1920:1080" in vf
    assert command[-5:] == ["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]
    assert "-probesize" in command and "nobuffer" in command  # open fast, no backlog
