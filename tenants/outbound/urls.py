"""Which webhook URLs Charter will call: a guard against server-side request forgery.

A tenant chooses the URL and Charter's workers make the request, so an unchecked URL
turns the worker into a proxy into our own network (databases, cloud metadata at
169.254.169.254, admin ports on localhost). The URL is checked when it is registered and
its host re-resolved at each delivery, because a name that was public yesterday can point
at 127.0.0.1 today (DNS rebinding). Refusals never say what a name resolved to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["MAX_URL_LENGTH", "UnsafeAddress", "check_webhook_url", "is_public", "resolve_public"]

MAX_URL_LENGTH = 2048
SCHEMES = frozenset({"http", "https"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges ipaddress does not flag on every Python we run on (is_global learned CGNAT and
# the IPv4-embedding prefixes at different versions): spelled out so the answer does not
# depend on the interpreter.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "240.0.0.0/4",  # reserved, and 255.255.255.255
        "fc00::/7",  # unique local (ULA)
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local, still routed inside some networks
    )
)
# Prefixes that carry an IPv4 address inside an IPv6 one: the embedded address decides.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Anything but letters, digits, "-", "." and "_" has no business in a host name, and a
# trailing all-numeric label makes WHATWG parsers read "127.1" or "0x7f.1" as an IPv4
# address where ours would not.
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)\.?")


class UnsafeAddress(ValueError):
    """A host that does not resolve, or resolves somewhere Charter must not call."""


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    for prefix in _NAT64:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Whether a request to this address leaves our network for the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_v4(address)
        if embedded is not None:
            return is_public(embedded)
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        return False
    return not any(address.version == net.version and address in net for net in _NOT_PUBLIC)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _unresolvable(host: str) -> UnsafeAddress:
    # One answer for a name that does not resolve and one that resolves somewhere
    # private: naming the address, or even telling the two apart, would let a caller map
    # our internal DNS through the error messages.
    return UnsafeAddress(f"{host} does not resolve to a public address")


def _check_addresses(host: str, addresses: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in addresses:
        # A scope ("fe80::1%eth0") names an interface, not an address.
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not is_public(address):
            raise _unresolvable(host)
        if str(address) not in found:
            found.append(str(address))
    if not found:
        raise _unresolvable(host)
    return found


def _check_name(host: str, *, allow_private: bool) -> str:
    """The name in ASCII (IDNA) form, after what can be refused without asking DNS."""
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise UnsafeAddress(f"{host!r} is not a valid host name") from error
    if not _HOST_NAME.fullmatch(ascii_host):
        raise UnsafeAddress(f"{host!r} is not a valid host name")
    name = ascii_host.rstrip(".")
    if _NUMERIC_LABEL.fullmatch(name.rsplit(".", 1)[-1]):
        raise UnsafeAddress(f"{host!r} is not a valid host name or IP address")
    # RFC 6761: these names are the machine itself whatever DNS says.
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise UnsafeAddress(f"{host} is this machine")
    return ascii_host


def check_webhook_url(url: str, *, allow_private: bool) -> str | None:
    """Why Charter will not deliver to ``url``, or None when it will.

    Resolves the host with blocking ``socket.getaddrinfo``: from async code, call it
    through ``asyncio.to_thread``.
    """
    if len(url) > MAX_URL_LENGTH:
        return f"a webhook URL has at most {MAX_URL_LENGTH} characters"
    # Whitespace, control characters and backslashes are read differently by different
    # URL parsers (urlsplit drops tabs, browsers turn "\" into "/"): refuse them outright.
    if any(char.isspace() or ord(char) < 0x20 or ord(char) == 0x7F for char in url):
        return "a webhook URL has no spaces or control characters"
    if "\\" in url:
        return "a webhook URL has no backslashes"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"not a valid URL: {error}"
    if port == 0:
        return "port 0 is not a port a server listens on"
    if parts.scheme.lower() not in SCHEMES:
        return "a webhook URL starts with https:// or http://"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "a webhook URL carries no user name or password"
    host = parts.hostname
    if not host:
        return "a webhook URL names a host"
    address = _literal(host)
    if address is not None:
        if "%" in host:
            return "a webhook URL has no IPv6 zone"
        if not allow_private and not is_public(address):
            return f"{address} is not a public address"
        return None
    try:
        ascii_host = _check_name(host, allow_private=allow_private)
        if allow_private:
            return None
        default_port = 443 if parts.scheme.lower() == "https" else 80
        infos = socket.getaddrinfo(ascii_host, port or default_port, type=socket.SOCK_STREAM)
        _check_addresses(host, (str(info[4][0]) for info in infos))
    except UnsafeAddress as error:
        return str(error)
    except (OSError, UnicodeError):
        return str(_unresolvable(host))
    return None


async def resolve_public(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses to connect to for ``host``, each of them public unless
    ``allow_private``; raises UnsafeAddress otherwise.

    Connect to one of the returned addresses rather than resolving the name again:
    a second lookup is a second chance for a rebinding server to answer differently.
    """
    address = _literal(host)
    if address is not None:
        if "%" in host or not (allow_private or is_public(address)):
            raise UnsafeAddress(f"{host} is not a public address")
        return [str(address)]
    name = _check_name(host, allow_private=allow_private)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise _unresolvable(host) from error
    if allow_private:
        return list(dict.fromkeys(str(info[4][0]) for info in infos))
    return _check_addresses(host, (str(info[4][0]) for info in infos))
