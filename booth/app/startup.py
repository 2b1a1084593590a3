"""What to run: the drop file (or the demo drop) with the command line's overrides, and the
session log it is journaled in. Light on imports: `booth serve` and `booth check` use it too.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from booth.app.options import Options
from booth.core.config import BoothConfig, ConfigError, demo_config, load_config, parse_size, with_overrides
from booth.core.source_spec import SourceSpec, SpecError, parse_source_spec
from booth.drop.session import DropSession, start_drop_session
from booth.store.db import StoreError
from booth.store.instance_lock import InstanceLock
from booth.store.paths import resolve_data_dir

log = logging.getLogger(__name__)


# -- config -------------------------------------------------------------------------------------


def sales_so_far(sales: int) -> str:
    """How the resume question counts what the host remembers selling."""
    return "1 sale" if sales == 1 else f"{sales} sales"


def config_and_lock(command: str, options: Options) -> tuple[BoothConfig, InstanceLock] | None:
    """A headless command's start (`booth serve`, `booth rehearse`): the drop to run, or every problem of
    its file on stderr, and the data folder's lock, or who holds it. None: the command exits 2."""
    config, problems = resolve_config(options)
    if config is None:
        sys.stderr.write(f"booth {command}: the drop file has problems; no drop started:\n")
        sys.stderr.write("".join(f"  {p}\n" for p in problems))
        return None
    try:
        return config, InstanceLock(resolve_data_dir(options.data_dir)).acquire()
    except StoreError as exc:
        sys.stderr.write(f"booth {command}: {exc}\n")
        return None


def resolve_config(options: Options) -> tuple[BoothConfig | None, list[str]]:
    """The config to run with, and the problems the host must see.

    A drop file with problems gives no config (None) and every problem at once: a bad file never
    puts the demo product on air. Bad command-line overrides fall back with a message."""
    problems: list[str] = []
    config = demo_config()
    if options.drop is not None:
        try:
            config = load_config(options.drop)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("%s", problem)
            return None, list(exc.problems)
    source: SourceSpec | None = None
    if options.source:
        try:
            source = parse_source_spec(options.source)
        except SpecError as exc:
            problems.append(f"--source: {exc}. Showing the demo source instead.")
            log.error("--source: %s", exc)
            source = parse_source_spec("demo:")
    size = None
    if options.size:
        try:
            size = parse_size(options.size)
        except ValueError as exc:
            problems.append(f"--size {exc}; using {config.program.width}x{config.program.height}.")
    fps = options.fps
    if fps is not None and not 1 <= fps <= 60:
        problems.append(f"--fps must be between 1 and 60, got {fps:g}; using {config.program.fps:g}.")
        fps = None
    return with_overrides(config, source, size, fps), problems


def recording_folder(options: Options, config: BoothConfig) -> Path | None:
    """Recordings sit next to the drop file; without one, in the data folder (never in the repo)."""
    if not config.recording.enabled:
        return None
    base = config.path.parent if config.path is not None else resolve_data_dir(options.data_dir)
    return (base / config.recording.folder).expanduser()


# -- sessions ------------------------------------------------------------------------------------


def open_session(options: Options, config: BoothConfig, resume: bool) -> DropSession:
    """The drop's session log in the data folder; raises StoreError with a sentence for the user.
    A new live session of a drop file logs the go-live gate's verdict; when it was not met (and not
    overridden with --go-anyway) the sentence is among the session's messages for the host."""
    from booth.app.gate import record_going_live

    session = start_drop_session(options.data_dir, config, kind=options.session_kind, resume=resume)
    warning = record_going_live(session, config, options.data_dir, options.go_anyway)
    if warning is not None:
        session.opened.messages.append(warning)
    return session
