"""Program-out fixtures: the real program graph, real ingests on 127.0.0.1 (nginx with the
Debian RTMP module, a socket that accepts and never answers), started and killed by PID."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from booth.app.root import Booth, build_booth
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from booth.core.output import OutputConfig, PolicyTimes
from booth.core.recording import RecordingConfig
from booth.program_out.program_out import ProgramOut
from tests.conftest import SolidSource
from tests.senders import free_port
from tests.waiting import wait_until

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
FAST = PolicyTimes(connect_timeout_s=3.0, stall_s=1.5, retry_s=(0.5, 1.0), stable_s=2.0)
SIZE = (640, 360)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class NginxRtmp:
    """nginx in one process (master_process off), so killing its PID ends the ingest for real.

    `live` records every published stream into `record_dir`; `locked` refuses publishing, the
    way a platform refuses a wrong stream key (it just closes the connection).
    """

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.record_dir = root / "rec"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, app: str = "live", key: str = "sk_live_0123456789") -> str:
        return f"rtmp://127.0.0.1:{self.port}/{app}/{key}"

    def start(self) -> NginxRtmp:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists() or not RTMP_MODULE.exists():
            pytest.skip("nginx with libnginx-mod-rtmp is installed by packaging/bootstrap.py test")
        self.root.mkdir(parents=True, exist_ok=True)
        self.record_dir.mkdir(exist_ok=True)
        user = "user root;" if os.geteuid() == 0 else ""  # nginx as root would switch to nobody
        conf = self.root / "nginx.conf"
        conf.write_text(f"""
load_module {RTMP_MODULE};
daemon off;
master_process off;
{user}
worker_processes 1;
pid {self.root}/nginx.pid;
error_log {self.root}/error.log info;
events {{ worker_connections 64; }}
rtmp {{
  server {{
    listen 127.0.0.1:{self.port};
    application live {{ live on; record all; record_path {self.record_dir}; record_unique on; }}
    application locked {{ live on; deny publish all; }}
  }}
}}
""")
        self.proc = subprocess.Popen(
            [nginx, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_until(lambda: port_open(self.port) or self.proc.poll() is not None, 10, "nginx to listen")
        assert self.proc.poll() is None, f"nginx did not start: {self.proc.stderr.read().decode()[-500:]}"
        return self

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(10)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    def recordings(self) -> list[Path]:
        return sorted(self.record_dir.glob("*.flv"))

    def received_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.recordings())


@pytest.fixture
def nginx_factory(tmp_path: Path) -> Iterator[Callable[..., NginxRtmp]]:
    started: list[NginxRtmp] = []

    def make(name: str = "ingest", port: int | None = None) -> NginxRtmp:
        server = NginxRtmp(tmp_path / name, port).start()
        started.append(server)
        return server

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
