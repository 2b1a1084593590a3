"""The host's keys: one table drives both the shortcuts and the on-screen key map."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Binding:
    action: str  # MainWindow method name that handles it
    keys: tuple[str, ...]  # QKeySequence strings
    label: str  # what the host reads in the key map


BINDINGS: tuple[Binding, ...] = (
    Binding("sell", ("Space", "Return", "Enter"), "Sell one of the featured product"),
    Binding("undo", ("Backspace", "Ctrl+Z"), "Undo the last sale"),
    Binding("start_or_end", ("T",), "Start the timer / end the offer (asks first)"),
    Binding("extend", ("E",), "Extend the offer by 30 s"),
    Binding("adjust", ("A",), "Adjust stock of the featured product (asks first)"),
    Binding("clip", ("C",), "Save the last 30 s of the program (overlay included) as an MP4"),
    Binding("vertical_clip", ("Shift+C",), "Export a 9:16 clip of the last seconds ([clips] preset and caption)"),
    Binding("next_product", ("Tab",), "Feature the next product"),
    Binding("enter_viewers", ("V",), "Enter the viewer count (for the report's decision rate)"),
    Binding("enter_code", ("R",), "Redeem a sticker code: type it (a USB scanner needs no key: just scan)"),
    *(Binding(f"feature_{n}", (str(n),), f"Feature product {n}") for n in range(1, 10)),
    Binding("cycle_lock", ("L",), "Sources: automatic → stay on secondary → force primary"),
    Binding("reconnect", ("F5",), "Reconnect every source that is not live now"),
    Binding("toggle_health", ("H",), "Show / hide the tech lead's window (rig health, output, sources, messages)"),
    Binding("show_keys", ("F1", "?", "K"), "Show this key map"),
    Binding("toggle_fullscreen", ("F11",), "Full screen on / off"),
    Binding("quit", ("Ctrl+Q",), "Quit Booth"),
)


# How a key is written on its button (the keymap's own names are Qt's).
_SHOWN = {"Return": "Enter", "Backspace": "Backspace", "Space": "Space"}


def key_hint(action: str) -> str:
    """The key shown on the button for `action`: 'Space', 'T', 'F5', '1'."""
    for binding in BINDINGS:
        if binding.action == action:
            return _SHOWN.get(binding.keys[0], binding.keys[0])
    raise KeyError(f"no key is bound to {action!r}")


def keymap_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for display; the nine product keys fold into one row."""
    rows = []
    for b in BINDINGS:
        if b.action.startswith("feature_"):
            if b.action == "feature_1":
                rows.append(("1 … 9", "Feature product 1 to 9"))
            continue
        rows.append((" / ".join(b.keys), b.label))
    return rows
