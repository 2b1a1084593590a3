"""`booth rehearse [--drop FILE] [--drill NAME …|--all] [--json]`: a rehearsal with scripted faults.

Runs the drop file's real pipeline — its sources, its ingests, rig health, the control API — as a
session of kind rehearsal (shadow stock, REHEARSAL burned into the picture), puts each drill's fault
on Booth's own seams and scores what Booth did (`booth.app.drills`). The scorecard is printed and kept
in the session log, where `booth report` and the go-live gate in `booth check` read it.

Exit 0 when every drill that applies passed, 1 when one failed, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # this module stays light at import: the pipeline loads inside `run`
    from booth.app.root import Booth
    from booth.app.shop_part import ShopPart

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from booth.app.options import add_drop_options
    from booth.core.drills import DRILL_NAMES

    add_drop_options(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--drill", nargs="+", metavar="NAME", help=f"the drills to run: {', '.join(DRILL_NAMES)}")
    which.add_argument("--all", action="store_true", help="every drill (the default): what a full rehearsal needs")
    parser.add_argument("--json", action="store_true", help="print one JSON object: drills, passed, duration_s")
    parser.add_argument("--api-port", type=int, metavar="N", default=argparse.SUPPRESS,
                        help="the control API's port during the rehearsal (default: any free port)")


def run(args: argparse.Namespace) -> int:
    from booth.app.options import Options
    from booth.core.drills import DRILL_NAMES, unknown_drills

    names = list(args.drill or DRILL_NAMES)
    unknown = unknown_drills(names)
    if unknown:
        known = ", ".join(DRILL_NAMES)
        sys.stderr.write(f"booth rehearse: no drill named {', '.join(unknown)} (the drills: {known})\n")
        return 2
    options = Options.from_args(args)
    if options.api_port is None:
        options = replace(options, api_port=0)  # the order burst goes through the control API
    return rehearse(options, names, args.json)


def rehearse(options, names: list[str], as_json: bool) -> int:  # type: ignore[no-untyped-def]
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    from booth.app.startup import config_and_lock
    from booth.drop.session import start_drop_session
    from booth.store.db import StoreError
    from booth.store.recovery import peek_open_session

    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = config_and_lock("rehearse", options)
    if started is None:
        return 2
    config, lock = started
    try:
        open_one = peek_open_session(options.data_dir)
        if open_one is not None and open_one.kind != "rehearsal":
            sys.stderr.write(
                f"booth rehearse: the {open_one.kind} '{open_one.title}' (session {open_one.id}) is not finished in "
                "this data folder. Finish it first, or rehearse with another --data-dir.\n")
            return 2
        try:
            session = start_drop_session(options.data_dir, config, kind="rehearsal", resume=False)
        except StoreError as exc:
            sys.stderr.write(f"booth rehearse: {exc}\n")
            return 2
        return _run_drills(options, config, session, names, as_json, stop)
    finally:
        lock.release()


def _run_drills(options, config, session, names, as_json, stop) -> int:  # type: ignore[no-untyped-def]
    if not os.environ.get("QT_QPA_PLATFORM") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # the program is drawn with Qt; no window is shown
    from PySide6.QtGui import QGuiApplication

    from booth.app.drills import DrillRunner
    from booth.app.root import add_rig, build_booth
    from booth.store.db import StoreError

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts and painting need it
    booth = build_booth(config, session=session)
    add_rig(booth, options)
    try:
        booth.start()
    except StoreError as exc:
        sys.stderr.write(f"booth rehearse: {exc}\n")
        session.end_on_close, session.close_reason = True, "rehearsal could not start"
        booth.stop()
        return 2
    try:
        for problem in booth.standing_problems():
            log.warning("%s", problem)
        runner = DrillRunner(booth, stop, shop=drill_shop(booth))

        def progress(result) -> None:  # type: ignore[no-untyped-def]
            if not as_json:
                print(f"  {result.verdict:<4}  {result.name}: {result.detail}", flush=True)

        if not as_json:
            print(f"Rehearsing '{config.drop.title}' (session {session.session_id}): {len(names)} drill(s)", flush=True)
        card = runner.run(names, progress)
    finally:
        _end_running_segment(booth)
        session.end_on_close = True  # a rehearsal run here is over when it returns
        session.close_reason = "rehearsal done" if not stop.is_set() else "interrupted"
        booth.stop()  # the session log closes last
    if stop.is_set():
        sys.stderr.write("booth rehearse: interrupted; the drills run so far are in the session log.\n")
        return 2
    if as_json:
        print(json.dumps({**card.to_json(), "session": session.session_id}, indent=2, ensure_ascii=False))
    else:
        print("\n".join(["", "Scorecard:", *card.lines()]))
    return 0 if card.passed else 1


def drill_shop(booth: Booth) -> ShopPart | None:
    """The shop part the shop-unreachable drill cuts off: one with a running sync (`[shop]` and readable
    credentials); without it the drill says why it does not apply."""
    shop = booth.shop
    return shop if shop is not None and shop.sync is not None else None


def _end_running_segment(booth) -> None:  # type: ignore[no-untyped-def]
    """The rehearsal is over: a segment the drills left running ends now, so the report has its actual
    length and over/under instead of "running" in a closed session."""
    show = booth.controller.view().show
    if show is not None and show.now is not None and booth.controller.end_offer().accepted and booth.session:
        booth.session.log.flush()
