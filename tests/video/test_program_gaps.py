from __future__ import annotations

import numpy as np
import pytest

from booth.core.frames import ProgramFrame
from booth.video.program_gaps import ProgramGapMeter

PIXELS = np.zeros((2, 2, 4), np.uint8)


def frame(t: float, source: str, repeat: bool = False) -> ProgramFrame:
    return ProgramFrame(PIXELS, 0, t, source, 0, t, repeat, round(t * 30), t)


def test_the_gap_runs_from_the_last_fresh_picture_to_the_first_after_the_cut():
    cuts = []
    meter = ProgramGapMeter(cuts.append)
    for i in range(5):
        meter(frame(i / 30, "primary"))
    last = 4 / 30
    meter(frame(last + 1 / 30, "primary", repeat=True))  # primary stalled: held picture
    meter(frame(last + 2 / 30, "primary", repeat=True))
    meter(frame(last + 0.21, "secondary"))
    assert len(cuts) == 1
    assert (cuts[0].from_source, cuts[0].to_source) == ("primary", "secondary")
    assert cuts[0].gap_ms == pytest.approx(210)


def test_an_outage_through_the_slate_counts_until_a_source_is_back():
    cuts = []
    meter = ProgramGapMeter(cuts.append)
    meter(frame(0.0, "primary"))
    meter(frame(0.5, "slate", repeat=True))
    meter(frame(2.0, "slate", repeat=True))
    meter(frame(3.0, "secondary"))
    assert [(c.to_source, c.gap_ms) for c in cuts] == [("slate", None), ("secondary", pytest.approx(3000))]
    assert cuts[1].from_source == "slate"
