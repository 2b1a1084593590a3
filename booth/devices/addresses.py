"""This machine's own network addresses, for the phone remote's link (a phone needs an IP it can reach)."""

from __future__ import annotations

import ipaddress
import socket

import psutil


def lan_addresses() -> list[str]:
    """IPv4 addresses of the interfaces that are up, loopback and link-local left out."""
    found: list[str] = []
    try:
        stats = psutil.net_if_stats()
        for name, addrs in psutil.net_if_addrs().items():
            if name in stats and not stats[name].isup:
                continue
            for addr in addrs:
                if addr.family != socket.AF_INET:
                    continue
                ip = ipaddress.ip_address(addr.address)
                if not (ip.is_loopback or ip.is_link_local):
                    found.append(addr.address)
    except OSError:
        return []
    return found
