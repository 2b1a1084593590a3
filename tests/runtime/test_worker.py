from __future__ import annotations

import logging
import threading
import time

import pytest

from booth.runtime.worker import Worker, every
from tests.waiting import wait_until


def test_a_worker_runs_its_step_on_a_named_thread_until_stopped():
    names: list[str] = []
    worker = Worker("booth-test-step", lambda: names.append(threading.current_thread().name) or 0.001)
    worker.start()
    wait_until(lambda: len(names) >= 3, what="three steps")
    assert worker.stop()
    assert set(names) == {"booth-test-step"}
    assert not worker.running


def test_wake_ends_the_wait_at_once():
    steps: list[int] = []
    worker = Worker("booth-test-wake", lambda: steps.append(1) or 60.0).start()
    wait_until(lambda: steps, what="the first step")
    worker.wake()
    wait_until(lambda: len(steps) >= 2, timeout=2.0, what="a step after wake() (the wait was 60 s)")
    worker.stop()


def test_a_failing_step_is_logged_once_counted_and_told_to_the_host(caplog):
    failing = threading.Event()
    failing.set()

    def step() -> float:
        if failing.is_set():
            raise ValueError("bad frame size")
        return 60.0

    worker = Worker("booth-test-fail", step, "Program picture", retry_after_failure_s=0.001)
    with caplog.at_level(logging.ERROR, logger="booth.runtime.worker"):
        worker.start()
        try:
            wait_until(lambda: worker.failure is not None and worker.failure.count >= 3, what="three failures")
            assert worker.problem is not None
            assert worker.problem.startswith("Program picture stopped: ValueError: bad frame size")
            failing.clear()
            wait_until(lambda: worker.problem is None, what="the problem to clear once a step works")
        finally:
            worker.stop()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1  # the same failure again is counted, not logged with its traceback


def test_a_step_stuck_in_a_call_does_not_hold_stop_forever(caplog):
    release = threading.Event()
    worker = Worker("booth-test-stuck", lambda: release.wait(10) and 0.0, join_timeout_s=0.2).start()
    with caplog.at_level(logging.ERROR, logger="booth.runtime.worker"):
        assert worker.stop() is False
    assert "did not stop" in caplog.text
    release.set()


def test_every_keeps_a_fixed_rate():
    def work() -> None:  # a step that takes 0.1 s of the 0.5 s interval
        until = time.monotonic() + 0.1
        while time.monotonic() < until:
            pass

    step = every(0.5, work)
    before = time.monotonic()
    wait = step()
    took = time.monotonic() - before
    assert 0.5 - took <= wait <= 0.4  # the work's own time is taken off the wait, however long the machine took


def test_threads_must_be_named_for_booth():
    with pytest.raises(ValueError, match="booth-"):
        Worker("capture", lambda: 1.0)
