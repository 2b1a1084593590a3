"""`booth bench sync` end to end on a small burst: nothing double-counted, lost or oversold, and the latency
figures measured at the overlay the program compositor burns."""

from __future__ import annotations

import argparse

from booth.bench import sync as bench_sync


def test_a_small_mixed_burst_is_counted_exactly_once_everywhere(qapp) -> None:  # type: ignore[no-untyped-def]
    result = bench_sync.measure(argparse.Namespace(orders=20, seed=5))
    assert result["orders"]["online"] == 10 and result["orders"]["codes"] == 4
    assert result["orders"]["stall"] == 6 and result["orders"]["code_rescans_refused"] == 4
    assert (result["double_counted"], result["lost"], result["oversold"]) == (0, 0, 0)
    assert result["shop_available"] == bench_sync.INITIAL - 20 and result["counters"] == [bench_sync.INITIAL - 20] * 2
    assert result["measured"] == {"poll": 4, "webhook": 4, "stall": 10}  # every order seen burned, every sale confirmed
    assert "double_counted" in bench_sync.format_table(result)
