"""Control API tests: the API as `booth serve` runs it (the composition root's parts), in-process,
over real HTTP on 127.0.0.1, against a real session log in a temporary data folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from booth.app.drop_parts import DropParts, add_drop_api, add_drop_clock, build_drop
from booth.app.lifecycle import Lifecycle
from booth.app.options import Options
from booth.drop.session import DropSession, start_drop_session
from tests.api.client import Client
from tests.browser import browser  # noqa: F401 - the headless chromium fixture
from tests.store.conftest import DROP, config, data_dir, open_log, recorder  # noqa: F401


@dataclass
class Served:
    parts: DropParts
    session: DropSession
    client: Client

    @property
    def port(self) -> int:
        assert self.parts.api is not None and self.parts.api.port is not None
        return self.parts.api.port

    @property
    def token(self) -> str:
        assert self.parts.api is not None
        return self.parts.api.token

    def stop(self) -> None:
        self.parts.stop()


def serve_drop(data_dir: Path, config, start_timer: bool = True, resume: bool = True,  # noqa: F811
               commit_timeout_s: float = 5.0) -> Served:  # fmt: skip
    session = start_drop_session(data_dir, config, resume=resume)
    parts = build_drop(config, Lifecycle(), session=session)
    add_drop_clock(parts)
    add_drop_api(parts, Options(api_port=0, data_dir=data_dir), commit_timeout_s)
    if start_timer and session.controller.view().phase.value == "ready":
        session.controller.start_timer()
    parts.start()
    assert parts.api is not None and parts.api.port is not None, parts.problems
    return Served(parts, session, Client(parts.api.port, parts.api.token))


@pytest.fixture
def serve(data_dir: Path, config) -> Iterator[Callable[..., Served]]:  # noqa: F811
    """Start drops the way `booth serve` does; each is stopped (threads joined) at the end."""
    started: list[Served] = []

    def make(**kwargs: object) -> Served:
        served = serve_drop(data_dir, config, **kwargs)  # type: ignore[arg-type]
        started.append(served)
        return served

    yield make
    for served in reversed(started):
        served.stop()


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    return serve()


@pytest.fixture
def api(served: Served) -> Client:
    return served.client
