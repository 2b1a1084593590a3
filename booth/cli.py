"""`booth` command line: the GUI by default, plus headless subcommands.

Each subcommand lives in its own module exposing `add_arguments(parser)` and `run(args) -> int`.
Parsing is two-stage so only the command being run is imported: `booth --version` and
`booth --help` import no Qt, no video library and no subcommand at all.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from booth import __version__
from booth.app.options import Options, add_drop_options, add_picture_options, add_session_options

# name → (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("booth.bench.cli", "measure the pipeline on this machine (booth bench pipeline --json)"),
    "check": ("booth.app.check", "pre-flight the rig: sources, battery, disk, endpoints, mic (exit 0/1/2)"),
    "serve": ("booth.app.serve", "run a drop without a screen: session log, timer, control API"),
    "api": ("booth.app.api_command", "the control API: `booth api token` prints its bearer token"),
    "report": ("booth.app.report", "what a drop sold and what went wrong, from the session log"),
    "rehearse": ("booth.app.rehearse", "a rehearsal with scripted faults, scored (booth rehearse --all --json)"),
    "codes": ("booth.app.codes_cmd", "one-time sticker codes with QR labels (--drop FILE --count N --out codes.pdf)"),
    "pack": ("booth.app.pack_command", "after the drop: a clip per marked moment, a recap and a manifest"),
}

EPILOG = """\
examples:
  booth                              the demo drop on the built-in demo source
  booth --drop drop.toml             your drop, sources and overlay from a TOML file
  booth --source file:loop.mp4       override the primary source
  booth --source srt://0.0.0.0:9000?mode=listener
  booth bench pipeline --json        program fps, compose and latency figures
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser, with only `command`'s own arguments loaded (importing its module)."""
    parser = argparse.ArgumentParser(
        prog="booth",
        description="Host control booth for live-commerce micro-drops.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"booth {__version__}")
    add_drop_options(parser)
    add_picture_options(parser)
    add_session_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        if name == command:
            sub_parser = sub.add_parser(name, help=help_text, description=help_text)
            importlib.import_module(module_name).add_arguments(sub_parser)
        else:
            sub_parser = sub.add_parser(name, help=help_text, add_help=False)
        sub_parser.set_defaults(_module=module_name)
    return parser


def chosen_command(argv: list[str]) -> str | None:
    """Which subcommand the arguments ask for (stage one: no subcommand module is imported)."""
    known, _rest = build_parser().parse_known_args(argv)
    command: str | None = known.command
    return command


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True  # the user picked a platform (offscreen, xcb, wayland…) explicitly
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


NO_DISPLAY_HELP = """\
Booth needs a screen to show the preview, and this session has none
(neither DISPLAY nor WAYLAND_DISPLAY is set).

  - On the stall laptop: start Booth from the desktop (menu entry or a terminal there).
  - Over SSH: ssh -X, or run it on the laptop's own screen.
  - Without any screen: QT_QPA_PLATFORM=offscreen booth   (runs, shows nothing)
  - Headless checks that need no screen: booth check, booth bench pipeline
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = chosen_command(argv)
    args = build_parser(command).parse_args(argv)
    setup_logging(bool(getattr(args, "verbose", False)))
    if args.command:
        return int(importlib.import_module(args._module).run(args))
    if not has_display():
        sys.stderr.write(NO_DISPLAY_HELP)
        return 2
    from booth.app.gui import run_gui

    return run_gui(Options.from_args(args))
