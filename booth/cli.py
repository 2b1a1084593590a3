"""`booth` command line: the GUI by default, plus headless subcommands.

Each subcommand lives in its own module exposing `add_arguments(parser)` and
`run(args) -> int`; they are imported only when used so `booth --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from booth import __version__

# name → (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("booth.bench.cli", "measure the pipeline on this machine (booth bench pipeline --json)"),
    "check": ("booth.app.check", "pre-flight the rig: sources, battery, disk, endpoints, mic (exit 0/1/2)"),
    "serve": ("booth.app.serve", "run a drop without a screen: session log, timer, shop webhook"),
    "report": ("booth.app.report", "what a drop sold and what went wrong, from the session log"),
}

EPILOG = """\
examples:
  booth                              the demo drop on the built-in demo source
  booth --drop drop.toml             your drop, sources and overlay from a TOML file
  booth --source file:loop.mp4       override the primary source
  booth --source srt://0.0.0.0:9000?mode=listener
  booth bench pipeline --json        program fps, compose and latency figures
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="booth",
        description="Host control booth for live-commerce micro-drops.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"booth {__version__}")
    parser.add_argument("--drop", type=Path, metavar="FILE", help="drop config (TOML); default: a demo drop")
    parser.add_argument(
        "--source", metavar="SPEC", help="primary source: demo:, camera:<name|index>, file:<path> or a URL"
    )
    parser.add_argument("--size", metavar="WxH", help="program size, e.g. 1280x720 (max 1920x1080 @ 60 fps)")
    parser.add_argument("--fps", type=float, metavar="N", help="program frame rate")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="session logs (default: user data folder)")
    parser.add_argument("--resume", action="store_true", help="resume an open session without asking")
    parser.add_argument("--new-session", action="store_true", help="start a new session even if one is open")
    parser.add_argument("--rehearsal", action="store_true", help="log this run as a rehearsal, not a live drop")
    parser.add_argument("--metrics-port", type=int, metavar="N", help="serve Prometheus metrics on 127.0.0.1:N")
    parser.add_argument("--shop-port", type=int, metavar="N", help="accept shop sales (POST /sale) on 127.0.0.1:N")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        _lazy_add_arguments(module_name, sub_parser)
    return parser


def _lazy_add_arguments(module_name: str, parser: argparse.ArgumentParser) -> None:
    importlib.import_module(module_name).add_arguments(parser)


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
  - Headless checks that need no screen: booth bench pipeline
"""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if args.command:
        return int(importlib.import_module(args._module).run(args))
    if not has_display():
        sys.stderr.write(NO_DISPLAY_HELP)
        return 2
    from booth.app.root import run_gui

    return run_gui(args)
