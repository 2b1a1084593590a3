"""Network figures: probe statistics (RFC 6298 SRTT, RFC 3550 jitter, rolling loss),
interface kinds and per-interface throughput.

Probes are TCP connects or HTTP requests (no ICMP privileges needed). A probe that got no
good answer in time is *lost*; RTT statistics use answered probes only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    rtt_s: float | None  # time to the answer (also set for a refusal: the host did answer)
    at: float  # monotonic time the probe finished
    error: str | None = None  # "timed out after 0.75 s", "connection refused", "DNS lookup failed"
    detail: str | None = None  # "HTTP 200"


class EndpointState(StrEnum):
    UNKNOWN = "unknown"  # no probe finished yet
    OK = "ok"
    FAILING = "failing"  # the last probe failed
    UNREACHABLE = "unreachable"  # `unreachable_after` probes in a row failed


@dataclass(frozen=True)
class EndpointStats:
    name: str
    target: str  # redacted: safe to log and show
    state: EndpointState
    srtt_s: float | None = None
    rttvar_s: float | None = None
    last_rtt_s: float | None = None
    jitter_s: float | None = None
    loss_percent: float | None = None
    probes: int = 0  # probes in the window
    consecutive_failures: int = 0
    last_error: str | None = None
    last_detail: str | None = None
    last_probe_at: float | None = None


class LinkStats:
    """Rolling statistics for one endpoint's probes."""

    def __init__(self, window: int = 20, unreachable_after: int = 2) -> None:
        self.window = window
        self.unreachable_after = unreachable_after
        self._results: deque[ProbeResult] = deque(maxlen=window)
        self.srtt: float | None = None
        self.rttvar: float | None = None
        self.jitter: float | None = None
        self._last_rtt: float | None = None
        self.consecutive_failures = 0

    def add(self, result: ProbeResult) -> None:
        self._results.append(result)
        if not result.ok or result.rtt_s is None:
            self.consecutive_failures += 1
            return
        self.consecutive_failures = 0
        r = result.rtt_s
        if self.srtt is None or self.rttvar is None:  # RFC 6298 §2.2
            self.srtt, self.rttvar = r, r / 2
        else:  # RFC 6298 §2.3 (β = 1/4, α = 1/8); RTTVAR first, with the old SRTT
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - r)
            self.srtt = 0.875 * self.srtt + 0.125 * r
        if self._last_rtt is not None:  # RFC 3550 §6.4.1: J += (|D| − J)/16
            d = abs(r - self._last_rtt)
            self.jitter = (self.jitter or 0.0) + (d - (self.jitter or 0.0)) / 16.0
        self._last_rtt = r

    @property
    def loss_percent(self) -> float | None:
        if not self._results:
            return None
        lost = sum(1 for r in self._results if not r.ok)
        return 100.0 * lost / len(self._results)

    @property
    def state(self) -> EndpointState:
        if not self._results:
            return EndpointState.UNKNOWN
        if self.consecutive_failures >= self.unreachable_after:
            return EndpointState.UNREACHABLE
        if self.consecutive_failures:
            return EndpointState.FAILING
        return EndpointState.OK

    def stats(self, name: str, target: str) -> EndpointStats:
        last = self._results[-1] if self._results else None
        return EndpointStats(
            name=name,
            target=target,
            state=self.state,
            srtt_s=self.srtt,
            rttvar_s=self.rttvar,
            last_rtt_s=last.rtt_s if last and last.ok else None,
            jitter_s=self.jitter,
            loss_percent=self.loss_percent,
            probes=len(self._results),
            consecutive_failures=self.consecutive_failures,
            last_error=last.error if last else None,
            last_detail=last.detail if last else None,
            last_probe_at=last.at if last else None,
        )


class InterfaceKind(StrEnum):
    WIRED = "wired"
    WIFI = "Wi-Fi"
    CELLULAR = "cellular/USB tether"
    LOOPBACK = "loopback"
    VIRTUAL = "virtual"
    UNKNOWN = "unknown"


# Linux drivers of phone tethers and cellular modems (USB RNDIS/CDC/iPhone/QMI/MBIM)
_TETHER_DRIVERS = {"rndis_host", "cdc_ether", "cdc_ncm", "ipheth", "qmi_wwan", "cdc_mbim", "huawei_cdc_ncm"}
_VIRTUAL_PREFIXES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "tun", "tap", "ifb", "utun", "awdl",
                     "llw", "anpi", "bridge", "gif", "stf", "zt", "tailscale", "wg")


def guess_interface_kind(
    name: str, wireless: bool = False, driver: str | None = None, platform: str = "linux"
) -> InterfaceKind:
    """Best guess from the name and, on Linux, sysfs hints (a `wireless` dir, the driver)."""
    lname = name.lower()
    if lname == "lo" or lname.startswith("loopback") or lname == "lo0":
        return InterfaceKind.LOOPBACK
    if wireless or lname.startswith(("wlan", "wlp", "wlx", "wifi", "wi-fi", "wireless")):
        return InterfaceKind.WIFI
    if (driver and driver in _TETHER_DRIVERS) or lname.startswith(("usb", "wwan", "wwp", "rmnet", "ppp", "enx")):
        return InterfaceKind.CELLULAR
    if lname.startswith(("cellular", "mobile", "pdp_ip")):
        return InterfaceKind.CELLULAR
    if lname.startswith(_VIRTUAL_PREFIXES):
        return InterfaceKind.VIRTUAL
    if lname.startswith(("eth", "enp", "eno", "ens", "em", "ethernet")):
        return InterfaceKind.WIRED
    if platform == "darwin" and lname.startswith("en"):
        return InterfaceKind.UNKNOWN  # en0 is Wi-Fi on most Macs, wired on some: don't pretend
    return InterfaceKind.UNKNOWN


@dataclass(frozen=True)
class InterfaceStatus:
    name: str
    kind: InterfaceKind
    up: bool
    speed_mbps: float | None = None  # None when the OS reports 0 (unknown)
    tx_bps: float | None = None  # bits per second sent, over the last sample interval
    rx_bps: float | None = None


class ThroughputMeter:
    """Bits per second per interface from byte-counter deltas."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, int, int]] = {}

    def update(self, now: float, counters: Mapping[str, tuple[int, int]]) -> dict[str, tuple[float, float]]:
        """`counters`: name → (bytes_sent, bytes_recv). Returns name → (tx_bps, rx_bps)."""
        rates: dict[str, tuple[float, float]] = {}
        for name, (sent, recv) in counters.items():
            prev = self._last.get(name)
            self._last[name] = (now, sent, recv)
            if prev is None or now <= prev[0]:
                continue
            dt = now - prev[0]
            rates[name] = (max(0, sent - prev[1]) * 8 / dt, max(0, recv - prev[2]) * 8 / dt)
        for gone in set(self._last) - set(counters):
            del self._last[gone]
        return rates
