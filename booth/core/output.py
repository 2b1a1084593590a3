"""Program out, as pure domain: the `[output]` config, ingest URLs, the ingest failover policy,
commerce moments and the immutable status the UI shows.

```toml
[output]
primary = "rtmp://a.rtmp.youtube.com/live2/KEY"      # rtmp://, rtmps:// or srt://
backup = "rtmp://b.rtmp.youtube.com/live2?backup=1/KEY"   # optional
bitrate_kbps = 4500
keyframe_seconds = 2
preset = "superfast"            # x264 preset: ultrafast … medium
replay_seconds = 90             # encoded program kept in memory
clip_seconds = 30               # the clip key saves this much (15–60)
```

Nothing here reads a clock: times are passed in, so the policy is tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from booth.core.config_table import Table
from booth.core.drop import DropView, StockLevel
from booth.core.redact import mask, redact_text, redact_url

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")
INGEST_SCHEMES = ("rtmp", "rtmps", "srt")
# the clean feed's encode (program out; README "The clean picture"): cheap, every clean clip re-encodes it
CLEAN_KBPS = 3000
CLEAN_AUDIO_KBPS = 96


class IngestUrlError(ValueError):
    pass


@dataclass(frozen=True)
class IngestTarget:
    """One place to push the program to. `url` holds the stream key: show `label`, never `url`."""

    name: str  # "primary" | "backup"
    url: str = field(repr=False)

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower()

    @property
    def label(self) -> str:
        return redact_url(self.url)


def _shown(url: str) -> str:
    """redact_url, plus a lone RTMP path part (a key given without its application)."""
    shown = redact_url(url)
    try:
        parts = urlsplit(shown)
    except ValueError:
        return mask(url)
    if parts.scheme.lower() in ("rtmp", "rtmps") and parts.path.count("/") == 1 and len(parts.path) > 1:
        return urlunsplit(parts._replace(path="/" + mask(parts.path[1:])))
    return shown


def parse_ingest_url(text: str, name: str = "primary") -> IngestTarget:
    """Check an ingest URL before any process touches it; the error is a sentence for the host."""
    url = text.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise IngestUrlError(f"the {name} ingest URL is malformed ({exc}): {_shown(url)}") from None
    scheme = parts.scheme.lower()
    if scheme not in INGEST_SCHEMES:
        shown = f"{scheme}://" if scheme else "no scheme"
        raise IngestUrlError(
            f"the {name} ingest URL must start with rtmp://, rtmps:// or srt:// ({shown} given): {_shown(url)}"
        )
    if not parts.hostname:
        raise IngestUrlError(f"the {name} ingest URL has no host name: {_shown(url)}")
    if any(c.isspace() for c in url):
        raise IngestUrlError(f"the {name} ingest URL contains spaces: {_shown(url)}")
    if scheme == "srt" and port is None:
        raise IngestUrlError(f"an srt:// ingest needs a port, e.g. srt://host:9000: {_shown(url)}")
    if scheme in ("rtmp", "rtmps") and parts.path.strip("/").count("/") < 1:
        raise IngestUrlError(
            f"the {name} RTMP ingest URL needs an application and a stream key, "
            f"e.g. rtmp://host/live/KEY: {_shown(url)}"
        )
    return IngestTarget(name, url)


# -- config -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutputConfig:
    primary: str = field(default="", repr=False)  # "" = no streaming (record and clip only)
    backup: str = field(default="", repr=False)
    bitrate_kbps: int = 4500
    audio_kbps: int = 128
    keyframe_s: float = 2.0
    preset: str = "superfast"
    replay_s: float = 90.0
    clip_s: float = 30.0

    @property
    def stream_bytes_per_s(self) -> float:
        """What the encoded program (video + audio) costs per second, on the wire and on disk."""
        return (self.bitrate_kbps + self.audio_kbps) * 125.0

    def recording_bytes_per_s(self, clean: bool) -> float:
        """What recording costs on disk per second: the program, plus the clean recording when it runs."""
        return self.stream_bytes_per_s + ((CLEAN_KBPS + CLEAN_AUDIO_KBPS) * 125.0 if clean else 0.0)

    def targets(self) -> tuple[IngestTarget, ...]:
        found = []
        if self.primary:
            found.append(parse_ingest_url(self.primary, "primary"))
        if self.backup:
            found.append(parse_ingest_url(self.backup, "backup"))
        return tuple(found)


def parse_output(table: Table) -> OutputConfig:
    """Read `[output]`; every problem names the key (never the stream key itself)."""
    urls = {}
    for key in ("primary", "backup"):
        text = table.string(key, "")
        if text:
            try:
                parse_ingest_url(text, key)
            except IngestUrlError as exc:
                table.problem(key, str(exc))
                text = ""
        urls[key] = text
    if urls["backup"] and not urls["primary"]:
        table.problem("backup", "a backup ingest needs a primary one")
    bitrate = table.integer("bitrate_kbps", 4500, minimum=300, maximum=50_000)
    audio = table.integer("audio_kbps", 128, minimum=32, maximum=512)
    keyframe = table.number("keyframe_seconds", 2.0, 0.5, 10.0)
    preset = table.string("preset", "superfast")
    if preset not in X264_PRESETS:
        table.problem("preset", f"must be one of {', '.join(X264_PRESETS)}, got {preset!r}")
        preset = "superfast"
    replay = table.number("replay_seconds", 90.0, 20.0, 300.0)
    clip = table.number("clip_seconds", 30.0, 15.0, 60.0)
    if clip > replay:
        table.problem("clip_seconds", f"must not exceed replay_seconds ({replay:g}), got {clip:g}")
        clip = replay
    table.finish()
    return OutputConfig(urls["primary"], urls["backup"], bitrate, audio, keyframe, preset, replay, clip)


# -- failures in words ------------------------------------------------------------------------

CLOSED = "closed the connection"
_FAILURE_PATTERNS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("connection refused",), "refused the connection (nothing listening on that port)"),
    (
        ("401", "403", "unauthorized", "forbidden", "badname", "rejected", "authentication", "bad passphrase",
         "access denied", "not authorized", "incorrect passphrase", "wrong passphrase"),
        "rejected the stream (check the stream key / passphrase)",
    ),
    (("name or service not known", "failed to resolve", "temporary failure in name resolution",
      "no address associated"), "host name not found (check the URL and the network)"),
    (("network is unreachable", "no route to host"), "network unreachable (check the network)"),
    (("timed out", "timeout", "connection timed out"), "did not answer in time"),
    (("connection to srt://",), "no SRT listener answered (check host, port and that the ingest is up)"),
    (("connection reset", "broken pipe", "end of file", "i/o error", "input/output error"), CLOSED),
    (("protocol not found",), "protocol not supported by this ffmpeg"),
)  # fmt: skip


def describe_failure(stderr_tail: str, exit_code: int | None, was_live_s: float = 0.0) -> str:
    """An ffmpeg pusher's last words → a short reason (URLs in it are redacted).

    `was_live_s`: how long bytes were moving before it ended. An ingest that hangs up at once
    is, on the platforms we know, refusing the stream key (nginx-rtmp `deny publish`,
    `on_publish` 403 and YouTube all just close the connection).
    """
    text = stderr_tail.lower()
    for needles, reason in _FAILURE_PATTERNS:
        if any(n in text for n in needles):
            if reason == CLOSED and was_live_s < 1.0:
                return "closed the connection as soon as we started (wrong or expired stream key?)"
            return reason
    last = redact_text(stderr_tail.strip().splitlines()[-1]) if stderr_tail.strip() else ""
    code = f"exit code {exit_code}" if exit_code is not None else "no exit code"
    return f"stopped ({code}{': ' + last[:120] if last else ''})"


# -- the ingest policy ------------------------------------------------------------------------


class IngestHealth(StrEnum):
    CONNECTING = "connecting"  # started, no bytes moving yet
    LIVE = "live"  # bytes are moving
    FAILED = "failed"  # exited or stalled: the supervisor kills it


@dataclass(frozen=True)
class PushReport:
    """What a pusher shows from outside: when it started, when bytes last moved, whether it ended."""

    started_at: float
    progressed_at: float | None  # last time its output byte count grew; None = never
    exited: bool
    reason: str = ""  # why it ended, in words


@dataclass(frozen=True)
class PolicyTimes:
    connect_timeout_s: float = 6.0  # no bytes moving this long after start → failed (accept-then-stall)
    # Bytes stopped moving this long while fed → failed. ffmpeg reports its byte count 4× a second and the
    # program feeds it every frame, so 1 s is four silent reports: viewers are already losing the stream,
    # and the backup then carries it within the 2 s target (measured by the lose-ingest drill).
    stall_s: float = 1.0
    # Make before break: the primary silent this long while fed starts the backup alongside (not yet carrying
    # the stream), so when the primary is judged stalled the backup is already connected — ffmpeg's start and the
    # RTMP handshake take ≈ 1 s on a busy machine, which after the 1 s stall judgement would miss the 2 s target.
    # A primary taking data again stops the warmed backup, which then rests `warm_rest_s` before it is warmed
    # again (a busy machine's late progress reports must not start an ffmpeg every second). 0: no warming.
    warm_s: float = 0.5
    warm_rest_s: float = 5.0
    retry_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 10.0)  # reconnect backoff, capped
    stable_s: float = 10.0  # the primary must be live this long before we go back to it


def judge(report: PushReport, now: float, times: PolicyTimes) -> IngestHealth:
    if report.exited:
        return IngestHealth.FAILED
    if report.progressed_at is None:
        if now - report.started_at > times.connect_timeout_s:
            return IngestHealth.FAILED
        return IngestHealth.CONNECTING
    if now - report.progressed_at > times.stall_s:
        return IngestHealth.FAILED
    return IngestHealth.LIVE


def stall_reason(report: PushReport, times: PolicyTimes) -> str:
    if report.exited:
        return report.reason or "stopped"
    if report.progressed_at is None:
        return f"accepted the connection but sent nothing on for {times.connect_timeout_s:g} s (stalled)"
    return f"stopped taking data for {times.stall_s:g} s (stalled)"


@dataclass(frozen=True)
class Action:
    kind: str  # "start" | "stop"
    target: str  # "primary" | "backup"
    reason: str = ""


@dataclass
class _Ingest:
    running: bool = False
    attempts: int = 0
    next_try: float = 0.0
    live_since: float | None = None
    last_error: str = ""
    warming: bool = False  # started alongside because the active primary went quiet, not carrying the stream
    rest_until: float = 0.0  # not warmed again before this (a failover never waits for it)


class IngestPolicy:
    """Which ingest carries the program, decided from pusher reports.

    - Start on the primary. When the active ingest fails, switch to the other one at once
      (the backup when the primary fails) and keep retrying the failed one with backoff.
    - While on the backup the primary is retried *alongside* (platforms accept both at
      once); once it has been live for `stable_s` it becomes active again and the backup stops.
    - Without a backup the primary is retried with backoff and the state is "reconnecting".
    The supervisor calls `step(now, reports)` ~10×/s and executes the returned actions.
    """

    def __init__(self, has_backup: bool, times: PolicyTimes | None = None) -> None:
        self.times = times or PolicyTimes()
        self.has_backup = has_backup
        self.active = "primary"
        self.switches = 0
        self._ingests = {"primary": _Ingest()}
        if has_backup:
            self._ingests["backup"] = _Ingest()
        self.last_switch_reason = ""

    def _backoff(self, ingest: _Ingest) -> float:
        retry = self.times.retry_s
        return retry[min(ingest.attempts, len(retry) - 1)]

    def step(self, now: float, reports: dict[str, PushReport]) -> list[Action]:
        actions: list[Action] = []
        for name, ingest in self._ingests.items():
            report = reports.get(name)
            if not ingest.running or report is None:
                continue
            health = judge(report, now, self.times)
            if health is IngestHealth.FAILED:
                ingest.running = False
                ingest.live_since = None
                ingest.last_error = stall_reason(report, self.times)
                ingest.next_try = now + self._backoff(ingest)
                ingest.attempts += 1
                actions.append(Action("stop", name, ingest.last_error))
            elif health is IngestHealth.LIVE:
                if ingest.live_since is None:
                    ingest.live_since = now
                if now - ingest.live_since >= self.times.stable_s:
                    ingest.attempts = 0
        # the active one died: move to the other one if it is running or due sooner
        active = self._ingests[self.active]
        if not active.running and active.attempts > 0 and self.has_backup:
            other_name = "backup" if self.active == "primary" else "primary"
            other = self._ingests[other_name]
            if other.running or other.next_try <= active.next_try:
                self.switches += 1
                self.last_switch_reason = f"{self.active} ingest {active.last_error}"
                self.active = other_name
        # go back to the primary once it has been stable
        primary = self._ingests["primary"]
        if (
            self.active == "backup"
            and primary.running
            and primary.live_since is not None
            and now - primary.live_since >= self.times.stable_s
        ):
            self.active = "primary"
            self.switches += 1
            self.last_switch_reason = f"primary ingest live for {self.times.stable_s:g} s again"
            backup = self._ingests["backup"]
            if backup.running:
                backup.running = False
                backup.live_since = None
                actions.append(Action("stop", "backup", "the primary ingest is back"))
        actions += self._warm(now, reports.get("primary"))
        # run the active one, and retry the primary alongside while on the backup
        wanted = [self.active] + (["primary"] if self.active == "backup" else [])
        for name in wanted:
            ingest = self._ingests[name]
            if not ingest.running and ingest.next_try <= now:
                ingest.running = True
                ingest.live_since = None
                actions.append(Action("start", name))
        return actions

    def _warm(self, now: float, report: PushReport | None) -> list[Action]:
        """While the primary carries the stream: warm the backup when the primary goes quiet, cool it when
        the primary takes data again."""
        backup = self._ingests.get("backup")
        primary = self._ingests["primary"]
        if backup is None or self.times.warm_s <= 0:
            return []
        if self.active != "primary":
            backup.warming = False
            return []
        quiet = report is not None and report.progressed_at is not None and primary.running and not report.exited \
            and now - report.progressed_at >= self.times.warm_s  # fmt: skip
        if quiet and not backup.running and backup.next_try <= now and backup.rest_until <= now:
            backup.running, backup.warming, backup.live_since = True, True, None
            return [Action("start", "backup", f"warming: the primary sent nothing for {self.times.warm_s:g} s")]
        if not quiet and backup.running and backup.warming and primary.running:
            backup.running, backup.warming, backup.live_since = False, False, None
            backup.rest_until = now + self.times.warm_rest_s
            return [Action("stop", "backup", "the primary ingest is taking data again (the warmed backup stops)")]
        return []

    def is_live(self, name: str, now: float, report: PushReport | None) -> bool:
        ingest = self._ingests.get(name)
        return bool(ingest and ingest.running and report and judge(report, now, self.times) is IngestHealth.LIVE)

    def last_error(self, name: str) -> str:
        ingest = self._ingests.get(name)
        return ingest.last_error if ingest else ""

    def next_try_in(self, name: str, now: float) -> float | None:
        ingest = self._ingests.get(name)
        if ingest is None or ingest.running:
            return None
        return max(0.0, ingest.next_try - now)


# -- commerce moments -------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """A point in the program worth a clip: `stream_s` is seconds since the output started."""

    index: int
    reason: str
    stream_s: float
    at_wall: float


class MomentDetector:
    """Turns drop views (after each applied event) into moment reasons: first sale, each
    low-stock threshold crossed on the way down, sold out."""

    def __init__(self) -> None:
        self._sold_any = False
        self._levels: dict[str, StockLevel] = {}
        self._rank = {StockLevel.PLENTY: 0, StockLevel.LOW: 1, StockLevel.CRITICAL: 2, StockLevel.SOLD_OUT: 3}

    def feed(self, view: DropView) -> list[str]:
        reasons: list[str] = []
        if view.units_sold > 0 and not self._sold_any:
            self._sold_any = True
            reasons.append("first sale")
        for sku in view.skus:
            before = self._levels.get(sku.id, StockLevel.PLENTY)
            self._levels[sku.id] = sku.level
            if self._rank[sku.level] <= self._rank[before]:
                continue
            if sku.level is StockLevel.SOLD_OUT:
                reasons.append(f"{sku.name} sold out")
            else:
                reasons.append(f"{sku.name} low stock: {sku.left} left")
        return reasons


# -- status for the UI ------------------------------------------------------------------------


class OutputState(StrEnum):
    OFF = "off"  # not streaming (no ingest configured, or stopped)
    CONNECTING = "connecting"
    LIVE = "live"  # on the primary ingest
    BACKUP = "backup"  # on the backup ingest
    RECONNECTING = "reconnecting"  # no ingest is taking the stream; retrying


@dataclass(frozen=True)
class OutputStatus:
    state: OutputState = OutputState.OFF
    ingest: str = ""  # redacted URL of the ingest carrying the program
    message: str = ""  # one sentence for the host when something is wrong, else ""
    encoding: bool = False
    bitrate_kbps: float = 0.0
    encode_fps: float = 0.0
    frames_sent: int = 0
    dropped_frames: int = 0  # program frames the encoder could not take (newest-wins)
    time_live_s: float = 0.0
    switches: int = 0
    recording_path: str = ""
    recording_bytes: int = 0
    recording_error: str = ""
    free_disk_bytes: int | None = None
    disk_minutes_left: float | None = None
    disk_warning: str = ""
    replay_s: float = 0.0  # encoded seconds in memory
    replay_bytes: int = 0
    last_clip: str = ""
    clip_message: str = ""
    moments: int = 0

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(m for m in (self.message, self.recording_error, self.disk_warning) if m)
