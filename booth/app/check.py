"""`booth check [--json] [--drop FILE]`: headless pre-flight of the rig.

Exit 0 when everything is ok, 1 with warnings, 2 with failures (or an unreadable config).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from booth.core.config import ConfigError, load_config_or_demo
from booth.health.preflight import CheckReport, CheckStatus, run_preflight


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--drop", dest="check_drop", type=Path, metavar="FILE",
                        help="drop config (TOML) with [health] endpoints; default: the demo drop")
    parser.add_argument("--probes", type=int, default=5, metavar="N", help="probes per endpoint (default 5)")


def run(args: argparse.Namespace) -> int:
    path = getattr(args, "check_drop", None) or getattr(args, "drop", None)
    try:
        config = load_config_or_demo(path)
    except ConfigError as exc:
        sys.stderr.write(f"booth check: {exc}\n")
        return 2
    report = run_preflight(config, probe_count=max(1, args.probes))
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(format_report(report))
    return report.exit_code


def format_report(report: CheckReport) -> str:
    width = max(len(i.name) for i in report.items)
    lines = [f"Booth pre-flight — {report.config}", ""]
    for item in report.items:
        lines.append(f"  {item.status.value:<4}  {item.name:<{width}}  {item.summary}")
    fails, warns = report.count(CheckStatus.FAIL), report.count(CheckStatus.WARN)
    verdict = "ready" if report.exit_code == 0 else "fix the failures first" if fails else "go, with care"
    lines += ["", f"{fails} failure(s), {warns} warning(s): {verdict} (exit {report.exit_code})"]
    return "\n".join(lines)
