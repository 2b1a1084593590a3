"""Dark, high-contrast, large type: the stall is dim and the host glances, never reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    window: str = "#101214"
    panel: str = "#1b1e22"
    text: str = "#f2f2f2"
    muted: str = "#a6adb4"
    sell: str = "#1f9d55"
    sell_pressed: str = "#157a41"
    neutral: str = "#2c3238"
    neutral_pressed: str = "#3b434b"
    amber: str = "#ffb000"
    red: str = "#ff3b30"
    green: str = "#33d17a"


PALETTE = Palette()


def stylesheet(p: Palette = PALETTE) -> str:
    return f"""
    QWidget {{ background: {p.window}; color: {p.text}; font-size: 18px; }}
    QPushButton {{
        background: {p.neutral}; color: {p.text}; border: none; border-radius: 10px;
        padding: 8px 14px; font-size: 21px; font-weight: 600; min-height: 46px;
    }}
    QPushButton:pressed {{ background: {p.neutral_pressed}; }}
    QPushButton:disabled {{ color: #5d656c; }}
    QPushButton#sell {{ background: {p.sell}; font-size: 34px; font-weight: 800; min-height: 96px; }}
    QPushButton#sell:pressed {{ background: {p.sell_pressed}; }}
    QPushButton#sku {{ font-size: 18px; min-height: 40px; text-align: left; }}
    QPushButton#sku[featured="true"] {{ border: 3px solid {p.text}; }}
    QLabel#message {{ font-size: 22px; font-weight: 700; padding: 4px 10px; border-radius: 8px; }}
    QLabel#message[severity="warn"] {{ background: {p.amber}; color: #111; }}
    QLabel#message[severity="error"] {{ background: {p.red}; color: #fff; }}
    QLabel#message[severity="info"] {{ background: {p.panel}; color: {p.text}; }}
    QLabel#status {{ color: {p.muted}; font-size: 16px; font-family: "DejaVu Sans Mono", monospace; }}
    QDialog, QMessageBox {{ background: {p.panel}; }}
    QDialog QLabel, QMessageBox QLabel {{ background: transparent; font-size: 20px; }}
    QSpinBox {{ font-size: 40px; min-height: 72px; padding: 4px 12px; background: {p.window}; }}
    QTableWidget {{ font-size: 20px; gridline-color: {p.neutral}; }}
    QHeaderView::section {{ background: {p.panel}; color: {p.muted}; border: none; padding: 6px; }}
    """
