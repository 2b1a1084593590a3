"""What the user asked for on the command line, as one typed object shared by every command.

The GUI, `booth serve` and `booth check` take the same flags with the same meaning
(`--drop`, `--data-dir`, `--resume`, `--new-session`, …), declared once here. Parsing the flags
imports nothing heavy, so `booth --version` and `booth --help` stay fast.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields, replace
from pathlib import Path


@dataclass(frozen=True)
class Options:
    drop: Path | None = None  # the drop file; None = the demo drop
    source: str | None = None  # overrides [sources] primary
    size: str | None = None  # overrides [program] size
    fps: float | None = None  # overrides [program] fps
    data_dir: Path | None = None  # session log and lock; None = the user data folder
    resume: bool = False  # resume an open session without asking
    new_session: bool = False  # start a new session even if one is open
    rehearsal: bool = False  # log this run as a rehearsal
    api_port: int | None = None  # the control API (None: off; the GUI and serve default to DEFAULT_API_PORT)
    api_host: str = "127.0.0.1"
    start_timer: bool = False  # serve: start the offer timer if it has not started
    go_anyway: bool = False  # go live without the rehearsals the drop file asks for (logged)
    verbose: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        """The options from a parsed command line (flags a command does not take keep their defaults)."""
        given = vars(args)
        return cls(**{f.name: given[f.name] for f in fields(cls) if f.name in given and given[f.name] is not None})

    def with_default_api_port(self) -> Options:
        """The GUI and `booth serve` run the control API unless a port was chosen (0: any free one)."""
        return self if self.api_port is not None else replace(self, api_port=DEFAULT_API_PORT)

    @property
    def session_kind(self) -> str:
        return "rehearsal" if self.rehearsal else "drop"


DEFAULT_API_PORT = 8765

# Flags are declared on `booth` itself and again on its subcommands; SUPPRESS keeps a subcommand's
# unset flag from overwriting what was given before the subcommand (`booth --drop x serve`).
UNSET = argparse.SUPPRESS


def add_drop_options(parser: argparse.ArgumentParser) -> None:
    """Which drop: the flags every command that runs or checks a drop takes."""
    parser.add_argument("--drop", type=Path, metavar="FILE", default=UNSET,
                        help="drop config (TOML); default: a demo drop")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", default=UNSET,
                        help="session logs and the instance lock (default: the user data folder)")


def add_picture_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="SPEC", default=UNSET,
                        help="primary source: demo:, camera:<name|index>, file:<path> or a URL")
    parser.add_argument("--size", metavar="WxH", default=UNSET,
                        help="program size, e.g. 1280x720 (max 1920x1080 @ 60 fps)")
    parser.add_argument("--fps", type=float, metavar="N", default=UNSET, help="program frame rate")


def add_session_options(parser: argparse.ArgumentParser) -> None:
    """How a run meets an unfinished drop, and the control ports: the GUI and `booth serve` alike."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--resume", action="store_true", default=UNSET,
                        help="resume an unfinished drop without asking")
    choice.add_argument("--new-session", action="store_true", default=UNSET,
                        help="close an unfinished drop and begin a new session")
    parser.add_argument("--rehearsal", action="store_true", default=UNSET,
                        help="a rehearsal: shadow stock, marked REHEARSAL, drills in the tech lead's window")
    parser.add_argument("--go-anyway", action="store_true", default=UNSET,
                        help="go live although the drop lacks the rehearsals its file asks for (logged)")
    parser.add_argument("--api-port", type=int, metavar="N", default=UNSET,
                        help=f"the control API and /metrics on port N (default {DEFAULT_API_PORT}; 0: any free port)")
    parser.add_argument("--api-host", metavar="HOST", default=UNSET,
                        help="address the control API binds to (default 127.0.0.1: this machine only; "
                             "a LAN address lets a phone in, with a standing warning)")
