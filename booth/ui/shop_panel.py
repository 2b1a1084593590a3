"""The shop on screen: the host's SHOP pill (age of the last sync, stall sales waiting, the worst sync
alert) and the tech lead's Shop tab (every product against the shop, the poll's budget, every alert).

Passive like the other panels: the window pulls `ShopStatus` on its status timer (the status is an
immutable snapshot; reading it takes no I/O).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from booth.ui.state_pills import Look
from booth.ui.theme import PALETTE

if TYPE_CHECKING:
    from booth.shop.sync import ShopStatus


class ShopView(Protocol):
    """What the window reads from the shop part (booth.app.shop_part.ShopPart)."""

    problem: str

    def status(self) -> ShopStatus | None: ...
    def confirms_first(self, sku_id: str) -> bool: ...
    def sell_later(self, sku_id: str, qty: int = 1, origin: str = "host") -> bool: ...
    def redeem_later(self, text: str) -> bool: ...
    def on_redeemed(self, listener: Callable[..., None]) -> None: ...


def shop_look(status: ShopStatus | None, problem: str = "") -> Look:
    """The SHOP pill: green when in step, amber while sales wait or the shop is slow, red when it is lost."""
    if status is None:
        return ("SHOP · NOT CONNECTED", PALETTE.red, "#ffffff") if problem else ("NO SHOP", PALETTE.neutral,
                                                                                 PALETTE.muted)  # fmt: skip
    alerts = status.alerts
    worst = "critical" if any(a.severity == "critical" for a in alerts) else \
        "warn" if any(a.severity == "warn" for a in alerts) else ""  # fmt: skip
    age, queued = status.sync_age_s, status.queued
    if status.rehearsal:
        return f"SHOP · REHEARSAL · {queued} kept here", PALETTE.neutral, PALETTE.text
    if not status.connected and age is None:
        return "SHOP · CONNECTING…", PALETTE.red if worst == "critical" else PALETTE.neutral, PALETTE.text
    text = "SHOP · " + ("not synced" if age is None else f"synced {age:.0f} s ago")
    if queued:
        text += f" · {queued} waiting"
    if worst == "critical":
        return text, PALETTE.red, "#ffffff"
    if worst == "warn" or queued:
        return text, PALETTE.amber, "#111111"
    return text, PALETTE.panel, PALETTE.green


class ShopPanel(QWidget):
    """The tech lead's Shop tab."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shopPanel")
        self.setStyleSheet(
            f"QWidget#shopPanel {{ background: {PALETTE.window}; }}"
            f"QLabel {{ color: {PALETTE.text}; font-size: 16px; background: transparent; }}"
        )
        self.summary = QLabel()
        self.products = QLabel()
        self.budget = QLabel()
        self.alerts = QLabel()
        layout = QVBoxLayout(self)
        for label in (self.summary, self.products, self.budget, self.alerts):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
        layout.addStretch(1)
        self.set_status(None)

    def set_status(self, status: ShopStatus | None, problem: str = "") -> None:
        esc = html.escape
        if status is None:
            self.summary.setText(esc(problem or "This drop has no [shop] section: stock is counted here only."))
            for label in (self.products, self.budget, self.alerts):
                label.setText("")
            return
        mode = " — REHEARSAL: the shop is read, never written (shadow stock)" if status.rehearsal else ""
        self.summary.setText(f"<b>{esc(status.domain)}</b>{esc(mode)}<br>{esc(status.line)}")
        rows = ["<tr><th align=left>product</th><th>counter</th><th>quota</th><th>sold since start</th>"
                "<th>shop has</th><th>floor</th><th>unconfirmed</th></tr>"]
        for item in status.items:
            shop = "—" if item.shop_available is None else str(item.shop_available)
            floor = f"{item.floor} ({esc(item.pool)})" if item.pool else str(item.floor)
            flag = f' <span style="color:{PALETTE.red}">OVERSOLD</span>' if item.oversold else ""
            rows.append(f"<tr><td>{esc(item.name)}{flag}</td><td align=center><b>{item.left}</b></td>"
                        f"<td align=center>{item.quota}</td><td align=center>{item.drawn}</td>"
                        f"<td align=center>{shop}</td><td align=center>{floor}</td>"
                        f"<td align=center>{item.pending}</td></tr>")
        self.products.setText(f"<table cellspacing=6>{''.join(rows)}</table>")
        self.budget.setText(budget_text(status))
        alerts = status.alerts
        colours = {"critical": PALETTE.red, "warn": PALETTE.amber, "info": PALETTE.muted}
        self.alerts.setText("<br>".join(f'<span style="color:{colours.get(a.severity, PALETTE.text)}">●</span> '
                                        f"{esc(a.message)}" for a in alerts) or "No sync alerts.")  # fmt: skip


def budget_text(status: ShopStatus) -> str:
    """How much of the shop's query budget the polling uses, in words and numbers."""
    cost = status.poll_cost_points
    if cost is None:
        return "Budget: no poll answered yet."
    share, rate = status.budget_share, status.restore_rate
    left, most = status.budget_left, status.budget_max
    text = f"Budget: one poll costs {cost:g} points every {status.poll_seconds:g} s"
    if share is not None and rate:
        text += f" = {share:.0%} of the {rate:g} points/s the shop restores"
    if left is not None and most:
        text += f"; {left:g} of {most:g} points available now"
    text += f". Calls {status.calls}, throttled {status.throttled}."
    return text
