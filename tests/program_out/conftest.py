"""Program-out fixtures: the real program graph, real ingests on 127.0.0.1 (nginx with the
Debian RTMP module, a socket that accepts and never answers), started and killed by PID."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from booth.app.root import Booth, build_booth
from booth.bench.nginx_ingest import NginxRtmp
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from booth.core.output import OutputConfig, PolicyTimes
from booth.core.recording import RecordingConfig
from booth.program_out.program_out import ProgramOut
from tests.conftest import SolidSource

FAST = PolicyTimes(connect_timeout_s=3.0, stall_s=1.5, retry_s=(0.5, 1.0), stable_s=2.0)
SIZE = (640, 360)


@pytest.fixture
def nginx_factory(tmp_path: Path) -> Iterator[Callable[..., NginxRtmp]]:
    started: list[NginxRtmp] = []

    def make(name: str = "ingest", port: int | None = None, hls: bool = False) -> NginxRtmp:
        server = NginxRtmp(tmp_path / name, port, hls=hls)
        started.append(server)
        return server.start()

    yield make
    for server in started:
        server.kill()


class SilentPeer:
    """Accepts TCP connections and never answers: the RTMP peer that froze PyAV (PyAV#2400)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, name="booth-test-silent-peer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_peer() -> Iterator[SilentPeer]:
    peer = SilentPeer()
    yield peer
    peer.close()


@pytest.fixture
def program_booth(qapp) -> Iterator[Booth]:
    """The real program graph (capture, compositor with the burned-in overlay) at 640x360 30 fps."""
    config = demo_config()
    config = type(config)(
        drop=DropSpec("Test drop", (Sku("tee", "TEE / BLACK", 12),), timer_seconds=90, low_at=10, critical_at=3,
                     pre_sale=True),
        program=ProgramConfig(*SIZE, 30),
    )
    booth = build_booth(config, source=SolidSource(SIZE))
    booth.start()
    yield booth
    booth.stop()


@pytest.fixture
def make_output(program_booth: Booth, tmp_path: Path) -> Iterator[Callable[..., ProgramOut]]:
    services: list[ProgramOut] = []

    def make(times: PolicyTimes = FAST, recording: str | None = "rec", **settings: object) -> ProgramOut:
        defaults: dict[str, object] = {"bitrate_kbps": 1200, "keyframe_s": 1.0}
        config = OutputConfig(**{**defaults, **settings})  # type: ignore[arg-type]
        service = ProgramOut(
            config, program_booth.config.program, program_booth.program, recording=RecordingConfig(),
            recording_folder=tmp_path / recording if recording else None, clips_folder=tmp_path / "clips",
            times=times,
        )  # fmt: skip
        services.append(service)
        return service

    yield make
    for service in services:
        service.stop()
