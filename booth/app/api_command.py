"""`booth api token`: print the control API's bearer token for this data folder (made on first use).

For a shop integration, Companion or a Stream Deck key: `Authorization: Bearer $(booth api token)`.
The token is a secret: it is printed only here, on request, never logged.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pathlib import Path

    sub = parser.add_subparsers(dest="api_command", metavar="WHAT", required=True)
    token = sub.add_parser("token", help="print the bearer token (created, user-only, if there is none yet)",
                           description="print the bearer token of the data folder's control API")  # fmt: skip
    token.add_argument("--data-dir", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                       help="the booth's data folder (default: the user data folder)")


def run(args: argparse.Namespace) -> int:
    from booth.api.token import TokenError, load_or_create_token
    from booth.store.paths import resolve_data_dir

    try:
        print(load_or_create_token(resolve_data_dir(getattr(args, "data_dir", None))))
    except (TokenError, OSError) as exc:
        sys.stderr.write(f"booth api token: {exc}\n")
        return 2
    return 0
