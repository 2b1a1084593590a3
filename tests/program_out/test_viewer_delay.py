"""Glass-to-glass against a real ingest: nginx-rtmp publishes the program as RTMP and as HLS (served
by nginx's HTTP server), Booth plays both back like viewers and measures how late they see it."""

from __future__ import annotations

import time

import pytest

from booth.app.root import build_booth
from booth.core import timecode
from booth.core.config import ProgramConfig, demo_config
from booth.core.output import OutputConfig, OutputState
from booth.core.timing import TimingConfig
from booth.program_out.program_out import ProgramOut
from booth.program_out.viewer_delay import ViewerDelayMonitor
from tests.conftest import SolidSource
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

SIZE = (640, 360)


class StampingCamera(SolidSource):
    """The grey test camera, stamping its wall clock into each picture the way a stamping sender does."""

    def read(self):
        frame = super().read()
        timecode.draw(frame, round(time.time() * 1000), timecode.Band.TOP)
        return frame


def test_the_viewer_delay_is_measured_from_rtmp_pull_and_from_hls_playback(qapp, nginx_factory):
    ingest = nginx_factory(hls=True)
    config = demo_config()
    config = type(config)(drop=config.drop, program=ProgramConfig(*SIZE, 30), timing=TimingConfig(timecode=True))
    booth = build_booth(config, source=StampingCamera(SIZE))
    output = ProgramOut(OutputConfig(primary=ingest.url(), bitrate_kbps=800, keyframe_s=1.0), config.program,
                        booth.program)  # fmt: skip
    viewers = {
        "rtmp": ViewerDelayMonitor(ingest.url(), "RTMP pull", lambda: booth.compositor.program_clock),
        "hls": ViewerDelayMonitor(ingest.hls_url(), "HLS", lambda: booth.compositor.program_clock,
                                  name="booth-readback-hls"),
    }
    booth.start()
    output.start()
    try:
        wait_until(lambda: output.status().state is OutputState.LIVE, 15, "the stream to go live")
        for monitor in viewers.values():
            monitor.start()
        wait_until(lambda: all(m.status().delay_s is not None for m in viewers.values()), 45,
                   "both read-backs to find Booth's frames")  # fmt: skip
        wait_until(lambda: viewers["hls"].status().samples >= 3, 20, "a few HLS pictures")
        rtmp, hls = viewers["rtmp"].status(), viewers["hls"].status()
    finally:
        for monitor in viewers.values():
            monitor.stop()
        output.stop()
        booth.stop()
    assert rtmp.state == hls.state == "live"
    assert 0.0 < rtmp.delay_s < hls.delay_s < 30.0  # HLS waits for whole segments; RTMP does not
    assert hls.delay_s > 1.0  # at least a one-second segment behind
    # the camera's own stamp, seen by the viewer: glass to glass is the program delay plus the camera's
    assert rtmp.glass_s is not None and hls.glass_s is not None
    assert rtmp.glass_s >= rtmp.delay_s and hls.glass_s >= hls.delay_s


def test_the_read_back_gets_the_stream_key_on_stdin_never_on_its_command_line(nginx_factory, monkeypatch):
    import subprocess

    from booth.devices.readback import ReadbackProcess

    started: list[list[str]] = []  # the argv each child is exec'd with (the child may end before /proc is read)
    real_popen = subprocess.Popen

    def recording_popen(args, *more, **options):  # type: ignore[no-untyped-def]
        started.append([str(a) for a in args])
        return real_popen(args, *more, **options)

    ingest = nginx_factory()
    reader = ReadbackProcess(ingest.url(key="sk_live_secret_4242"))
    with monkeypatch.context() as patched:
        patched.setattr(subprocess, "Popen", recording_popen)
        reader.start()
    try:
        assert started and "booth.devices.readback" in started[-1]
        assert not any("sk_live_secret_4242" in arg for argv in started for arg in argv)
        report = reader.read(15.0)  # nothing is published there: it says so, in words
        assert report is not None and report.kind in ("error", "ended") and report.message
    finally:
        reader.stop()
