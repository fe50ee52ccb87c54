"""Request evidence kept beside a consent event, reduced before it is stored.

A full IP address identifies a household; its network prefix still shows roughly where
a decision came from, which is what evidence of a consent needs.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from functools import lru_cache

__all__ = ["IPV4_PREFIX", "IPV6_PREFIX", "USER_AGENT_MAX", "clean_user_agent", "truncate_ip"]

# /24 and /48 are the usual anonymisation prefixes (the last octet; the site part of a
# v6 address), the same cut analytics tools apply before storage.
IPV4_PREFIX = 24
IPV6_PREFIX = 48
USER_AGENT_MAX = 512


# Cached: every event of a batch carries the same request's address and user agent.
@lru_cache(maxsize=1024)
def truncate_ip(ip: str | None) -> str | None:
    """The network address of ``ip``'s /24 (IPv4) or /48 (IPv6); None if not an address."""
    if not isinstance(ip, str):
        return None
    # A zone index ("fe80::1%eth0") names an interface on the server, not the visitor.
    text = ip.strip().split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports v4 clients as ::ffff:a.b.c.d; /48 of that would keep the
    # whole v4 address, so it is cut as the v4 address it is.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


@lru_cache(maxsize=1024)
def clean_user_agent(ua: str | None) -> str | None:
    """``ua`` without control or format characters, trimmed and capped; None if empty."""
    if not isinstance(ua, str):
        return None
    # Whitespace controls become spaces so words do not run together; every other "C*"
    # character (controls, bidi overrides, lone surrogates) is dropped: none belongs in a
    # header, and they could garble an admin screen or a UTF-8 column.
    kept = "".join(
        " " if char in "\t\n\r\v\f" else char
        for char in ua
        if char in "\t\n\r\v\f" or not unicodedata.category(char).startswith("C")
    )
    cleaned = kept.strip()[:USER_AGENT_MAX].rstrip()
    return cleaned or None
