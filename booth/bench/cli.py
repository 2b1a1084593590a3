"""Dispatch `booth bench NAME` to the benchmark module that measures it."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

# name → module with add_arguments(parser) and measure(args) -> dict
BENCHMARKS: dict[str, str] = {
    "pipeline": "booth.bench.pipeline",
    "store": "booth.bench.store",
    "output": "booth.bench.output",
    "health": "booth.bench.health",
    "failover": "booth.bench.failover",
    "api": "booth.bench.api",
    "timing": "booth.bench.timing",
    "sync": "booth.bench.sync",
    "clips": "booth.bench.clips",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench_name", metavar="NAME", required=True)
    for name, module_name in BENCHMARKS.items():
        module = importlib.import_module(module_name)
        bench_parser = sub.add_parser(name, help=module.__doc__.splitlines()[0] if module.__doc__ else name)
        bench_parser.add_argument("--json", action="store_true", help="print one JSON object")
        module.add_arguments(bench_parser)


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(BENCHMARKS[args.bench_name])
    result: dict[str, Any] = module.measure(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(module.format_table(result))
    return 0 if result.get("ok", True) else 1


def print_err(message: str) -> None:
    sys.stderr.write(message + "\n")
