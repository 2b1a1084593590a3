"""`booth bench api` runs end to end on a small budget (its figures are targets for the bench, not here)."""

from __future__ import annotations

import argparse

from booth.bench.api import format_table, measure


def test_the_api_bench_sells_out_without_overselling() -> None:
    result = measure(argparse.Namespace(sales=20, stock=80, scrapes=5))
    assert result["oversold"] == 0 and result["stock_left_matches"]
    assert result["concurrent_acked"] == 80 and result["concurrent_refused"] > 0  # more attempts than stock
    assert result["clean_exit"]
    assert "sales/s, 8 clients" in format_table(result)
