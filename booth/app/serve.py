"""`booth serve`: run a drop without a screen — session log, drop timer and the shop webhook.

Sales arrive over HTTP (see `booth.api.shop_webhook`); every acknowledged sale is on disk. Killed
or crashed, the next `booth serve` on the same data folder resumes the same drop: same stock, same
deadline. Stop it with Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

_T0 = time.monotonic()

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drop", dest="serve_drop", type=Path, metavar="FILE",
                        help="drop config (TOML); default: the demo drop")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="where the session log lives (default: the user data folder)")
    parser.add_argument("--shop-host", default="127.0.0.1", metavar="HOST",
                        help="address the shop webhook binds to (default 127.0.0.1: this machine only)")
    parser.add_argument("--shop-port", type=int, default=8765, metavar="N",
                        help="shop webhook port (default 8765; 0 picks a free one)")
    parser.add_argument("--kind", choices=("drop", "rehearsal", "live"), default="drop",
                        help="what kind of session a new one is (default: drop)")
    parser.add_argument("--start", action="store_true", help="start the offer timer if it has not started")
    parser.add_argument("--new", action="store_true",
                        help="do not resume an unfinished drop: close it and begin a new session")


def run(args: argparse.Namespace) -> int:
    from booth.api.shop_webhook import ShopWebhook
    from booth.core.config import ConfigError, load_config_or_demo
    from booth.core.drop import Phase
    from booth.drop.session import start_drop_session
    from booth.runtime.worker import Periodic
    from booth.store.db import StoreError

    drop_file = getattr(args, "serve_drop", None) or getattr(args, "drop", None)
    try:
        config = load_config_or_demo(drop_file)
    except ConfigError as exc:
        sys.stderr.write(f"booth serve: {exc}\n")
        return 2
    try:
        session = start_drop_session(args.data_dir, config, kind=args.kind, resume=not args.new)
    except StoreError as exc:
        sys.stderr.write(f"booth serve: {exc}\n")
        return 2
    for message in session.messages:
        print(message, flush=True)
    controller = session.controller
    if args.start and controller.view().phase is Phase.READY:
        controller.start_timer()
    try:
        webhook = ShopWebhook(controller, session.watch, host=args.shop_host, port=args.shop_port).start()
    except OSError as exc:
        session.close("webhook failed")
        sys.stderr.write(f"booth serve: cannot listen on {args.shop_host}:{args.shop_port} ({exc.strerror or exc}).\n")
        return 2
    ticker = Periodic("booth-drop-tick", 0.25, controller.tick).start()

    stop = threading.Event()
    reason = {"why": "signal"}

    def on_signal(signum: int, _frame: object) -> None:
        reason["why"] = signal.Signals(signum).name
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    view = controller.view()
    ready_ms = (time.monotonic() - _T0) * 1000
    stock = ", ".join(f"{s.id} {s.left}/{s.initial}" for s in view.skus)
    print(
        f"Booth serving '{view.title}' (session {session.session_id}, "
        f"{'resumed' if session.opened.resumed else 'new'}, {view.phase}, {view.remaining_s:.0f} s left; {stock}) "
        f"— shop webhook {webhook.url} — ready in {ready_ms:.0f} ms",
        flush=True,
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("stopping (%s)", reason["why"])
        webhook.close()
        ticker.stop()
        session.close(reason["why"])
    return 0


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
