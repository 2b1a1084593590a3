"""Store tests: real SQLite files in tmp_path, real `booth serve` processes on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from booth.core.config import BoothConfig, parse_config
from booth.store.session_log import SessionLog

DROP = {
    "drop": {"title": "Tee drop", "timer_seconds": 60, "last_call_seconds": 10},
    "sku": [
        {"id": "tee", "name": "TEE / BLACK", "stock": 10},
        {"id": "cap", "name": "CAP / RED", "stock": 4},
    ],
}


@pytest.fixture
def config() -> BoothConfig:
    return parse_config(DROP, "test.toml")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def open_log(tmp_path: Path) -> Iterator[Callable[..., SessionLog]]:
    """Start SessionLogs on tmp files; every one is closed (and its thread joined) afterwards."""
    logs: list[SessionLog] = []

    def make(path: Path | None = None, **kwargs: object) -> SessionLog:
        session_log = SessionLog(path or tmp_path / "log.sqlite3", **kwargs).start()  # type: ignore[arg-type]
        logs.append(session_log)
        return session_log

    yield make
    for session_log in logs:
        session_log.close()


class Recorder:
    """Collects callbacks from the writer thread; waits on a condition, never on a fixed sleep."""

    def __init__(self) -> None:
        import threading

        self.items: list[object] = []
        self._cond = threading.Condition()

    def add(self, item: object) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[object]], bool], timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.items), timeout)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
