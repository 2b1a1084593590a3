"""The control API as a lifecycle part: what the API may drive, its token, its address.

The GUI (`add_rig`) hands in the drop, the switcher, program out and the full metrics; `booth serve`
hands in the drop and the drop's metrics. The API is added last, so it is the first part to stop:
no call reaches a part that is already gone.

FastAPI and uvicorn are imported only when the part starts (half a second of imports that
`booth --help`, `booth report` and the tests that need no API never pay).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from booth.app.lifecycle import Lifecycle
from booth.app.options import Options
from booth.core.events import Request
from booth.drop.controller import DropController
from booth.drop.session import DropSession
from booth.ops.metrics import MetricsSources, make_registry
from booth.store import kinds
from booth.store.db import StoreError
from booth.store.paths import resolve_data_dir

log = logging.getLogger(__name__)


@dataclass
class ControlApi:
    """The running API (None until started): `url`, `port`, `token` for the tech-lead view."""

    server: Any = None  # booth.api.server.ApiServer
    token: str = ""
    host: str = "127.0.0.1"
    lan: list[str] = field(default_factory=list)  # this machine's network addresses, read at start

    @property
    def url(self) -> str | None:
        return self.server.url if self.server is not None else None

    @property
    def port(self) -> int | None:
        return self.server.port if self.server is not None else None

    @property
    def phone_host(self) -> str | None:
        """The address a phone on the network opens; None while the API listens on this machine only."""
        if is_loopback(self.host):
            return None
        if self.host in ("0.0.0.0", "::"):
            return self.lan[0] if self.lan else None
        return self.host

    def page_url(self, page: str, host: str | None = None) -> str:
        """A page of this API with the token in its #fragment (never sent over the network)."""
        name = host or ("127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host)
        name = f"[{name}]" if ":" in name else name
        return f"http://{name}:{self.port}/{page}#token={self.token}"

    def phone_note(self) -> str:
        if self.phone_host is not None:
            return ""
        hint = f" (this laptop: {', '.join(self.lan[:2])})" if self.lan else ""
        return ("Booth listens on this machine only, so a phone cannot open this yet: start Booth with "
                f"--api-host and this laptop's address on the stall's network{hint}.")  # fmt: skip


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_warning(url: str) -> str:
    return (f"The control API is open to the network at {url}: anyone on this network who has the "
            "token can sell, undo and cut. Use it only on a network you trust; without --api-host it "
            "stays on this machine.")  # fmt: skip


def add_control_api(
    lifecycle: Lifecycle,
    problems: list[str],
    options: Options,
    controller: DropController,
    session: DropSession | None,
    metrics: MetricsSources,
    sources: Any = None,
    output: Any = None,
    corner: str = "bottom-left",
    commit_timeout_s: float = 5.0,
    shop: Any = None,
) -> ControlApi | None:
    """`--api-port` (None: no API). Problems starting it become standing sentences, never a crash."""
    if options.api_port is None:
        return None
    api = ControlApi(host=options.api_host)
    port, host = options.api_port, options.api_host

    def start() -> None:
        from booth.api.token import TokenError, load_or_create_token

        try:
            api.token = load_or_create_token(resolve_data_dir(options.data_dir))
        except (TokenError, OSError) as exc:
            problems.append(f"Control API not started: {exc}")
            return
        from booth.api.app import build_app
        from booth.api.ports import ApiPorts
        from booth.api.server import ApiServer

        ports = ApiPorts(
            controller, sources=sources, output=output, metrics=make_registry(metrics), corner=corner,
            commit_timeout_s=commit_timeout_s, shop=shop,
            viewers=_viewers(session), record_call=_call_recorder(session),
            recovered_calls=[(c.request, c.answer) for c in session.opened.recovered_calls] if session else [],
        )  # fmt: skip
        server: ApiServer | None = None
        app, hub = build_app(ports, lambda: api.token, lambda: server.port if server else port)
        server = ApiServer(app, host=host, port=port, on_stopping=hub.close)
        try:
            api.server = server.start()
        except OSError as exc:
            message = f"Control API not started: {host}:{port} is not available ({exc.strerror or exc})."
            if session is None:
                problems.append(message)
                return
            raise StoreError(message) from None
        from booth.devices.addresses import lan_addresses

        api.lan = lan_addresses()
        if not is_loopback(host):
            warning = lan_warning(server.url)
            log.warning("%s", warning)
            problems.append(warning)

    def stop() -> None:
        if api.server is not None:
            api.server.stop()

    def standing() -> list[str]:
        problem = api.server.problem if api.server is not None else None
        return [problem] if problem else []

    lifecycle.add("control API", start, stop, standing)
    return api


def _viewers(session: DropSession | None) -> Callable[[int], None] | None:
    if session is None:
        return None
    log_ = session.log
    return lambda count: log_.record(kinds.VIEWERS, {"count": count, "origin": "api"})


def _call_recorder(session: DropSession | None) -> Callable[..., None] | None:
    if session is None:
        return None
    log_ = session.log

    def record(request: Request, answer: dict[str, Any], on_committed: Callable[[], None],
               on_failed: Callable[[str], None]) -> None:  # fmt: skip
        log_.record(kinds.API_CALL, answer, on_committed=on_committed, request=request, on_failed=on_failed)

    return record
