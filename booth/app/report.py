"""`booth report`: what a drop sold and what the rig went through, from the session log only.

    booth report                       the latest session as a table
    booth report 3 --format html --out drop3.html
    booth report --list                every session in the log
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", type=int, metavar="SESSION", help="session id (default: the latest)")
    parser.add_argument("--list", action="store_true", help="list the sessions in the log")
    parser.add_argument("--format", choices=("table", "json", "csv", "html"), default="table",
                        help="output format (default: table)")
    parser.add_argument("--out", type=Path, metavar="PATH", help="write to a file instead of the terminal")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="where the session log lives (default: the user data folder)")


def run(args: argparse.Namespace) -> int:
    from booth.reports.kpis import build_report
    from booth.reports.pack_links import read_pack
    from booth.reports.render import render, render_list
    from booth.store.db import StoreError
    from booth.store.paths import resolve_data_dir
    from booth.store.reader import SessionReader

    try:
        with SessionReader.open(resolve_data_dir(args.data_dir)) as reader:
            if args.list:
                text = render_list(reader.list_sessions())
            else:
                session = reader.session(args.session)
                report = build_report(session, reader.events(session.id), reader.samples(session.id))
                report.pack = read_pack(report.recordings)  # the clips and thumbnails, from the pack's manifest
                text = render(report, args.format)
    except StoreError as exc:
        sys.stderr.write(f"booth report: {exc}\n")
        return 1
    if args.out:
        try:
            args.out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as exc:
            sys.stderr.write(f"booth report: cannot write {args.out} ({exc.strerror or exc}).\n")
            return 1
        print(f"Report written to {args.out}")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="booth report", description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
