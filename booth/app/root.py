"""The composition root: builds Booth's object graph from the options and the drop file.

Nothing else constructs the slices. The GUI, `booth serve`, `booth check`, the tests and the
benchmarks all come through here, so they share one config resolution, one session opening, one
drop clock and one lifecycle:

```
session log ─► sources ─► switcher ─► compositor ─► drop clock ─► disk guard ─► program out ─►
viewer read-back ─► microphone ─► program sound ─► rig health ─► shop sync ─► control API (+ /metrics)
                                                              (started in this order, stopped in reverse)
```
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field

from booth.app.control_api import ControlApi, add_control_api
from booth.app.drop_parts import DropParts, add_drop_clock, build_drop
from booth.app.lifecycle import Lifecycle
from booth.app.options import Options
from booth.app.session_records import SessionRecords
from booth.app.shop_part import ShopPart, add_shop
from booth.app.startup import recording_folder
from booth.audio.mic_feed import MicFeed
from booth.audio.microphone import MicMonitor
from booth.core.clip_presets import overlay_extent
from booth.core.clock import Clock, SystemClock
from booth.core.config import BoothConfig
from booth.core.drop import Phase
from booth.core.failover import reconnect_delay
from booth.core.honest_scarcity import HonestScarcity
from booth.core.overlay import OverlayModel
from booth.core.source_spec import SourceSpec
from booth.core.source_state import SourceStatus
from booth.devices.faults import FaultSeams
from booth.devices.health_audio import PyAudioBackend
from booth.devices.health_system import PsutilSensors
from booth.devices.imaging import load_picture
from booth.devices.ingest import FfmpegPusher
from booth.devices.open_source import open_source
from booth.devices.sources import FrameSource
from booth.drop.clock import DropClock
from booth.drop.controller import DropController, Journal
from booth.drop.session import DropSession
from booth.health.monitors import HealthMonitor
from booth.ops.metrics import MetricsSources
from booth.program_out.program_out import ProgramOut
from booth.program_out.viewer_delay import ViewerDelayMonitor
from booth.runtime.disk_guard import DiskGuard
from booth.store.paths import resolve_data_dir
from booth.video.capture import CaptureService
from booth.video.compositor import Compositor
from booth.video.switcher import Switcher

log = logging.getLogger(__name__)


@dataclass
class Booth:
    """The running object graph (no widgets): sources → switcher → compositor → program frames,
    the drop, and — once `add_rig` ran — program out, rig health and the control ports."""

    config: BoothConfig
    controller: DropController
    captures: list[CaptureService]
    switcher: Switcher
    compositor: Compositor
    drop_clock: DropClock
    lifecycle: Lifecycle
    problems: list[str] = field(default_factory=list)  # standing problems from set-up (config, slate…)
    session: DropSession | None = None
    records: SessionRecords | None = None
    disk: DiskGuard | None = None
    output: ProgramOut | None = None
    health: HealthMonitor | None = None
    mic: MicMonitor | None = None
    api: ControlApi | None = None
    drop: DropParts | None = None
    scarcity: HonestScarcity = field(default_factory=HonestScarcity)  # the overlay, honest about the viewer delay
    clock: Clock = field(default_factory=SystemClock)
    viewer_delay: ViewerDelayMonitor | None = None  # the read-back of what viewers get, when configured
    faults: FaultSeams | None = None  # a rehearsal's fault seams (drills); a live drop has none
    shop: ShopPart | None = None  # [shop]: the shop sync, sticker codes, webhooks

    @property
    def program(self):  # type: ignore[no-untyped-def]  # Feed[ProgramFrame, FrameStamp]
        return self.compositor.program

    def overlay_model(self) -> OverlayModel:
        """What the program burns: the drop as viewers will see it, D seconds from now."""
        return self.scarcity.model(self.controller.view(), self.controller.featured_sku, self.config.corner,
                                   self.clock.monotonic(), self.clock.wall())  # fmt: skip

    def viewer_time(self) -> str:
        """For the host: how late viewers see the program, and what the overlay shows against the truth."""
        view = self.scarcity.host_view()
        parts = [view.sentence()] if view is not None else []
        if self.viewer_delay is not None:
            status = self.viewer_delay.status()
            if status.glass_s is not None:
                parts.append(f"glass to glass {status.glass_s:.1f} s")
            elif status.delay_s is None:
                parts.append(f"viewer read-back {status.state}{': ' + status.message if status.message else ''}")
        return " · ".join(p for p in parts if p)

    def source_statuses(self) -> list[SourceStatus]:
        return self.switcher.statuses()

    def standing_problems(self) -> list[str]:
        """What the host must see until it is fixed: set-up problems and failing workers."""
        return [*self.problems, *self.lifecycle.problems()]

    def start(self) -> None:
        self.lifecycle.start()

    def stop(self) -> None:
        """Stop and join every part, newest first (the session log closes last)."""
        self.lifecycle.stop()


# -- the picture and the drop -----------------------------------------------------------------


def build_booth(
    config: BoothConfig,
    clock: Clock | None = None,
    journal: Journal | None = None,
    source: FrameSource | None = None,
    secondary_source: FrameSource | None = None,
    session: DropSession | None = None,
) -> Booth:
    """Sources, switcher, compositor and the drop clock. `source`/`secondary_source` replace the
    configured ones at the device seam (tests, benchmarks); `session` is the drop's session log."""
    clock = clock or SystemClock()
    lifecycle = Lifecycle()
    drop = build_drop(config, lifecycle, clock, journal, session)
    controller = drop.controller
    problems = drop.problems
    # A rehearsal gets fault seams at every place a drill reaches; a live drop never has any.
    faults = FaultSeams() if controller.spec.rehearsal else None

    def retry_delay(failures: int) -> float:
        return reconnect_delay(failures, drop_live=controller.view().phase in (Phase.LIVE, Phase.LAST_CALL))

    def capture(role: str, spec: SourceSpec, injected: FrameSource | None) -> CaptureService:
        def make() -> FrameSource:
            return open_source(spec, config.program.size, config.program.fps)

        def made() -> FrameSource:
            return faults.wrap_source(role, make()) if faults is not None else make()

        first = injected or make()
        return CaptureService(
            role, faults.wrap_source(role, first) if faults is not None else first, retry_delay=retry_delay,
            make_source=None if injected else made, delay_warn_ms=config.timing.input_delay_warn_ms,
        )

    primary = capture("primary", config.primary, source)
    secondary = None
    if config.secondary is not None or secondary_source is not None:
        secondary = capture("secondary", config.secondary or config.primary, secondary_source)
    captures = [primary] + ([secondary] if secondary else [])
    switcher = Switcher(primary, secondary, config.failover)

    slate_picture = None
    if config.slate_image is not None:
        try:
            slate_picture = load_picture(str(config.slate_image))
        except ValueError as exc:
            problems.append(f"Slate image: {exc}; showing the slate text instead.")
    booth: Booth
    compositor = Compositor(
        config.program, switcher.feeds(), lambda: switcher.on_program, lambda: booth.overlay_model(),
        slate_text=config.slate_text, slate_picture=slate_picture, timecode=config.timing.timecode,
        mark="REHEARSAL" if controller.spec.rehearsal else "",
        clean=config.clips.enabled and config.clips.clean,
    )  # fmt: skip
    switcher.measure_cuts(compositor.program)
    switcher.measure_program_delay(compositor.sender_delay_ms)
    timing = config.timing
    scarcity = HonestScarcity(timing.honest_scarcity, timing.viewer_delay_s, config.drop.last_call_seconds)
    controller.on_applied(scarcity.on_event)
    for capture_service in captures:
        lifecycle.add(f"{capture_service.role} source", capture_service.start, capture_service.stop)
    lifecycle.add("switcher", switcher.start, switcher.stop, lambda: switcher.problems)
    lifecycle.add("compositor", compositor.start, compositor.stop, lambda: _one(compositor.problem))
    add_drop_clock(drop)
    booth = Booth(config, controller, captures, switcher, compositor, drop.drop_clock, lifecycle, problems, session,
                  drop=drop, scarcity=scarcity, clock=clock, faults=faults)  # fmt: skip
    return booth


