"""The drop controller's receipts: a keyed request is decided once, whatever the retries."""

from __future__ import annotations

from collections.abc import Callable

from booth.core.clock import ManualClock
from booth.core.drop import DropSpec, Sku
from booth.core.events import DropEvent, Request
from booth.drop.controller import DropController


class HeldJournal:
    """A journal that commits or fails only when the test says so (a slow or broken disk)."""

    def __init__(self) -> None:
        self.waiting: list[tuple[DropEvent, Callable, Callable]] = []

    def append(self, event, on_committed, on_failed) -> None:
        self.waiting.append((event, on_committed, on_failed))

    def commit_all(self) -> None:
        for event, committed, _ in self.waiting:
            committed(event)
        self.waiting.clear()

    def fail_all(self, reason: str) -> None:
        for event, _, failed in self.waiting:
            failed(event, reason)
        self.waiting.clear()


def controller(journal=None) -> DropController:
    spec = DropSpec("Drop", (Sku("tee", "TEE", 5),), pre_sale=True)
    return DropController(spec, ManualClock(), journal)


def test_a_retry_while_the_first_is_still_on_its_way_to_disk_gets_the_same_receipt() -> None:
    journal = HeldJournal()
    drop = controller(journal)
    first = drop.sell("tee", 2, request=Request("k", "d"))
    again = drop.sell("tee", 2, request=Request("k", "d"))
    assert again.replayed and again.receipt is first.receipt and len(journal.waiting) == 1
    assert not first.receipt.settled
    seen = []
    first.receipt.when_settled(seen.append)
    journal.commit_all()
    assert seen == [first.receipt] and first.receipt.committed and first.receipt.left == 3
    assert drop.view().sku("tee").left == 3


def test_a_request_the_journal_could_not_store_is_forgotten_and_its_retry_sells() -> None:
    journal = HeldJournal()
    drop = controller(journal)
    first = drop.sell("tee", request=Request("k", "d"))
    journal.fail_all("the disk reported an error")
    assert first.receipt.failed == "the disk reported an error" and drop.receipt("k") is None
    retry = drop.sell("tee", request=Request("k", "d"))
    assert not retry.replayed
    journal.commit_all()
    assert drop.view().sku("tee").left == 4


def test_a_refusal_is_kept_for_its_key() -> None:
    drop = controller()
    drop.sell("tee", 5)
    refused = drop.sell("tee", request=Request("late", "d"))
    assert refused.refusal is not None and refused.receipt.settled
    drop.adjust_stock("tee", 3)
    again = drop.sell("tee", request=Request("late", "d"))
    assert again.replayed and again.refusal == refused.refusal and drop.view().sku("tee").left == 3


def test_replayed_events_give_their_keys_back_with_the_stock_after_each() -> None:
    first = controller()
    first.sell("tee", 2, request=Request("a", "d1"))
    first.sell("tee", 1)
    first.sell("tee", 1, request=Request("b", "d2"))
    resumed = controller()
    resumed.replay(first.events())
    assert [resumed.receipt(k).left for k in ("a", "b")] == [3, 1]
    assert resumed.sell("tee", 2, request=Request("a", "d1")).replayed
    assert resumed.view().sku("tee").left == 1


def test_compare_and_set_refuses_a_stale_expected_stock() -> None:
    drop = controller()
    drop.sell("tee")
    stale = drop.adjust_stock("tee", 9, expected=5)
    assert stale.refusal.message == "TEE has 4 left, not 5: read the stock again first."
    assert drop.adjust_stock("tee", 9, expected=4).accepted
