"""Traps measured on this stack; each guard fails loudly if a dependency brings one back."""

from __future__ import annotations

import importlib.metadata
import sys

from PySide6.QtCore import QObject, Signal


def test_signal_emits_do_not_leak_references_to_true(qapp):
    # PySide6 6.12.0 on Python 3.11 drops a reference to True on every emit and aborts the
    # process (Fatal Python error: bool_dealloc) after about a thousand of them.
    class Emitter(QObject):
        fired = Signal(int)

    emitter = Emitter()
    received = []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for i in range(10_000):
        emitter.fired.emit(i)
    assert len(received) == 10_000
    assert before - sys.getrefcount(True) < 100


def test_pyside6_is_pinned_below_the_broken_release():
    major, minor = (int(p) for p in importlib.metadata.version("PySide6-Essentials").split(".")[:2])
    assert (6, 10) <= (major, minor) < (6, 12)


def test_only_the_headless_opencv_is_installed():
    # opencv-python bundles Qt 5 plugins and sets QT_QPA_PLATFORM_PLUGIN_PATH on import.
    names = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert "opencv-python-headless" in names
    assert "opencv-python" not in names


def test_the_timer_watch_names_a_timer_left_running(qapp, monkeypatch):
    from PySide6.QtCore import QTimer

    from tests.leaks import TimerWatch

    watch = TimerWatch(monkeypatch)
    stopped, running = QTimer(), QTimer()
    stopped.start(50)
    stopped.stop()
    running.start(250)
    assert watch.stop_leaked() == ["QTimer every 250 ms (parent None)"]
    assert not running.isActive()
