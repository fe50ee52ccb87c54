"""Request evidence is reduced before storage: truncated IPs, cleaned user agents."""

from __future__ import annotations

import pytest

from tenants.consent.evidence import USER_AGENT_MAX, clean_user_agent, truncate_ip


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("  198.51.100.255 ", "198.51.100.0"),
        ("10.0.0.1", "10.0.0.0"),
        ("2001:db8:abcd:12:34::1", "2001:db8:abcd::"),
        ("2001:DB8:ABCD:FFFF::", "2001:db8:abcd::"),
        ("::1", "::"),
        ("fe80::1%eth0", "fe80::"),
        ("::ffff:203.0.113.77", "203.0.113.0"),
        ("::ffff:cb00:714d", "203.0.113.0"),
        ("203.0.113", None),
        ("256.1.1.1", None),
        ("203.0.113.7:443", None),
        ("[2001:db8::1]", None),
        ("not an ip", None),
        ("", None),
        (None, None),
    ],
)
def test_truncate_ip(given, expected) -> None:
    assert truncate_ip(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        ("", None),
        ("   \t ", None),
        ("  Mozilla/5.0 (X11; Linux x86_64)  ", "Mozilla/5.0 (X11; Linux x86_64)"),
        ("Mozilla/5.0\r\nX-Injected: 1", "Mozilla/5.0  X-Injected: 1"),
        ("evil\x00\x1b[31m\x7fagent", "evil[31magent"),
        ("bidi\u202eagent\u200b", "bidiagent"),
        ("Яндекс.Браузер/24.1", "Яндекс.Браузер/24.1"),
    ],
)
def test_clean_user_agent(given, expected) -> None:
    assert clean_user_agent(given) == expected


def test_user_agent_is_capped() -> None:
    cleaned = clean_user_agent("a" * 2000)
    assert cleaned is not None and len(cleaned) == USER_AGENT_MAX == 512
    # A cut that lands on a space leaves no trailing blank.
    assert clean_user_agent("a" * 511 + " b") == "a" * 511
