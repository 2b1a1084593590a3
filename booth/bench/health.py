"""Rig monitors: CPU cost of all of them running, status refresh, time to flag a lost endpoint.

Runs the real monitors (psutil, PyAudio, TCP and HTTP probes) against an HTTP server in a
child process on 127.0.0.1. Then the server is frozen (SIGSTOP: connected, never answers,
like a pulled cable upstream) and killed (connections refused), and the time until the
snapshot says "unreachable" is measured for each.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from booth.audio.microphone import MicMonitor
from booth.core.health.network import EndpointState
from booth.core.health.settings import EndpointConfig, HealthConfig
from booth.core.health.snapshot import HealthSnapshot
from booth.devices.health_audio import PyAudioBackend
from booth.health.monitors import HealthMonitor

TARGETS = {"monitor_cpu_percent": 2.0, "status_refresh_ms": 500.0, "unreachable_flagged_s": 2.0}

_SERVER = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_HEAD(self):
        self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
    do_GET = do_HEAD
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=10.0, help="CPU measuring window (default 10)")
    parser.add_argument("--interval", type=float, default=0.5, help="probe interval in seconds (default 0.5)")


def _wait_state(monitor: HealthMonitor, name: str, state: EndpointState, limit_s: float = 10.0) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < limit_s:  # bounded poll of the latest-wins snapshot
        e = monitor.latest().endpoint(name)
        if e is not None and e.state is state:
            return time.monotonic() - start
        time.sleep(0.01)
    return None


def measure(args: argparse.Namespace) -> dict[str, Any]:
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        endpoints = (
            EndpointConfig("ingest", f"tcp://127.0.0.1:{port}", args.interval),
            EndpointConfig("shop", f"http://127.0.0.1:{port}/health", args.interval),
        )
        mic = MicMonitor(PyAudioBackend(), "")  # the rig's real microphone monitor (PortAudio), as in the app
        monitor = HealthMonitor.from_config(HealthConfig(endpoints=endpoints), drop_need_s=lambda: 900.0,
                                            mic=mic.status)  # fmt: skip
        stamps: list[float] = []
        costs: list[float] = []

        def on_snapshot(snapshot: HealthSnapshot) -> None:
            stamps.append(snapshot.taken_at)
            costs.append(monitor.last_refresh_cost_s)

        monitor.add_snapshot_listener(on_snapshot)
        mic.start()
        monitor.start()
        try:
            _wait_state(monitor, "shop", EndpointState.OK)
            threading.Event().wait(1.0)  # warm-up: PortAudio init, first psutil samples
            stamps.clear()
            costs.clear()
            t0, c0 = time.monotonic(), os.times()
            threading.Event().wait(args.seconds)
            t1, c1 = time.monotonic(), os.times()
            cpu = 100.0 * ((c1.user - c0.user) + (c1.system - c0.system)) / (t1 - t0)
            gaps = [b - a for a, b in itertools.pairwise(stamps)]
            latest = monitor.latest()
            tcp_rtt = latest.endpoint("ingest")
            http_rtt = latest.endpoint("shop")
            hang_s = refused_s = None
            if hasattr(signal, "SIGSTOP"):
                server.send_signal(signal.SIGSTOP)  # connected, never answers
                hang_s = _wait_state(monitor, "shop", EndpointState.UNREACHABLE)
                server.send_signal(signal.SIGCONT)
                _wait_state(monitor, "shop", EndpointState.OK)
            server.kill()
            server.wait(5)
            refused_s = _wait_state(monitor, "ingest", EndpointState.UNREACHABLE)
        finally:
            monitor.stop()
            mic.stop()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(5)
        if server.stdout is not None:
            server.stdout.close()

    def pct(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    flagged = max((v for v in (hang_s, refused_s) if v is not None), default=None)
    result: dict[str, Any] = {
        "monitor_cpu_percent": round(cpu, 2),
        "status_refresh_ms": round(pct(gaps, 0.95) * 1000, 1),
        "status_refresh_ms_max": round(max(gaps, default=float("nan")) * 1000, 1),
        "snapshot_build_ms_p95": round(pct(costs, 0.95) * 1000, 3),
        "snapshots": len(stamps),
        "tcp_probe_rtt_ms": round(tcp_rtt.srtt_s * 1000, 3) if tcp_rtt and tcp_rtt.srtt_s else None,
        "http_probe_rtt_ms": round(http_rtt.srtt_s * 1000, 3) if http_rtt and http_rtt.srtt_s else None,
        "hang_flagged_s": None if hang_s is None else round(hang_s, 3),
        "refused_flagged_s": None if refused_s is None else round(refused_s, 3),
        "unreachable_flagged_s": None if flagged is None else round(flagged, 3),
        "probe_interval_s": args.interval,
        "seconds": args.seconds,
        "cores": os.cpu_count(),
        "mic": latest.mic.state.value,
        "median_refresh_gap_ms": round(statistics.median(gaps) * 1000, 1) if gaps else None,
    }
    result["ok"] = (
        result["monitor_cpu_percent"] <= TARGETS["monitor_cpu_percent"]
        and result["status_refresh_ms"] <= TARGETS["status_refresh_ms"]
        and flagged is not None
        and flagged <= TARGETS["unreachable_flagged_s"]
    )
    return result


def format_table(r: dict[str, Any]) -> str:
    verdict = "meets targets" if r["ok"] else "MISSES a target"

    def f(v: Any, spec: str) -> str:
        return "n/a" if v is None else format(v, spec)

    return "\n".join(
        [
            f"health monitors, {r['seconds']:g} s on {r['cores']} cores, probes every {r['probe_interval_s']:g} s: "
            f"{verdict}",
            f"  monitor CPU           {r['monitor_cpu_percent']:8.2f} % of one core   (target ≤ 2)",
            f"  status refresh p95    {r['status_refresh_ms']:8.1f} ms   (target ≤ 500; max "
            f"{r['status_refresh_ms_max']:.1f})",
            f"  snapshot build p95    {r['snapshot_build_ms_p95']:8.3f} ms",
            f"  TCP / HTTP probe RTT  {f(r['tcp_probe_rtt_ms'], '8.3f')} / {f(r['http_probe_rtt_ms'], '.3f')} ms "
            "(loopback: the probes' own overhead)",
            f"  hang flagged after    {f(r['hang_flagged_s'], '8.3f')} s   (server frozen: SIGSTOP)",
            f"  refusal flagged after {f(r['refused_flagged_s'], '8.3f')} s   (server killed)",
            f"  microphone            {r['mic']}",
        ]
    )
