"""Dark, high-contrast, large type: the stall is dim and the host glances, never reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    window: str = "#101214"
    panel: str = "#1b1e22"
    text: str = "#f2f2f2"
    muted: str = "#a6adb4"
    key: str = "#b9c2cb"  # the key printed under a button's label
    disabled: str = "#6b737b"
    sell: str = "#1f9d55"
    sell_pressed: str = "#157a41"
    neutral: str = "#2c3238"
    neutral_pressed: str = "#3b434b"
    selected: str = "#dfe7ef"  # a chosen state (the active lock): light on dark, the one that stands out
    amber: str = "#ffb000"
    red: str = "#ff3b30"
    green: str = "#33d17a"
    ok_back: str = "#1d5c3a"  # good news on the message line: green, never red


PALETTE = Palette()


def stylesheet(p: Palette = PALETTE) -> str:
    return f"""
    QWidget {{ background: {p.window}; color: {p.text}; font-size: 18px; }}
    QPushButton {{
        background: {p.neutral}; color: {p.text}; border: none; border-radius: 10px;
        padding: 2px 8px; font-size: 19px; font-weight: 700; min-height: 40px;
    }}
    QPushButton:pressed {{ background: {p.neutral_pressed}; }}
    QPushButton:disabled {{ color: {p.disabled}; background: #1f2327; }}
    QPushButton#sell {{ background: {p.sell}; font-size: 32px; font-weight: 800; min-height: 62px; }}
    QPushButton#sell:pressed {{ background: {p.sell_pressed}; }}
    QPushButton#sell:disabled {{ background: {p.neutral}; color: {p.muted}; border: 2px dashed {p.disabled}; }}
    QPushButton#sku {{ font-size: 17px; min-height: 30px; border: 3px solid {p.neutral}; }}
    QPushButton#sku[featured="true"] {{ border: 3px solid {p.text}; }}
    QPushButton#lock {{ font-size: 15px; min-height: 40px; padding: 2px 3px; }}
    QPushButton#lock:checked {{ background: {p.selected}; color: #111; border: 3px solid #ffffff; }}
    QPushButton#lock[override="true"]:checked {{ background: {p.amber}; color: #111; border: 3px solid #ffffff; }}
    QLabel#message {{ font-size: 20px; font-weight: 700; padding: 3px 10px; border-radius: 8px; }}
    QLabel#message[severity="warn"] {{ background: {p.amber}; color: #111; }}
    QLabel#message[severity="error"] {{ background: {p.red}; color: #fff; }}
    QLabel#message[severity="ok"] {{ background: {p.ok_back}; color: #fff; }}
    QLabel#message[severity="info"] {{ background: {p.panel}; color: {p.text}; }}
    QLabel#status {{ color: {p.muted}; font-size: 15px; font-family: "DejaVu Sans Mono", monospace; }}
    QLabel#pill {{ font-size: 16px; font-weight: 800; padding: 1px 10px; border-radius: 8px; min-height: 26px; }}
    QLabel#sourceRole {{ font-size: 16px; font-weight: 800; color: {p.muted}; }}
    QLabel#sourceState {{ font-size: 17px; font-weight: 700; }}
    QLabel#sourceLabel {{ font-size: 15px; color: {p.muted}; }}
    QLabel#onProgram {{ font-size: 16px; font-weight: 800; }}
    QDialog, QMessageBox {{ background: {p.panel}; }}
    QDialog QLabel, QMessageBox QLabel {{ background: transparent; font-size: 20px; }}
    QDialog QPushButton:default, QMessageBox QPushButton:default {{ border: 3px solid {p.text}; }}
    QSpinBox {{ font-size: 40px; min-height: 72px; padding: 4px 12px; background: {p.window}; }}
    QTableWidget, QListWidget {{ font-size: 17px; gridline-color: {p.neutral}; }}
    QHeaderView::section {{ background: {p.panel}; color: {p.muted}; border: none; padding: 6px; }}
    QTabBar::tab {{ background: {p.panel}; color: {p.muted}; padding: 8px 16px; font-weight: 700; }}
    QTabBar::tab:selected {{ background: {p.neutral}; color: {p.text}; }}
    QScrollArea {{ border: none; }}
    """
