"""Probes against real servers on 127.0.0.1: healthy, slow, dropping, garbage, hanging, refusing."""

from __future__ import annotations

import logging

import pytest

from booth.core.health.network import EndpointState
from booth.core.health.settings import EndpointConfig
from booth.devices.health_probes import HttpProbe, TcpProbe, make_probe
from booth.health.monitors import ProbeMonitor

from .servers import FullBacklog, ModeServer, refused_port, wait_until


@pytest.fixture
def server():
    servers: list[ModeServer] = []

    def start(mode: str = "http-ok", delay_s: float = 0.3) -> ModeServer:
        servers.append(ModeServer(mode, delay_s))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def test_tcp_probe_healthy_and_refused(server):
    s = server()
    ok = TcpProbe("ingest", "127.0.0.1", s.port).probe()
    assert ok.ok and ok.rtt_s is not None and ok.rtt_s < 0.75
    refused = TcpProbe("ingest", "127.0.0.1", refused_port()).probe()
    assert not refused.ok and refused.error == "connection refused"


def test_tcp_probe_times_out_on_a_full_backlog():
    hole = FullBacklog()
    try:
        result = TcpProbe("ingest", "127.0.0.1", hole.port, timeout_s=0.3).probe()
    finally:
        hole.close()
    assert not result.ok and result.error == "timed out after 0.3 s"


def test_dns_failure_is_a_sentence():
    result = TcpProbe("ingest", "no-such-host.invalid", 1935).probe()
    assert not result.ok and result.error == "DNS lookup failed for no-such-host.invalid"


@pytest.mark.parametrize(
    ("mode", "ok", "error"),
    [
        ("http-ok", True, {None}),
        ("http-slow", True, {None}),
        ("http-500", False, {"server error HTTP 503"}),
        # closing before reading the request gives a FIN or a RST, depending on timing
        ("close", False, {"the server closed the connection or sent garbage instead of HTTP", "connection reset"}),
        ("garbage", False, {"the server closed the connection or sent garbage instead of HTTP"}),
        ("hang", False, {"no HTTP answer within 0.4 s"}),
    ],
)
def test_http_probe_modes(server, mode, ok, error):
    s = server(mode, delay_s=0.1)
    probe = HttpProbe("shop", s.url, timeout_s=0.4)
    try:
        result = probe.probe()
    finally:
        probe.close()
    assert result.ok is ok, result
    assert result.error in error
    if mode == "http-slow":
        assert result.rtt_s is not None and result.rtt_s >= 0.1  # the server's delay is in the RTT


def test_http_refused_and_secret_never_logged(server, caplog):
    caplog.set_level(logging.DEBUG)
    port = refused_port()
    endpoint = EndpointConfig("shop", f"http://127.0.0.1:{port}/health?token=SECRET-TOKEN-123", timeout_s=0.4)
    probe = make_probe(endpoint)
    assert "SECRET-TOKEN-123" not in probe.label and "SECRET-TOKEN-123" not in repr(endpoint)
    monitor = ProbeMonitor(probe, interval_s=0.05, timeout_s=0.4)
    monitor.probe_once()
    monitor.probe_once()
    stats = monitor.stats()
    assert stats.state is EndpointState.UNREACHABLE and stats.last_error == "connection refused"
    assert "SECRET-TOKEN-123" not in caplog.text and "SECRET-TOKEN-123" not in str(stats)


def test_monitor_flags_an_endpoint_going_away(server):
    """Healthy, then the server stops: the thread notices on its own (refused → unreachable)."""
    s = server()
    monitor = ProbeMonitor(TcpProbe("ingest", "127.0.0.1", s.port, 0.5), interval_s=0.1, timeout_s=0.5)
    monitor.start()
    try:
        assert wait_until(lambda: monitor.stats().state is EndpointState.OK)
        s.close()
        assert wait_until(lambda: monitor.stats().state is EndpointState.UNREACHABLE, timeout_s=5)
    finally:
        monitor.stop()
    loss = monitor.stats().loss_percent
    assert loss is not None and loss > 0


def test_monitor_flags_a_hanging_endpoint(server):
    s = server("http-ok")
    monitor = ProbeMonitor(HttpProbe("shop", s.url, timeout_s=0.3), interval_s=0.1, timeout_s=0.3)
    monitor.start()
    try:
        assert wait_until(lambda: monitor.stats().state is EndpointState.OK)
        s.mode = "hang"
        assert wait_until(lambda: monitor.stats().state is EndpointState.UNREACHABLE, timeout_s=5)
        assert monitor.stats().last_error == "no HTTP answer within 0.3 s"
        s.mode = "http-ok"
        assert wait_until(lambda: monitor.stats().state is EndpointState.OK, timeout_s=5)
    finally:
        monitor.stop()
