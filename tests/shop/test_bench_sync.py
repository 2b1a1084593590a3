"""`booth bench sync` end to end on a small burst: nothing double-counted, lost or oversold."""

from __future__ import annotations

import argparse

from booth.bench import sync as bench_sync


def test_a_small_mixed_burst_is_counted_exactly_once_everywhere() -> None:
    result = bench_sync.measure(argparse.Namespace(orders=20, seed=5))
    assert result["orders"] == {"online": 10, "stall": 6, "codes": 4, "code_rescans_refused": 4}
    assert (result["double_counted"], result["lost"], result["oversold"]) == (0, 0, 0)
    assert result["shop_available"] == bench_sync.INITIAL - 20
    assert "double_counted" in bench_sync.format_table(result)
