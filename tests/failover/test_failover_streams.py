"""Failover proved on real streams: a sender process on 127.0.0.1 killed, stopped, frozen, flapped,
fed garbage and resized, with the program frames and the switch log as the evidence.

No timing assertions here (the figures are `booth bench failover`): every wait is a bounded
wait for a condition, and every assertion is about what was shown and said.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import pytest

from booth.bench.failover import FailoverRig
from booth.core.config import ConfigError, parse_config
from booth.core.failover import PRIMARY, SECONDARY, SLATE, FailoverSettings, Lock
from booth.core.source_state import SourceState
from tests import senders
from tests.failover.conftest import DWELL_S, PROGRAM, latest_frame, overlay_share
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

START_S = 20_000  # ms: sender start + decoder probe + return dwell, on a busy 2-core box
CUT_MS = 10_000


def wait_steady_primary(qtbot, rig: FailoverRig) -> None:
    """Started, and back on the primary (the demo secondary is live first, so the booth starts on it)."""
    wait_until(lambda: rig.on_program(PRIMARY) and rig.primary_steady(0.5), timeout=START_S)


def cut_after(rig: FailoverRig, t: float, to: str = SECONDARY):
    return next((s for s in rig.cuts.after(t) if s.to_source == to), None)


def state(rig: FailoverRig, role: str = PRIMARY) -> SourceState:
    return next(s.state for s in rig.booth.source_statuses() if s.role == role)


def message(rig: FailoverRig, role: str = PRIMARY) -> str:
    return next(s.message for s in rig.booth.source_statuses() if s.role == role)


def primary_frames(rig: FailoverRig) -> int:
    return rig.booth.captures[0].status().frames


def now() -> float:
    return time.monotonic()


def test_killed_sender_cuts_to_the_secondary_with_the_overlay_on(qtbot, make_rig):
    rig = make_rig()
    wait_steady_primary(qtbot, rig)
    t0 = now()
    rig.sender.kill()
    wait_until(lambda: cut_after(rig, t0) is not None and rig.on_program(SECONDARY), timeout=CUT_MS)
    cut = cut_after(rig, t0)
    assert cut.reason.startswith("primary down:") or cut.reason.startswith("primary stalled:"), cut.reason
    frame = latest_frame(rig.booth)
    assert frame.source == SECONDARY and frame.pixels.shape == (PROGRAM[1], PROGRAM[0], 4)
    assert overlay_share(rig.booth, frame) > 0.9
    # the primary is reported as down/reconnecting with a reason in words, and retried
    wait_until(lambda: state(rig) in (SourceState.DOWN, SourceState.RECONNECTING), timeout=CUT_MS)
    assert message(rig)
    wait_until(lambda: rig.booth.captures[0].status().reconnects >= 2, timeout=CUT_MS)
    assert rig.on_program(SECONDARY)  # nothing to go back to


def test_stalled_sender_with_its_connection_open_cuts_and_comes_back_after_the_dwell(qtbot, make_rig):
    rig = make_rig(dwell_s=2.0)
    wait_steady_primary(qtbot, rig)
    t0 = now()
    rig.sender.pause()  # SIGSTOP: the socket stays open, nothing more arrives
    wait_until(lambda: cut_after(rig, t0) is not None, timeout=CUT_MS)
    cut = cut_after(rig, t0)
    assert cut.reason.startswith("primary stalled: no frame for"), cut.reason
    assert overlay_share(rig.booth, latest_frame(rig.booth)) > 0.9
    t_resume = now()
    rig.sender.resume()
    wait_until(lambda: cut_after(rig, t_resume, to=PRIMARY) is not None, timeout=START_S)
    back = cut_after(rig, t_resume, to=PRIMARY)
    assert "healthy for" in back.reason
    # no new picture from the recovering primary reached the program before the return cut, although it
    # was live before that (a held copy of the stalled picture, composed as the cut landed, is not one)
    shown = rig.program.since(t_resume)
    assert not [f for f in shown if f.at < back.at - 0.001 and f.source == PRIMARY and not f.repeat]
    assert any(f.source == SECONDARY for f in shown if f.at < back.at)
    live_again = next(s for s in rig.booth.switcher.statuses() if s.role == PRIMARY)
    assert live_again.state is SourceState.LIVE


def test_frozen_picture_is_judged_frozen_and_cut(qtbot, make_rig):
    rig = make_rig()
    wait_steady_primary(qtbot, rig)
    t0 = now()
    rig.sender.command("freeze")  # frames keep coming, the picture does not change
    wait_until(lambda: cut_after(rig, t0) is not None, timeout=CUT_MS)
    assert cut_after(rig, t0).reason.startswith("primary frozen: picture unchanged")
    assert state(rig) is SourceState.FROZEN
    assert rig.booth.captures[0].status().fps > 10  # it was delivering all along
    rig.sender.command("unfreeze")
    wait_until(lambda: state(rig) is SourceState.LIVE, timeout=CUT_MS)
    wait_until(lambda: rig.on_program(PRIMARY), timeout=START_S)


def test_trickling_feed_is_cut_after_its_window(qtbot, make_rig):
    rig = make_rig()
    wait_steady_primary(qtbot, rig)
    t0 = now()
    rig.sender.command("rate 10")  # a third of the nominal 30 fps: frames still arrive every 100 ms
    wait_until(lambda: cut_after(rig, t0) is not None, timeout=CUT_MS)
    assert cut_after(rig, t0).reason.startswith("primary stalled: trickling at"), cut_after(rig, t0).reason


@pytest.mark.parametrize(
    ("crf", "size"), [(None, PROGRAM), (23, (1280, 720))], ids=["phone-bitrate", "x264-crf23-720p"]
)
def test_still_scene_with_sensor_noise_is_not_frozen(qtbot, make_rig, crf, size):
    """A camera on a still scene: sensor noise survives a phone's bitrate encoder well, and x264 at
    its default constant quality (few bits for a still picture) only faintly, yet never as zero."""
    rig = make_rig(crf=crf, size=size)
    wait_steady_primary(qtbot, rig)
    rig.sender.command("still-noise")
    t0 = now()
    start = primary_frames(rig)
    window_frames = 3 * rig.booth.switcher.settings.frozen_window_s * 30
    # three frozen-windows' worth of still frames, judged all along by the switcher thread
    wait_until(lambda: primary_frames(rig) >= start + window_frames, timeout=CUT_MS)
    # judged on the picture only: a CPU-starved machine may miss a few frame intervals (a stall, tested
    # on its own), but no still picture with noise may ever be called frozen
    assert state(rig) is not SourceState.FROZEN
    assert [c.reason for c in rig.cuts.after(t0) if "unchanged" in c.reason] == []
    assert rig.cuts.after(t0) or rig.on_program(PRIMARY)


def test_flapping_every_two_seconds_cuts_once_and_does_not_come_back_until_it_settles(qtbot, make_rig):
    rig = make_rig(dwell_s=3.0)
    wait_steady_primary(qtbot, rig)
    t0 = now()
    for _ in range(3):  # about 1 s stalled, 1 s live, three times
        rig.sender.pause()
        wait_until(lambda: state(rig) is SourceState.STALLED, timeout=CUT_MS)
        wait_until(lambda: (rig.booth.captures[0].status().last_frame_age_s or 0) >= 0.8, timeout=CUT_MS)
        rig.sender.resume()
        wait_until(lambda: state(rig) is SourceState.LIVE, timeout=CUT_MS)
        start = primary_frames(rig)
        wait_until(lambda start=start: primary_frames(rig) >= start + 30, timeout=CUT_MS)  # ~1 s live
    flapping = rig.cuts.after(t0)
    assert [s.to_source for s in flapping] == [SECONDARY], [s.reason for s in flapping]
    # once it stays healthy for the dwell, exactly one return
    wait_until(lambda: rig.on_program(PRIMARY), timeout=START_S)
    assert [s.to_source for s in rig.cuts.after(t0)] == [SECONDARY, PRIMARY]


def test_garbage_bytes_on_the_stream_give_a_clear_state_and_no_crash(qtbot, make_rig, caplog):
    rig = make_rig()
    wait_steady_primary(qtbot, rig)
    t0 = now()
    with caplog.at_level(logging.WARNING):
        rig.sender.command("garbage 1.5")  # random bytes on the same TCP connection instead of video
        wait_until(lambda: cut_after(rig, t0) is not None, timeout=CUT_MS)
        assert state(rig) in (SourceState.STALLED, SourceState.DOWN, SourceState.RECONNECTING)
        assert message(rig)  # said in words
        assert overlay_share(rig.booth, latest_frame(rig.booth)) > 0.9
        # video resumes on a keyframe (or the booth reconnects): live again, and back after the dwell
        wait_until(lambda: rig.on_program(PRIMARY), timeout=START_S)
    assert not [r for r in caplog.records if "crashed" in r.getMessage() or r.exc_info]
    alive = {t.name for t in threading.enumerate()}
    assert {"booth-switcher", "booth-compositor", "booth-capture-primary"} <= alive


def test_resolution_change_mid_stream_stays_live(qtbot, make_rig):
    rig = make_rig()
    wait_steady_primary(qtbot, rig)
    t0 = now()
    rig.sender.command("resize 320x240")  # 16:9 → 4:3: the program pillarboxes it

    def pillarboxed() -> bool:
        frame = latest_frame(rig.booth)
        return frame.source == PRIMARY and not frame.repeat and frame.pixels[60:120, :15, :3].max() < 20

    wait_until(pillarboxed, timeout=CUT_MS)
    start = primary_frames(rig)
    wait_until(lambda: primary_frames(rig) >= start + 30, timeout=CUT_MS)
    assert state(rig) is SourceState.LIVE
    assert rig.cuts.after(t0) == []
    assert latest_frame(rig.booth).pixels.shape == (PROGRAM[1], PROGRAM[0], 4)


def test_recovery_returns_only_after_the_dwell(qtbot, make_rig):
    rig = make_rig(dwell_s=2.0)
    wait_steady_primary(qtbot, rig)
    t0 = now()
    rig.sender.kill()
    wait_until(lambda: cut_after(rig, t0) is not None, timeout=CUT_MS)
    rig.sender.start()  # a new sender on the same port: the booth reconnects within a second
    wait_until(lambda: state(rig) is SourceState.LIVE, timeout=START_S)
    live_seen_at = now()
    wait_until(lambda: cut_after(rig, t0, to=PRIMARY) is not None, timeout=START_S)
    back = cut_after(rig, t0, to=PRIMARY)
    assert back.reason == "primary healthy for 2 s: back to the primary"
    assert back.at >= live_seen_at  # the policy's own clock says it waited out the dwell after going live
    assert all(f.source != PRIMARY for f in rig.program.since(t0 + 0.5) if f.at < back.at - 0.001)


def test_host_lock_is_respected(qtbot, make_rig):
    rig = make_rig()
    wait_steady_primary(qtbot, rig)
    switcher = rig.booth.switcher
    switcher.set_lock(Lock.SECONDARY)
    wait_until(lambda: rig.on_program(SECONDARY), timeout=CUT_MS)
    start = primary_frames(rig)
    # a healthy primary for well over the dwell: automation must not take it back
    wait_until(lambda: primary_frames(rig) >= start + 2.5 * DWELL_S * 30, timeout=CUT_MS)
    assert rig.on_program(SECONDARY) and switcher.on_program == SECONDARY
    switcher.set_lock(Lock.PRIMARY)
    wait_until(lambda: rig.on_program(PRIMARY), timeout=CUT_MS)
    t0 = now()
    rig.sender.command("freeze")
    wait_until(lambda: state(rig) is SourceState.FROZEN, timeout=CUT_MS)
    # forced is the host's call: no cut to the other camera, but no frozen picture either
    wait_until(lambda: rig.on_program(SLATE), timeout=CUT_MS)
    slate = cut_after(rig, t0, to=SLATE)
    assert slate is not None and slate.automatic and "frozen" in slate.reason  # the failure's cut, under the lock
    assert cut_after(rig, t0) is None
    assert overlay_share(rig.booth, latest_frame(rig.booth)) > 0.9  # the overlay stays on the slate
    t1 = now()
    switcher.set_lock(Lock.AUTO)
    wait_until(lambda: rig.on_program(SECONDARY), timeout=CUT_MS)
    assert not cut_after(rig, t1).automatic  # the host handed back to automation: their cut


def test_unreachable_primary_at_start_shows_the_secondary_and_says_why(qtbot, qapp):
    from booth.app.root import build_booth
    from booth.bench.failover import rig_config

    port = senders.free_port()
    booth = build_booth(rig_config(f"tcp://127.0.0.1:{port}", FailoverSettings(dwell_s=DWELL_S), PROGRAM))
    booth.start()
    try:
        wait_until(lambda: booth.program.seq > 5, timeout=CUT_MS)
        wait_until(lambda: latest_frame(booth).source == SECONDARY, timeout=CUT_MS)
        wait_until(lambda: booth.switcher.statuses()[0].state is SourceState.DOWN, timeout=CUT_MS)
        primary = booth.switcher.statuses()[0]
        assert "refused" in primary.message.lower()
        assert overlay_share(booth, latest_frame(booth)) > 0.9
    finally:
        booth.stop()


def test_both_sources_down_at_start_show_the_slate_with_the_overlay(qtbot, qapp):
    from booth.app.root import build_booth
    from booth.bench.failover import rig_config
    from booth.core.source_spec import parse_source_spec

    config = rig_config(f"tcp://127.0.0.1:{senders.free_port()}", FailoverSettings(dwell_s=DWELL_S), PROGRAM)
    config = dataclasses.replace(config, secondary=parse_source_spec(f"tcp://127.0.0.1:{senders.free_port()}"))
    booth = build_booth(config)
    booth.start()
    try:
        wait_until(lambda: booth.program.seq > 5, timeout=CUT_MS)
        wait_until(lambda: all(s.state is SourceState.DOWN for s in booth.switcher.statuses()), timeout=CUT_MS)
        frame = latest_frame(booth)
        assert frame.source == SLATE
        assert booth.switcher.on_program == SLATE
        assert overlay_share(booth, frame) > 0.9
    finally:
        booth.stop()


@pytest.mark.parametrize("spec", ["tcp://127.0.0.1:9000", "demo:"])
def test_primary_equal_to_secondary_is_rejected_by_the_config(spec):
    raw = {"sku": [{"id": "tee", "name": "TEE", "stock": 5}], "sources": {"primary": spec, "secondary": spec}}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "drop.toml")
    assert "sources.secondary" in str(caught.value) and "same source" in str(caught.value)


def test_srt_primary_killed_cuts_to_the_secondary(qtbot, qapp):
    """SRT (the phone-app protocol) through the system ffmpeg: caller to an ffmpeg listener, killed."""
    from booth.app.root import build_booth
    from booth.bench.failover import ProgramRecorder, SwitchLog, rig_config

    port = senders.free_port(senders.socket.SOCK_DGRAM)
    with senders.ffmpeg_sender(*senders.srt_listener(port, "320x180")) as proc:
        config = rig_config(f"srt://127.0.0.1:{port}?mode=caller", FailoverSettings(dwell_s=DWELL_S), PROGRAM)
        booth = build_booth(config)
        program, cuts = ProgramRecorder(booth.program), SwitchLog()
        booth.switcher.on_switch(cuts)
        booth.start()
        program.start()
        try:
            wait_until(lambda: program.first_after(now() - 0.2, PRIMARY) is not None, timeout=START_S)
            t0 = now()
            proc.kill()
            wait_until(lambda: any(s.to_source == SECONDARY for s in cuts.after(t0)), timeout=CUT_MS)
            wait_until(lambda: program.first_after(t0, SECONDARY) is not None, timeout=CUT_MS)
        finally:
            program.stop()
            booth.stop()
