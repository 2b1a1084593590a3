"""Time on the stream, as pure domain: the `[timing]` section and each source's input delay.

```toml
[timing]
readback = "http://127.0.0.1:8080/hls/KEY.m3u8"   # what viewers get: HLS, FLV over HTTP or rtmp:// pull
timecode = true                 # each program frame's slot in a thin strip at the bottom (on with a read-back)
viewer_delay_seconds = 0        # the viewer delay D to assume until the read-back measures one (0 = none)
honest_scarcity = true          # the burned countdown runs D ahead; LAST CALL when the stock left sells within D
input_delay_warn_ms = 100       # a source's delay grown by this much since it connected is an alert
```

Input delay is sender → Booth: the time from the moment a sender took a picture (its stamp, see
booth.core.timecode) to the moment Booth had it decoded. A meter per source keeps the recent
median, the lowest 5-second median since the source (re)connected as its baseline, and says when
the delay has grown: the sign of a backlog building somewhere on the way.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from booth.core.config_table import Table
from booth.core.redact import mask, redact_url

READBACK_SCHEMES = ("rtmp", "rtmps", "http", "https")


@dataclass(frozen=True)
class TimingConfig:
    readback: str = ""  # what viewers get, read back (holds the stream key: show `readback_label`)
    timecode: bool = False
    viewer_delay_s: float = 0.0
    honest_scarcity: bool = True
    input_delay_warn_ms: float = 100.0

    @property
    def readback_label(self) -> str:
        return readback_label(self.readback)


def readback_label(url: str) -> str:
    """The read-back URL for screens and logs: the stream key (RTMP path end, HLS/FLV file name) masked."""
    if not url:
        return ""
    shown = redact_url(url)
    parts = urlsplit(shown)
    if parts.scheme in ("http", "https"):
        head, _, name = parts.path.rpartition("/")
        stem, dot, ext = name.rpartition(".")
        if stem:
            shown = urlunsplit(parts._replace(path=f"{head}/{mask(stem)}{dot}{ext}"))
    return shown


def parse_timing(table: Table) -> TimingConfig:
    d = TimingConfig()
    readback = table.string("readback", "").strip()
    if readback:
        parts = urlsplit(readback)
        if parts.scheme.lower() not in READBACK_SCHEMES or not parts.hostname:
            table.problem("readback", f"must be an rtmp://, http:// or https:// URL (HLS or FLV), got "
                                      f"{readback_label(readback)!r}")  # fmt: skip
            readback = ""
    timecode = table.boolean("timecode", bool(readback))
    if readback and not timecode:
        table.problem("timecode", "a read-back needs the program time code to find Booth's frames in it")
        timecode = True
    delay = table.number("viewer_delay_seconds", d.viewer_delay_s, 0.0, 60.0)
    honest = table.boolean("honest_scarcity", d.honest_scarcity)
    warn = table.number("input_delay_warn_ms", d.input_delay_warn_ms, 20.0, 10_000.0)
    table.finish()
    return TimingConfig(readback, timecode, delay, honest, warn)


# -- input delay ------------------------------------------------------------------------------

RECENT_S = 1.0  # the figure shown: median over the last second
BLOCK_S = 5.0  # baseline and growth compare 5-second medians (a keyframe's burst doesn't count)
ALERT_HOLD_S = 5.0  # the growth must last this long to raise the alert…
CLEAR_RATIO = 0.6  # …and fall under this share of the threshold to clear it


@dataclass(frozen=True)
class DelayReading:
    delay_ms: float | None  # median over the last second; None without stamped frames
    baseline_ms: float | None  # the lowest 5-second median since the source connected
    growth_ms: float | None  # the last 5 seconds' median above the baseline
    alert: str  # a sentence while the delay has grown past the threshold, "" otherwise


class InputDelayMeter:
    """One source's sender → Booth delay. Feed it every stamped frame; time is passed in."""

    def __init__(self, role: str, warn_ms: float = 100.0) -> None:
        self.role = role
        self.warn_ms = warn_ms
        self._samples: deque[tuple[float, float]] = deque()
        self._baseline: float | None = None
        self._block_start: float | None = None
        self._block: list[float] = []
        self._grown_since: float | None = None
        self._alert = ""

    def reset(self) -> None:
        """The source (re)connected: a new path, a new baseline."""
        self._samples.clear()
        self._baseline = None
        self._block_start = None
        self._block = []
        self._grown_since = None
        self._alert = ""

    def add(self, now: float, delay_s: float) -> None:
        delay_ms = delay_s * 1000
        self._samples.append((now, delay_ms))
        while self._samples and now - self._samples[0][0] > BLOCK_S:
            self._samples.popleft()
        if self._block_start is None:
            self._block_start = now
        self._block.append(delay_ms)
        if now - self._block_start >= BLOCK_S:
            block = statistics.median(self._block)
            self._baseline = block if self._baseline is None else min(self._baseline, block)
            self._block_start, self._block = now, []
        self._judge(now)

    def _judge(self, now: float) -> None:
        growth = self._growth()
        if growth is None:
            return
        if growth >= self.warn_ms:
            if self._grown_since is None:
                self._grown_since = now
            if now - self._grown_since >= ALERT_HOLD_S or self._alert:
                recent = statistics.median(d for _t, d in self._samples)
                self._alert = (f"{self.role} is {recent:.0f} ms behind its sender, {growth:.0f} ms more than "
                               f"when it connected: a backlog is building")  # fmt: skip
        elif growth < self.warn_ms * CLEAR_RATIO:
            self._grown_since = None
            self._alert = ""
        else:
            self._grown_since = None

    def _growth(self) -> float | None:
        if self._baseline is None or not self._samples:
            return None
        return statistics.median(d for _t, d in self._samples) - self._baseline

    def reading(self, now: float) -> DelayReading:
        recent = [d for t, d in self._samples if now - t <= RECENT_S]
        delay = statistics.median(recent) if recent else None
        growth = self._growth() if recent else None
        return DelayReading(delay, self._baseline, growth, self._alert if recent else "")
