"""The go-live gate: did this drop have the rehearsals its file asks for, and does every link in it answer?

- Rehearsals: `[plan] rehearsals` (default 2) full rehearsals — every drill of the set run and passed
  (`booth rehearse --all`) — of this very file: its SHA-256 must match the one the rehearsal's session
  recorded, so a change to the file after rehearsing counts as not rehearsed.
- Links: the ingests in `[output]` accept a connection, the sticker-code sheet `[plan] codes_sheet`
  is there, each segment's `link` answers. (The health endpoints are probed by `booth check` itself.)
- The shop, with `[shop]`: its credentials work and every SKU of the drop resolves to a stocked item
  (`booth.shop.preflight.check_shop`, run once by `booth check`; its detailed items stand beside the gate's).

It warns; it never blocks. Going live anyway is explicit (`--go-anyway`) and logged: the live session's
log keeps a `gate` record with the verdict and the override, and the report shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from booth.core.config import BoothConfig
from booth.core.drills import GateVerdict, Rehearsal, gate
from booth.devices.links import http_answers, tcp_answers
from booth.health.preflight import CheckItem, CheckStatus
from booth.reports.show_kpis import scorecards
from booth.store import kinds
from booth.store.db import StoreError
from booth.store.paths import db_path, resolve_data_dir
from booth.store.reader import SessionReader

if TYPE_CHECKING:
    from booth.shop.preflight import ShopCheck

log = logging.getLogger(__name__)

DEFAULT_REHEARSALS = 2
DEFAULT_PORTS = {"rtmp": 1935, "rtmps": 443}


def required_rehearsals(config: BoothConfig) -> int:
    plan = config.drop.plan
    return plan.rehearsals if plan is not None else DEFAULT_REHEARSALS


def read_rehearsals(data_dir: Path | None) -> list[Rehearsal]:
    """Every rehearsal session in the data folder's session log, with its scorecards."""
    path = db_path(resolve_data_dir(data_dir))
    if not path.exists():
        return []
    found = []
    with SessionReader(path) as reader:
        for summary in reader.list_sessions():
            if summary.kind != "rehearsal":
                continue
            session = reader.session(summary.id)
            rows = [(e.kind, e.payload) for e in reader.events(summary.id) if e.kind in (kinds.DRILL, kinds.SCORECARD)]
            found.append(Rehearsal(summary.id, summary.started_wall, str(session.config.get("file_sha256", "")),
                                   tuple(scorecards(rows))))  # fmt: skip
    return found


def rehearsal_gate(config: BoothConfig, data_dir: Path | None) -> GateVerdict:
    try:
        rehearsals = read_rehearsals(data_dir)
    except StoreError as exc:
        log.warning("go-live gate: %s", exc)
        rehearsals = []
    return gate(required_rehearsals(config), config.file_sha256, rehearsals)


def gate_items(config: BoothConfig, data_dir: Path | None, go_anyway: bool = False,
               shop: Sequence[ShopCheck] | None = None) -> list[CheckItem]:  # fmt: skip
    """`booth check`'s go-live items: the rehearsals, then every link of the drop (`shop`: the shop's
    pre-flight checks, for a drop with `[shop]`)."""
    verdict = rehearsal_gate(config, data_dir)
    figures = {"required": verdict.required, "counted": len(verdict.counted), "file_sha256": config.file_sha256}
    if verdict.ok:
        items = [CheckItem("go-live", "rehearsals", CheckStatus.OK, verdict.sentence, figures)]
    elif go_anyway:
        log.warning("go-live gate overridden with --go-anyway: %s", verdict.sentence)
        items = [CheckItem("go-live", "rehearsals", CheckStatus.OK,
                           f"overridden with --go-anyway (logged): {verdict.sentence}", {**figures, "override": True})]
    else:
        items = [CheckItem("go-live", "rehearsals", CheckStatus.WARN, verdict.sentence, figures)]
    return items + link_items(config) + ([shop_item(config, shop)] if shop is not None else [])


