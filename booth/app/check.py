"""`booth check [--json] [--drop FILE]`: headless pre-flight of the rig.

Exit 0 when everything is ok, 1 with warnings, 2 with failures (or an unreadable drop file).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from booth.app.options import add_drop_options

    add_drop_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--probes", type=int, default=5, metavar="N", help="probes per endpoint (default 5)")
    parser.add_argument("--go-anyway", action="store_true",
                        help="accept going live without the rehearsals the drop file asks for (logged)")


def run(args: argparse.Namespace) -> int:
    from booth.app.options import Options
    from booth.app.startup import recording_folder, resolve_config
    from booth.health.preflight import run_preflight

    options = Options.from_args(args)
    config, problems = resolve_config(options)
    if config is None:
        if args.json:
            print(json.dumps({"ok": False, "exit_code": 2, "config_problems": problems}, indent=2))
        else:
            sys.stderr.write("booth check: the drop file has problems:\n" + "".join(f"  {p}\n" for p in problems))
        return 2
    report = run_preflight(config, probe_count=max(1, args.probes),
                           recording_folder=recording_folder(options, config))  # fmt: skip
    shop = shop_checks(config) if config.shop is not None else None  # asked once, told twice
    if config.path is not None:  # the go-live gate: rehearsals of this very file, and every link of it (the shop too)
        from booth.app.gate import gate_items
        from booth.health.preflight import CheckReport

        gate = gate_items(config, options.data_dir, args.go_anyway, shop=shop)
        report = CheckReport((*report.items, *gate), report.config)
    if shop is not None:
        report = with_shop_checks(report, shop)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(format_report(report))
    return int(report.exit_code)


def shop_checks(config: Any) -> list[Any]:
    """The shop's pre-flight: the credentials work and every product resolves and is stocked."""
    from booth.shop.preflight import check_shop

    shop = config.shop
    return check_shop(shop, {s.id: s.name for s in config.drop.skus}, base_url=shop.api_base)


def with_shop_checks(report: Any, checks: list[Any]) -> Any:
    """The shop's pre-flight items beside the rig's (the gate's one `shop` item sums them up)."""
    from booth.health.preflight import CheckItem, CheckReport, CheckStatus

    items = tuple(CheckItem("shop", c.name, CheckStatus(c.status), c.summary, c.figures) for c in checks)
    return CheckReport(report.items + items, report.config)


def format_report(report: Any) -> str:
    from booth.health.preflight import CheckStatus

    width = max(len(i.name) for i in report.items)
    lines = [f"Booth pre-flight — {report.config}", ""]
    for item in report.items:
        lines.append(f"  {item.status.value:<4}  {item.name:<{width}}  {item.summary}")
    fails, warns = report.count(CheckStatus.FAIL), report.count(CheckStatus.WARN)
    verdict = "ready" if report.exit_code == 0 else "fix the failures first" if fails else "go, with care"
    lines += ["", f"{fails} failure(s), {warns} warning(s): {verdict} (exit {report.exit_code})"]
    return "\n".join(lines)
