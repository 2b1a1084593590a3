"""The `[recording]` section: where the program is recorded and how much disk it may use.

```toml
[recording]
folder = "recordings"    # "" = don't record; relative to the drop file (the data folder without one)
warn_minutes = 30        # amber when the free disk holds less recording than this
critical_minutes = 10    # red below this
min_free_mb = 200        # recording stops below this, so the session log can still write
```

The recording is the encoded program (one encode for stream, recording and clips), so its
bitrate is `[output] bitrate_kbps + audio_kbps`; the disk guard turns free bytes into minutes with it.
One section, read by the disk guard, the recorder, health and the session log alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from booth.core.config_table import Table


@dataclass(frozen=True)
class RecordingConfig:
    folder: str = "recordings"  # "" = no recording
    warn_minutes: float = 30.0
    critical_minutes: float = 10.0
    min_free_mb: int = 200

    @property
    def enabled(self) -> bool:
        return bool(self.folder)


def parse_recording(table: Table) -> RecordingConfig:
    d = RecordingConfig()
    folder = table.string("folder", d.folder)
    warn = table.number("warn_minutes", d.warn_minutes, 1.0, 24 * 60)
    critical = table.number("critical_minutes", d.critical_minutes, 0.0, 24 * 60)
    if critical > warn:
        table.problem("critical_minutes", f"must not exceed warn_minutes ({warn:g}), got {critical:g}")
        critical = warn
    min_free = table.integer("min_free_mb", d.min_free_mb, minimum=10)
    table.finish()
    return RecordingConfig(folder, warn, critical, min_free)
