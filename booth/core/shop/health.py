"""Sync health: is Booth still hearing from the shop, and does the counter agree with it?

Fed by the sync threads with injected monotonic times; `alerts(now)` gives sentences for the host line
(at most one per kind), `status_line(now)` the age of the last sync for the host line.
"""

from __future__ import annotations

from dataclasses import dataclass

OVERSOLD_SHOWN_S = 120.0  # an oversell stays on the host's line this long (it is in the report for good)


@dataclass(frozen=True)
class SyncAlert:
    severity: str  # info | warn | critical
    what: str  # stale | unreachable | throttled | auth | discrepancy
    message: str


@dataclass
class SyncHealth:
    stale_after_s: float
    started_at: float
    last_news_at: float | None = None  # a trusted poll answer or an accepted webhook
    last_sync_at: float | None = None  # any good answer from the shop
    failing_since: float | None = None
    last_error: str = ""
    error_kind: str = ""  # unreachable | throttled | auth
    queued_writes: int = 0
    budget_used_per_poll: float | None = None  # points one poll costs (extensions.cost.actualQueryCost)
    budget_left: float | None = None
    budget_max: float | None = None
    restore_rate: float | None = None
    setup_problem: str = ""  # the drop's products could not be found at the shop (a sentence)
    rehearsal: bool = False  # the shop is read, never written: stall sales stay here (shadow stock)
    oversold_message: str = ""
    oversold_at: float | None = None
    stale_since: float | None = None  # a stale-alarm episode is on (journaled once when it starts)

    def news(self, now: float) -> None:
        self.last_news_at = now
        self.synced(now)

    def synced(self, now: float) -> None:
        self.last_sync_at = now
        self.failing_since = None
        self.last_error = self.error_kind = ""

    def failed(self, now: float, kind: str, message: str) -> None:
        if self.failing_since is None:
            self.failing_since = now
        self.error_kind, self.last_error = kind, message

    def cost(self, used: float | None, left: float | None, maximum: float | None,
             restore_rate: float | None = None) -> None:  # fmt: skip
        if used is not None:
            self.budget_used_per_poll = used
        self.budget_left, self.budget_max = left, maximum
        if restore_rate:
            self.restore_rate = restore_rate

    def oversold(self, now: float, message: str) -> None:
        self.oversold_message, self.oversold_at = message, now

    def quiet_for(self, now: float) -> float:
        since = self.last_news_at if self.last_news_at is not None else self.started_at
        return max(0.0, now - since)

    def budget_share(self, poll_seconds: float) -> float | None:
        """The share of the shop's restore rate the polling spends (0.03 = 3 %)."""
        if self.budget_used_per_poll is None or not self.restore_rate or poll_seconds <= 0:
            return None
        return self.budget_used_per_poll / poll_seconds / self.restore_rate

    def sync_age(self, now: float) -> float | None:
        return None if self.last_sync_at is None else max(0.0, now - self.last_sync_at)

    def status_line(self, now: float) -> str:
        age = self.sync_age(now)
        text = "shop: not synced yet" if age is None else f"shop synced {age:.0f} s ago"
        if self.rehearsal:
            text += f" · REHEARSAL: read only, {self.queued_writes} stall sale(s) kept here (shadow stock)"
        elif self.queued_writes:
            text += f", {self.queued_writes} stall sale(s) waiting to reach it"
        return text

    def alerts(self, now: float, live: bool, displayed: dict[str, int] | None = None,
               shop_left: dict[str, int] | None = None, names: dict[str, str] | None = None) -> list[SyncAlert]:
        """What the host should know now. `displayed` vs `shop_left`: the overlay's number vs the ledger's."""
        alerts: list[SyncAlert] = []
        if self.oversold_at is not None and now - self.oversold_at < OVERSOLD_SHOWN_S:
            alerts.append(SyncAlert("critical", "oversold", self.oversold_message))
        if self.setup_problem:
            alerts.append(SyncAlert("critical", "setup", self.setup_problem))
        if self.failing_since is not None:
            down_s = now - self.failing_since
            severity = "critical" if self.error_kind == "auth" or (live and down_s >= self.stale_after_s) else "warn"
            queued = f"; {self.queued_writes} stall sale(s) queued" if self.queued_writes else ""
            alerts.append(SyncAlert(severity, self.error_kind or "unreachable",
                                    f"{self.last_error} (for {down_s:.0f} s{queued})."))  # fmt: skip
        if live:
            quiet = self.quiet_for(now)
            if quiet >= self.stale_after_s:
                alerts.append(SyncAlert("critical", "stale",
                                        f"No stock news from the shop for {quiet:.0f} s: the counter may be behind "
                                        "online sales."))  # fmt: skip
        for sku, shown in (displayed or {}).items():
            truth = (shop_left or {}).get(sku)
            if truth is not None and shown > truth:
                name = (names or {}).get(sku, sku)
                alerts.append(SyncAlert("warn", "discrepancy",
                                        f"The counter shows {shown} × {name}, the shop can sell {truth}."))  # fmt: skip
        return alerts
