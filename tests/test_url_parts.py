"""tenants.sites.url_parts, the one split of a URL that callers with a request in hand
use: whatever the text, it answers parts whose host and port read without raising, or
None (urlsplit raised ValueError on "http://[", .port on a port past 65535: each was a
500 somewhere: consent sourceUrl, tenant policy URLs, logo URLs, a form's Origin)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tenants import sites

PIECES = st.sampled_from(["http://", "https://", "[", "]", "::1", ":", "99999999", "a.example",
                          "@", "/", "?", "#", "%", "\t", "ы", "0", "65535", "65536", "-1"])  # fmt: skip


@given(st.one_of(st.text(max_size=40), st.lists(PIECES, max_size=8).map("".join)))
def test_url_parts_never_raises_and_its_parts_read(text):
    parts = sites.url_parts(text)
    if parts is not None:
        assert parts.port is None or 0 <= parts.port <= 65535
        assert parts.hostname is None or isinstance(parts.hostname, str)


def test_the_urls_that_split_and_those_that_do_not():
    assert sites.url_parts("https://acme.example:8443/p").port == 8443
    assert sites.url_parts("http://[::1]/").hostname == "::1"
    assert sites.url_parts("http://[::1") is None
    assert sites.url_parts("http://a.example:99999999/") is None
    assert sites.url_parts("http://a.example:port/") is None