def _one(problem: str | None) -> list[str]:
    return [problem] if problem else []


# -- the rig: output, health, sound, control ports ----------------------------------------------


def add_rig(booth: Booth, options: Options) -> Booth:
    """Program out, the disk guard, rig health, the microphone and the control ports."""
    config = booth.config
    controller = booth.controller
    session = booth.session
    lifecycle = booth.lifecycle
    folder = recording_folder(options, config)
    data_dir = resolve_data_dir(options.data_dir)
    faults = booth.faults
    per_s = config.output.recording_bytes_per_s(booth.compositor.clean is not None)  # the clean recording too
    disk = DiskGuard(folder or data_dir, config.recording, per_s, log_folder=data_dir,
                     disk_usage=faults.wrap_disk_usage(shutil.disk_usage) if faults is not None else shutil.disk_usage)
    booth.disk = disk
    lifecycle.add("disk guard", disk.start, disk.stop)
    if session is not None:
        session.log.set_free_bytes(disk.log_free_bytes)

    output = ProgramOut(
        config.output, config.program, booth.compositor.program,
        recording=config.recording, recording_folder=folder,
        clips_folder=(folder or data_dir / "recordings") / "clips", disk=disk.status,
        pusher_factory=faults.pusher if faults is not None else FfmpegPusher,
        clean_feed=booth.compositor.clean,
        overlay_box=lambda: overlay_extent(*config.program.size, [booth.overlay_model()]),
    )  # fmt: skip
    booth.output = output
    output.watch_drop(controller)  # first sale, low-stock levels and sold out become moments to clip
    booth.switcher.on_switch(lambda switch: output.mark(f"camera switch: {switch.reason}"))
    lifecycle.add("program out", output.start, output.stop, lambda: output.problems)

    if config.timing.readback:  # what viewers get, read back: the viewer delay the overlay allows for
        compositor = booth.compositor
        viewer_delay = ViewerDelayMonitor(config.timing.readback, config.timing.readback_label,
                                          lambda: compositor.program_clock)  # fmt: skip
        via = "HLS" if ".m3u8" in config.timing.readback else "the read-back"
        viewer_delay.on_measure(lambda delay_s: booth.scarcity.measured(delay_s, booth.clock.monotonic(), via))
        booth.viewer_delay = viewer_delay
        lifecycle.add("viewer read-back", viewer_delay.start, viewer_delay.stop, lambda: _one(viewer_delay.problem))

    mic = None
    if config.health.mic_wanted:  # the chosen microphone is the program's sound; silence without one
        mic = MicMonitor(PyAudioBackend(), config.health.mic)
        feed = MicFeed(output.push_audio)
        mic.add_block_listener(feed.on_block)
        lifecycle.add("microphone", mic.start, mic.stop)
        lifecycle.add("program sound", feed.start, feed.stop)
    booth.mic = mic

    def drop_need_s() -> float | None:
        view = controller.view()
        return view.remaining_s if view.phase in (Phase.LIVE, Phase.LAST_CALL) else None

    health = HealthMonitor.from_config(
        config.health, drop_need_s=drop_need_s, disk=disk.status,
        sensors=faults.wrap_sensors(PsutilSensors()) if faults is not None else None,
        output_bitrate_bps=lambda: output.status().bitrate_kbps * 1000.0 or config.output.bitrate_kbps * 1000.0,
        mic=mic.status if mic is not None else None,
    )  # fmt: skip
    booth.health = health
    lifecycle.add("rig health", health.start, health.stop, lambda: _one(health.problem))

    if session is not None:
        records = SessionRecords(session.log, booth.compositor.stats)
        booth.records = records
        booth.switcher.on_cut(records.program_cut)
        health.add_alert_listener(records.alert)
        health.add_snapshot_listener(records.health_sample)
        output.on_ingest_switch(records.ingest_switch)
        output.on_moment(records.moment)
        output.exports.on_update(records.exported)
        lifecycle.add("recording record", lambda: records.recording(output.recordings), lambda: None)
        booth.scarcity.on_decision(records.overlay_decision)
        for capture_service in booth.captures:
            capture_service.on_delay_alert(records.input_delay_alert)

    booth.shop = add_shop(lifecycle, config, options, controller, session, mark=output.mark, faults=booth.faults)

    metrics = MetricsSources(
        health=health.latest,
        drop=controller.view,
        source_states=lambda: {s.role: s.state.value for s in booth.switcher.statuses()},
        active_source=lambda: booth.switcher.on_program,
        failover_switches=lambda: booth.switcher.switch_count,  # a counter, not a bounded history's length
        outputs=lambda: _output_metrics(output),
    )
    booth.api = add_control_api(lifecycle, booth.problems, options, controller, session, metrics,
                                sources=booth.switcher, output=OutputWithRecords(output, booth.records),
                                corner=str(config.corner), shop=booth.shop)  # fmt: skip
    return booth


@dataclass
class OutputWithRecords:
    """Program out as the control API drives it: every clip it saves is in the session log too."""

    output: ProgramOut
    records: SessionRecords | None

    def clip(self, seconds: float | None = None):  # type: ignore[no-untyped-def]  # Future[ClipResult]
        future = self.output.clip(seconds)
        return self.records.clip(future) if self.records is not None else future

    def mark(self, reason: str):  # type: ignore[no-untyped-def]  # Moment
        return self.output.mark(reason)

    def status(self):  # type: ignore[no-untyped-def]  # OutputStatus
        return self.output.status()


def _output_metrics(output: ProgramOut) -> dict[str, tuple[bool, float]]:
    status = output.status()
    streaming = status.state.value in ("live", "backup")
    return {"stream": (streaming, status.bitrate_kbps * 1000.0)}
