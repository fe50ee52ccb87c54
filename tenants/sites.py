"""One site, one identity: the canonical form of a site's name.

A site is what a caller names to reach a tenant without a key: `publishedPolicy(site:)`,
the `policyPublished` subscription, the CLI's `--site`, the host of an `Origin` header.
It is the tenant's slug or one of its domains, and clients spell one site many ways:
``WWW.Acme.Example.``, full-width letters, ``ac<soft hyphen>me.example``,
``пример.рф`` and its ``xn--e1afmkfd.xn--p1ai`` form. ``canonical`` maps them all to
one string, and everything keyed by a site (the tenant lookup, the rate-limit bucket,
the cache keys and their invalidation, CORS) uses that string and nothing else, so no
spelling mints a fresh bucket or keeps a cache entry another spelling cannot reach.

The rules, in order:

1. Default-ignorable code points are dropped (Unicode's Default_Ignorable_Code_Point
   property, ``DEFAULT_IGNORABLE`` below): soft hyphens, zero-width joiners, variation
   selectors, bidi controls. Nobody sees them, so they can tell no two sites apart.
2. UTS #46 mapping (non-transitional, as browsers resolve URLs): case folding,
   full-width forms, ideographic full stops, compatibility characters.
3. A trailing dot (the DNS root) goes.
4. Each label is put in its ASCII (IDNA, ``xn--``) form.
5. A leading ``www.`` goes: a site and its ``www.`` host are one site.

Slugs (``[a-z0-9-]``) come out unchanged. A name that is no host name but plain ASCII
letters, digits, ``-``, ``_`` and dots is kept lowercased (an unknown site is still a
site to look up and to count); anything else, or anything longer than a host name, is
no site at all (``None``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit

import idna

__all__ = ["MAX_SITE", "canonical", "host", "spellings"]

MAX_SITE = 253  # RFC 1035 §2.3.4: the longest host name; slugs are shorter
# Longer input cannot come out at 253 characters or fewer, whatever is dropped or mapped;
# checked before anything is cached, so the cache holds only short keys.
_MAX_INPUT = 4 * MAX_SITE

# Default_Ignorable_Code_Point, DerivedCoreProperties.txt (Unicode 15.1).
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORABLE = re.compile(
    "[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in DEFAULT_IGNORABLE) + "]"
)
_PLAIN = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$")


def url_parts(url: str) -> SplitResult | None:
    """``url`` split (RFC 3986 §3), or None when it has no usable authority: ``urlsplit``
    raises ValueError for an unclosed IPv6 bracket ("http://[::1") and ``.port`` for a
    port that is not a number or past 65535. One place for that, so no caller meets the
    exception with a request in hand (each such one was a 500)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises for a bad port: checked here, once
    except ValueError:
        return None
    return parts


def canonical(site: object) -> str | None:
    """The one name of the site ``site`` spells, or None when it can name none.

    Pure and cached: the hot path calls it on every public read."""
    name = host(site)
    if name is None:
        return None
    name = name.removeprefix("www.") if name.count(".") >= 1 else name
    return name or None


def host(site: object) -> str | None:
    """Rules 1 to 4 without the last: the host as DNS knows it, ``www.`` kept. Domains
    are stored so (a tenant may list ``www.shop.example`` apart from ``shop.example``,
    one site either way)."""
    if not isinstance(site, str) or not site or len(site) > _MAX_INPUT:
        return None
    return _host(site)


@lru_cache(maxsize=8192)  # keys are at most _MAX_INPUT characters: ~40 MB at worst
def _host(site: str) -> str | None:
    name = _IGNORABLE.sub("", site).strip()
    try:
        name = idna.uts46_remap(name, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    name = name.rstrip(".") if name.endswith(".") else name
    if not name or name.startswith(".") or ".." in name:
        return None
    try:
        name = idna.encode(name, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        if not _PLAIN.match(name):
            return None
    return name if 0 < len(name) <= MAX_SITE else None


def spellings(name: str) -> list[str]:
    """The rows a canonical name may match where sites are stored: itself, and its
    ``www.`` host, which domains registered before names were canonical may hold."""
    return [name, f"www.{name}"]
