"""A real RTMP ingest on 127.0.0.1 for tests and benchmarks: nginx with Debian's RTMP module.

nginx runs as one process (master_process off), so killing its PID ends the ingest for real.
The `live` application records every published stream into `record_dir` and, with `hls`, also
serves it the way a platform's player gets it: HLS fragments written by nginx-rtmp and served by
nginx's own HTTP server (`hls_url(key)`); RTMP pull of the same stream is `url(key)`. `locked`
refuses publishing, the way a platform refuses a wrong stream key (it just closes the connection).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
START_TIMEOUT_S = 10.0


class NginxMissing(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class NginxRtmp:
    def __init__(self, root: Path, port: int | None = None, hls: bool = False, fragment_s: float = 1.0) -> None:
        self.root = root
        self.port = port or free_port()
        self.http_port = free_port() if hls else None
        self.fragment_s = fragment_s
        self.record_dir = root / "rec"
        self.hls_dir = root / "hls"
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, app: str = "live", key: str = "sk_live_0123456789") -> str:
        return f"rtmp://127.0.0.1:{self.port}/{app}/{key}"

    def hls_url(self, key: str = "sk_live_0123456789") -> str:
        if self.http_port is None:
            raise ValueError("this ingest was started without HLS")
        return f"http://127.0.0.1:{self.http_port}/hls/{key}.m3u8"

    def config(self) -> str:
        user = "user root;" if os.geteuid() == 0 else ""  # nginx as root would switch to nobody
        hls = ""
        http = ""
        if self.http_port is not None:
            hls = (f"hls on; hls_path {self.hls_dir}; hls_fragment {self.fragment_s:g}s; "
                   f"hls_playlist_length {max(4, 4 * self.fragment_s):g}s;")  # fmt: skip
            temp = self.root / "tmp"
            http = f"""
http {{
  access_log off;
  client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
  server {{
    listen 127.0.0.1:{self.http_port};
    location /hls/ {{
      types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
      alias {self.hls_dir}/;
      add_header Cache-Control no-cache;
    }}
  }}
}}"""
        return f"""
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
    application live {{ live on; record all; record_path {self.record_dir}; record_unique on; {hls} }}
    application locked {{ live on; deny publish all; }}
  }}
}}
{http}
"""

    def start(self) -> NginxRtmp:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists() or not RTMP_MODULE.exists():
            raise NginxMissing("nginx with libnginx-mod-rtmp is needed (packaging/bootstrap.py test installs it)")
        for folder in (self.root, self.record_dir, self.hls_dir, self.root / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        conf = self.root / "nginx.conf"
        conf.write_text(self.config())
        self.proc = subprocess.Popen(
            [nginx, "-p", str(self.root), "-c", str(conf), "-e", str(self.root / "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        ports = [self.port] + ([self.http_port] if self.http_port is not None else [])
        while not all(port_open(p) for p in ports):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                error = self.proc.stderr.read().decode(errors="replace")[-500:] if self.proc.stderr else ""
                self.kill()
                raise RuntimeError(f"nginx did not start: {error or 'no port open in time'}")
            time.sleep(0.05)  # polling interval of a bounded wait for the ports to open
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
