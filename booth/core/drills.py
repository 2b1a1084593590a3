"""Rehearsal drills as pure domain: which faults, what each measures, its target, how it scores, the
scorecard a producer reads, and the go-live gate over the rehearsals in the session log.

A drill injects one fault at one of Booth's own seams during a rehearsal, measures one figure from
what Booth really did (program frames, the ingest, the health line, the session log) and scores it
against its target; its `checks` are the other things that must hold ("in the session log", "no
order lost"). A drill that does not apply to this drop (no backup ingest, no shop) is scored
neither passed nor failed and says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DrillSpec:
    name: str
    title: str  # what is done, for the producer
    figure: str  # what is measured
    unit: str
    target: float  # the figure must be at most this


DRILLS: tuple[DrillSpec, ...] = (
    DrillSpec("pull-primary", "pull the primary camera (its stream drops)", "viewer-visible gap", "ms", 300.0),
    DrillSpec("stall-primary", "stall the primary (connected, no frames)", "viewer-visible gap", "ms", 300.0),
    DrillSpec("freeze-primary", "freeze the primary (frames arrive, picture still)", "frozen detected after", "ms",
              1000.0),
    DrillSpec("lose-ingest", "the primary ingest stalls", "backup ingest carrying the stream after", "s", 2.0),
    DrillSpec("low-battery", "low battery (at the battery reading)", "alert on the host line after", "s", 2.0),
    DrillSpec("order-burst", "100 orders in 10 s through the control API (duplicates, reordered, late)",
              "double counts", "orders", 0.0),
    DrillSpec("shop-unreachable", "the shop is unreachable", "alert on the host line after", "s", 2.0),
    DrillSpec("disk-full", "the disk is nearly full (at the disk guard's reading)", "alert on the host line after",
              "s", 2.0),
)  # fmt: skip
DRILL_NAMES: tuple[str, ...] = tuple(d.name for d in DRILLS)


def drill_spec(name: str) -> DrillSpec:
    for spec in DRILLS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def unknown_drills(names: Sequence[str]) -> list[str]:
    return [n for n in names if n not in DRILL_NAMES]


@dataclass(frozen=True)
class DrillResult:
    name: str
    figure: float | None  # None: not measured (the fault was not seen, or the drill does not apply)
    target: float
    unit: str
    passed: bool | None  # None: does not apply to this drop
    detail: str  # what happened, in words
    checks: Mapping[str, bool] = field(default_factory=dict)
    started_wall: float = 0.0
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "figure": None if self.figure is None else round(self.figure, 3),
            "target": self.target, "unit": self.unit, "passed": self.passed, "detail": self.detail,
            "checks": dict(self.checks), "started_wall": self.started_wall, "duration_s": round(self.duration_s, 2),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DrillResult:
        figure = data.get("figure")
        passed = data.get("passed")
        return cls(str(data.get("name", "")), float(figure) if isinstance(figure, int | float) else None,
                   float(data.get("target", 0.0)), str(data.get("unit", "")),
                   passed if isinstance(passed, bool) else None, str(data.get("detail", "")),
                   dict(data.get("checks") or {}), float(data.get("started_wall", 0.0)),
                   float(data.get("duration_s", 0.0)))  # fmt: skip

    @property
    def verdict(self) -> str:
        return "n/a" if self.passed is None else "PASS" if self.passed else "FAIL"


def score(name: str, figure: float | None, detail: str, checks: Mapping[str, bool] | None = None,
          started_wall: float = 0.0, duration_s: float = 0.0) -> DrillResult:  # fmt: skip
    """Passed when the figure was measured, is within its target, and every check holds."""
    spec = drill_spec(name)
    checks = dict(checks or {})
    passed = figure is not None and figure <= spec.target + 1e-9 and all(checks.values())
    failed = [what for what, ok in checks.items() if not ok]
    if failed:
        detail = f"{detail} (not met: {', '.join(failed)})"
    return DrillResult(name, figure, spec.target, spec.unit, passed, detail, checks, started_wall, duration_s)


def not_applicable(name: str, why: str, started_wall: float = 0.0) -> DrillResult:
    spec = drill_spec(name)
    return DrillResult(name, None, spec.target, spec.unit, None, why, {}, started_wall, 0.0)


@dataclass(frozen=True)
class Scorecard:
    drills: tuple[DrillResult, ...]
    duration_s: float
    started_wall: float = 0.0

    @property
    def passed(self) -> bool:
        """Every drill that applies passed (and at least one ran)."""
        ran = [d for d in self.drills if d.passed is not None]
        return bool(ran) and all(d.passed for d in ran)

    @property
    def full(self) -> bool:
        """The whole drill set was run (what a full rehearsal needs)."""
        return set(DRILL_NAMES) <= {d.name for d in self.drills}

    def to_json(self) -> dict[str, Any]:
        return {"drills": [d.to_json() for d in self.drills], "passed": self.passed,
                "duration_s": round(self.duration_s, 2), "full": self.full, "started_wall": self.started_wall}

    def lines(self) -> list[str]:
        """The scorecard as the producer reads it, one drill a line."""
        width = max(len(d.name) for d in self.drills) if self.drills else 10
        rows = []
        for d in self.drills:
            figure = "—" if d.figure is None else format_figure(d.figure, d.unit)
            rows.append(f"  {d.verdict:<4}  {d.name:<{width}}  {figure:>12}  (target ≤ {d.target:g} {d.unit})  "
                        f"{d.detail}")  # fmt: skip
        verdict = "every drill passed" if self.passed else "NOT every drill passed"
        return [*rows, f"{verdict} in {self.duration_s:.0f} s"]


def format_figure(figure: float, unit: str) -> str:
    if unit == "s":
        return f"{figure:.2f} s"
    return f"{figure:.0f} {unit}"


# -- the go-live gate --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rehearsal:
    """One rehearsal session as the gate reads it from the session log."""

    session_id: int
    started_wall: float
    file_sha256: str
    scorecards: tuple[Scorecard, ...]

    @property
    def full_and_passed(self) -> bool:
        return any(card.full and card.passed for card in self.scorecards)


@dataclass(frozen=True)
class GateVerdict:
    ok: bool
    required: int
    counted: tuple[int, ...]  # session ids of the full, passed rehearsals of this very file
    sentence: str


def gate(required: int, file_sha256: str, rehearsals: Sequence[Rehearsal]) -> GateVerdict:
    """Had the drop the rehearsals its file asks for: `required` full rehearsals (every drill run and
    passed) since the file last changed (same hash)?"""
    same_file = [r for r in rehearsals if file_sha256 and r.file_sha256 == file_sha256]
    counted = tuple(r.session_id for r in same_file if r.full_and_passed)
    if required <= 0:
        return GateVerdict(True, 0, counted, "the drop file asks for no rehearsal")
    if len(counted) >= required:
        ids = ", ".join(str(i) for i in counted[-required:])
        return GateVerdict(True, required, counted,
                           f"{len(counted)} full rehearsal(s) with every drill passed since the file last changed "
                           f"(sessions {ids}); it asks for {required}")  # fmt: skip
    older = len([r for r in rehearsals if r.full_and_passed]) - len(counted)
    partial = len(same_file) - len(counted)
    why = []
    if partial:
        why.append(f"{partial} rehearsal(s) of this file had a drill missing or failed")
    if older:
        why.append(f"{older} passed before the file last changed")
    reasons = f" ({'; '.join(why)})" if why else ""
    return GateVerdict(False, required, counted,
                       f"{len(counted)} of {required} full rehearsals with every drill passed since the drop file "
                       f"last changed{reasons}: run `booth rehearse --all`, or go live with --go-anyway "
                       "(it is logged)")  # fmt: skip
