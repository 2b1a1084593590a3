"""`booth serve`: run a drop without a screen — session log, drop clock, the shop sync and the control API.

Sales arrive over HTTP (the control API, with its token); every acknowledged sale is on disk.
Killed or crashed, the next `booth serve --resume` on the same data folder goes on with the same drop: same stock, same
deadline. Stop it with Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

_T0 = time.monotonic()

log = logging.getLogger(__name__)

NO_ANSWER = """\
booth serve: the {kind} "{title}" ({sales} so far) was not closed. Say what to do with it:
  --resume        go on with the same stock and deadline
  --new-session   close it and begin a new session
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from booth.app.options import add_drop_options, add_session_options

    add_drop_options(parser)
    add_session_options(parser)
    parser.add_argument("--start", dest="start_timer", action="store_true", default=argparse.SUPPRESS,
                        help="start the offer timer if it has not started")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from booth.app.options import Options

    return serve(Options.from_args(args).with_default_api_port())


def serve(options) -> int:  # type: ignore[no-untyped-def]
    from booth.app.drop_parts import add_drop_api, add_drop_clock, add_drop_shop, build_drop
    from booth.app.lifecycle import Lifecycle
    from booth.app.startup import config_and_lock, open_session, sales_so_far
    from booth.core.drop import Phase
    from booth.store.db import StoreError
    from booth.store.recovery import peek_open_session

    stop = threading.Event()
    reason = {"why": "signal"}

    def on_signal(signum: int, _frame: object) -> None:
        reason["why"] = signal.Signals(signum).name
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)  # before anything that can wait
    signal.signal(signal.SIGINT, on_signal)
    started = config_and_lock("serve", options)
    if started is None:
        return 2
    config, lock = started
    try:
        resume = not options.new_session
        info = peek_open_session(options.data_dir) if resume else None
        if info is not None and not options.resume:
            sys.stderr.write(NO_ANSWER.format(kind=info.kind, title=info.title, sales=sales_so_far(info.sales)))
            return 2
        try:
            session = open_session(options, config, resume)
        except StoreError as exc:
            sys.stderr.write(f"booth serve: {exc}\n")
            return 2
        for message in session.messages:
            print(message, flush=True)
        booth = build_drop(config, Lifecycle(), session=session)
        add_drop_clock(booth)
        add_drop_shop(booth, config, options)
        add_drop_api(booth, options)
        controller = session.controller
        if options.start_timer and controller.view().phase is Phase.READY:
            controller.start_timer()
        try:
            booth.start()
        except StoreError as exc:
            sys.stderr.write(f"booth serve: {exc}\n")
            return 2
        view = controller.view()
        ready_ms = (time.monotonic() - _T0) * 1000
        stock = ", ".join(f"{s.id} {s.left}/{s.initial}" for s in view.skus)
        url = booth.api.url if booth.api is not None else None
        for problem in booth.problems:
            sys.stderr.write(f"booth serve: {problem}\n")
        print(
            f"Booth serving '{view.title}' (session {session.session_id}, "
            f"{'resumed' if session.opened.resumed else 'new'}, {view.phase}, {view.remaining_s:.0f} s left; {stock}) "
            f"— control API {url or 'not running'} — ready in {ready_ms:.0f} ms",
            flush=True,
        )
        try:
            while not stop.wait(1.0):
                pass
        finally:
            log.info("stopping (%s)", reason["why"])
            session.close_reason = reason["why"]
            booth.stop()
        return 0
    finally:
        lock.release()


def main(argv: list[str] | None = None) -> int:
    """`python -m booth.app.serve …`: the same command without the rest of the CLI."""
    parser = argparse.ArgumentParser(prog="booth serve", description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