def shop_item(config: BoothConfig, checks: Sequence[ShopCheck]) -> CheckItem:
    """The shop as one link of the drop: FAIL naming the first check that failed (credentials refused,
    a product the shop does not have…), a warning when the shop has less than a quota, ok otherwise."""
    domain = config.shop.domain if config.shop is not None else "the shop"
    failed = next((c for c in checks if c.status == "FAIL"), None)
    if failed is not None:
        return CheckItem("go-live", "shop answers", CheckStatus.FAIL, f"{failed.name}: {failed.summary}",
                         {"failed": failed.name})  # fmt: skip
    products = [c for c in checks if c.name.startswith("shop ") and "available" in c.figures]
    warned = [c for c in checks if c.status == "warn"]
    summary = f"{domain} accepts Booth's credentials and all {len(products)} product(s) of the drop resolve"
    if warned:
        return CheckItem("go-live", "shop answers", CheckStatus.WARN,
                         f"{summary}, but {warned[0].name}: {warned[0].summary}",
                         {"warned": warned[0].name, "products": len(products)})  # fmt: skip
    return CheckItem("go-live", "shop answers", CheckStatus.OK, summary, {"products": len(products)})


def link_items(config: BoothConfig) -> list[CheckItem]:
    items = []
    for target in _ingests(config):
        items.append(_ingest_item(*target))
    plan = config.drop.plan
    if plan is not None and plan.codes_sheet:
        sheet = Path(plan.codes_sheet).expanduser()
        if not sheet.is_absolute() and config.path is not None:
            sheet = config.path.parent / sheet
        if sheet.is_file() and sheet.stat().st_size > 0:
            items.append(CheckItem("go-live", "sticker-code sheet", CheckStatus.OK, f"{sheet} is there"))
        else:
            items.append(CheckItem("go-live", "sticker-code sheet", CheckStatus.FAIL,
                                   f"{sheet} is missing or empty: print it with `booth codes --out {sheet.name}`"))
    for segment in plan.segments if plan is not None else ():
        if segment.link:
            status, problem = http_answers(segment.link)
            items.append(CheckItem("go-live", f"link of {segment.name}",
                                   CheckStatus.OK if problem is None else CheckStatus.FAIL,
                                   f"{segment.link}: " + (f"answers HTTP {status}" if problem is None else problem),
                                   {"status": status}))  # fmt: skip
    return items


def _ingests(config: BoothConfig) -> list[tuple[str, str, str]]:
    try:
        targets = config.output.targets()
    except ValueError:
        return []
    return [(t.name, t.label, t.url) for t in targets]


def _ingest_item(name: str, label: str, url: str) -> CheckItem:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "srt":
        return CheckItem("go-live", f"{name} ingest", CheckStatus.SKIP,
                         f"{label}: SRT runs over UDP: it is checked when the stream starts")
    host, port = parts.hostname or "", parts.port or DEFAULT_PORTS.get(scheme, 1935)
    problem = tcp_answers(host, port)
    if problem is None:
        return CheckItem("go-live", f"{name} ingest", CheckStatus.OK, f"{label} accepts a connection")
    return CheckItem("go-live", f"{name} ingest", CheckStatus.FAIL, f"{label}: {problem}")


def record_going_live(session, config: BoothConfig, data_dir: Path | None,  # type: ignore[no-untyped-def]
                      go_anyway: bool) -> str | None:  # fmt: skip
    """A new live session of a drop file: log the gate's verdict (and the override); the host's standing
    sentence when it was not met and not overridden (None otherwise)."""
    if config.path is None or session.kind == "rehearsal" or session.opened.resumed:
        return None
    verdict = rehearsal_gate(config, data_dir)
    session.log.record(kinds.GATE, {"ok": verdict.ok, "required": verdict.required, "counted": list(verdict.counted),
                                    "sentence": verdict.sentence, "override": go_anyway and not verdict.ok})
    if verdict.ok:
        return None
    if go_anyway:
        log.warning("going live without the rehearsals the drop file asks for (--go-anyway): %s", verdict.sentence)
        return None
    return f"Not rehearsed as the drop file asks: {verdict.sentence}."
