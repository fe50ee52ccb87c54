"""Which webhook URLs Charter calls. No test here needs the internet: IP literals,
"localhost", and a stand-in resolver for names."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from tenants.outbound.urls import UnsafeAddress, check_webhook_url, is_public, resolve_public

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"https://{PUBLIC}/hooks/charter", None),
        (f"http://{PUBLIC}:8080/hooks?x=1", None),
        ("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", None),
        (f"https://[::ffff:{PUBLIC}]/hook", None),
        (f"ftp://{PUBLIC}/", "https://"),
        (f"javascript://{PUBLIC}/", "https://"),
        ("https:///path", "names a host"),
        ("https://", "names a host"),
        (f"https://user:secret@{PUBLIC}/", "user name or password"),
        (f"https://token@{PUBLIC}/", "user name or password"),
        (f"https://{PUBLIC}/" + "a" * 2048, "2048"),
        (f"https://{PUBLIC}:99999/", "valid URL"),
        (f"https://{PUBLIC}:0/", "port 0"),
        (f"https://{PUBLIC}/a b", "spaces"),
        (f"https://{PUBLIC}/\nHost: x", "spaces"),
        (f"https://{PUBLIC}\\@127.0.0.1/", "backslash"),
        ("http://127.0.0.1/", "not a public address"),
        ("http://127.8.9.10:6379/", "not a public address"),
        ("http://[::1]/", "not a public address"),
        ("http://0.0.0.0/", "not a public address"),
        ("http://[::]/", "not a public address"),
        ("http://10.1.2.3/", "not a public address"),
        ("http://172.16.0.1/", "not a public address"),
        ("http://192.168.1.1/", "not a public address"),
        ("http://[fd12:3456::1]/", "not a public address"),
        ("http://169.254.169.254/latest/meta-data/", "not a public address"),
        ("http://[fe80::1]/", "not a public address"),
        ("http://100.64.0.1/", "not a public address"),
        ("http://100.127.255.254/", "not a public address"),
        ("http://224.0.0.1/", "not a public address"),
        ("http://[ff02::1]/", "not a public address"),
        ("http://240.0.0.1/", "not a public address"),
        ("http://255.255.255.255/", "not a public address"),
        ("http://192.0.2.10/", "not a public address"),
        ("http://[::ffff:127.0.0.1]/", "not a public address"),
        ("http://[::ffff:10.0.0.1]/", "not a public address"),
        ("http://[64:ff9b::a9fe:a9fe]/", "not a public address"),  # NAT64 of 169.254.169.254
        ("http://[2002:7f00:1::]/", "not a public address"),  # 6to4 of 127.0.0.1
        ("http://localhost/", "this machine"),
        ("http://LOCALHOST:8000/", "this machine"),
        ("http://localhost./", "this machine"),
        ("http://api.localhost/", "this machine"),
        ("http://127.1/", "not a valid host name"),
        ("http://2130706433/", "not a valid host name"),
        ("http://0x7f000001/", "not a valid host name"),
        ("http://0x7f.0.0.1/", "not a valid host name"),
        ("http://exa_mple!.com/", "not a valid host name"),
    ],
)
def test_url_guard(url: str, problem: str | None):
    found = check_webhook_url(url, allow_private=False)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found, found


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost:8080/hook",
        "http://10.0.0.5/hook",
        "http://[::1]/hook",
        "http://receiver.internal/hook",  # not even resolved: nothing to guard against
    ],
)
def test_private_addresses_are_allowed_when_configured(url: str):
    assert check_webhook_url(url, allow_private=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/",
        "http://user:pw@localhost/",
        "http://[fe80::1%25eth0]/",
        "http://127.1/",
    ],
)
def test_allow_private_still_refuses_malformed_urls(url: str):
    assert check_webhook_url(url, allow_private=True) is not None


def _resolver(table: dict[str, list[str]]):
    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.rstrip(".")  # as a real resolver, the absolute form is the same name
        if name not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in table[name]
        ]

    return getaddrinfo


NAMES = {
    "hooks.example.com": [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    "rebind.example.com": [PUBLIC, "10.0.0.7"],
    "metadata.example.com": ["169.254.169.254"],
    "v6only.example.com": ["::1"],
    "xn--e1afmkfd.xn--p1ai": [PUBLIC],  # пример.рф
}


@pytest.fixture
def resolver(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _resolver(NAMES))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://hooks.example.com/charter", True),
        ("https://HOOKS.example.com./charter", True),
        ("https://пример.рф/hook", True),
        ("https://rebind.example.com/", False),  # every address must be public
        ("https://metadata.example.com/", False),
        ("https://v6only.example.com/", False),
        ("https://missing.example.com/", False),
    ],
)
def test_host_names_are_judged_by_every_address_they_resolve_to(resolver, url: str, allowed: bool):
    """A refusal never echoes what DNS said: not the address, not even whether the name
    exists (one message for both), so the errors map nothing of our network."""
    found = check_webhook_url(url, allow_private=False)
    if allowed:
        assert found is None
    else:
        assert found == f"{url.split('/')[2]} does not resolve to a public address"


async def test_resolve_public_returns_the_addresses_to_connect_to(resolver):
    assert await resolve_public("hooks.example.com", 443, allow_private=False) == [
        PUBLIC,
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]
    assert await resolve_public(PUBLIC, 443, allow_private=False) == [PUBLIC]


@pytest.mark.parametrize(
    "host", ["rebind.example.com", "metadata.example.com", "missing.example.com", "localhost"]
)
async def test_resolve_public_refuses_at_delivery_time(resolver, host: str):
    with pytest.raises(UnsafeAddress):
        await resolve_public(host, 443, allow_private=False)


async def test_resolve_public_with_the_real_resolver():
    """Literals and "localhost" need no network."""
    assert await resolve_public(PUBLIC, 443, allow_private=False) == [PUBLIC]
    with pytest.raises(UnsafeAddress, match="not a public address"):
        await resolve_public("127.0.0.1", 80, allow_private=False)
    with pytest.raises(UnsafeAddress, match="this machine"):
        await resolve_public("localhost", 80, allow_private=False)
    loopback = await resolve_public("localhost", 80, allow_private=True)
    assert loopback and set(loopback) <= {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    "host", ["rebind.example.com", "metadata.example.com", "missing.example.com"]
)
async def test_refusals_at_delivery_time_do_not_echo_dns(resolver, host: str):
    with pytest.raises(UnsafeAddress) as refused:
        await resolve_public(host, 443, allow_private=False)
    assert str(refused.value) == f"{host} does not resolve to a public address"


def test_an_internal_name_is_refused_without_its_address():
    """This machine's own name resolves (through /etc/hosts) to a private address: with
    the real resolver, the refusal does not say which."""
    name = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, 443)}
    except OSError:
        pytest.skip(f"{name} does not resolve here")
    if not addresses or any(is_public(ipaddress.ip_address(a)) for a in addresses):
        pytest.skip(f"{name} resolves to a public address here")
    found = check_webhook_url(f"https://{name}/hook", allow_private=False)
    assert found == f"{name} does not resolve to a public address"
    assert not any(address in found for address in addresses)
