"""No stream key, passphrase or password on the command line of any process Booth starts.

Every local user can read `ps` and /proc/<pid>/cmdline. Booth's ffmpeg children (ingest pushers,
network-source decoders) and its encoder are checked while they work for real: the RTMP ingest
records under the secret key, the SRT ingest and source only connect with the right passphrase.
The test's own senders and ingests (which do carry the secrets) are left out by PID.
"""

from __future__ import annotations

from pathlib import Path

import psutil

from booth.core.output import OutputState
from booth.devices.ffmpeg_source import FfmpegSource
from tests import senders
from tests.senders import H264, ffmpeg_sender, free_port
from tests.waiting import wait_until

KEY = "sk_live_s3cr3tKEY0987"
PASSPHRASE = "srt_pass_phrase_4242"


def command_lines(excluded: set[int]) -> dict[int, str]:
    """Every descendant of this test process, but the test's own tools: pid → its command line."""
    found = {}
    for child in psutil.Process().children(recursive=True):
        if child.pid in excluded:
            continue
        try:
            found[child.pid] = Path(f"/proc/{child.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def test_the_rtmp_key_and_the_srt_passphrase_reach_the_ingests_but_no_command_line(make_output, nginx_factory,
                                                                                   tmp_path):  # fmt: skip
    ingest = nginx_factory()
    port = free_port()
    received = tmp_path / "srt.ts"
    listener = ["-i", f"srt://127.0.0.1:{port}?mode=listener&passphrase={PASSPHRASE}", "-c", "copy", "-f", "mpegts",
                str(received)]  # fmt: skip
    with ffmpeg_sender(*listener) as srt_ingest:
        rtmp = make_output(primary=ingest.url(key=KEY), recording=None)
        srt = make_output(primary=f"srt://127.0.0.1:{port}?passphrase={PASSPHRASE}&latency=120000", recording=None)
        rtmp.start()
        srt.start()
        wait_until(lambda: rtmp.status().state is OutputState.LIVE and srt.status().state is OutputState.LIVE, 20,
                   "both ingests live")  # fmt: skip
        wait_until(lambda: received.exists() and received.stat().st_size > 50_000, 15, "SRT bytes at the ingest")
        ours = command_lines({srt_ingest.pid, ingest.proc.pid})
        rtmp.stop()
        srt.stop()
    pushers = [line for line in ours.values() if "-c copy" in line]
    assert len(pushers) == 2, ours  # both pushers were seen, working
    for line in ours.values():
        assert KEY not in line and PASSPHRASE not in line, line
    assert any(p.name.startswith(KEY) for p in ingest.recordings()), "nginx got the stream under its key"


def test_a_network_source_with_a_passphrase_decodes_and_hides_it(tmp_path):
    port = free_port()
    sender = [*senders.testsrc("320x240"), *H264, "-f", "mpegts",
              f"srt://127.0.0.1:{port}?mode=listener&passphrase={PASSPHRASE}"]  # fmt: skip
    with ffmpeg_sender(*sender) as test_sender:
        source = FfmpegSource(f"srt://127.0.0.1:{port}?mode=caller&passphrase={PASSPHRASE}", (320, 240), "phone")
        source.open()
        try:
            frame = source.read()  # bounded by the decoder's own first-picture timeout
            assert frame.shape == (240, 320, 3)
            decoder = command_lines({test_sender.pid})
            assert source.pid in decoder
            assert PASSPHRASE not in decoder[source.pid] and "srt://" not in decoder[source.pid]
        finally:
            source.close()
