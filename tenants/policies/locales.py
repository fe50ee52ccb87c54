"""Choosing which of a policy's locales to serve a reader.

Pure string handling: callers pass the explicit locale argument, the Accept-Language
header and the locales a tenant actually has, and get back one of those locales.

This is the one negotiation of Charter: every entry point that takes a locale or an
Accept-Language header goes through ``choose`` (a text with several locales: a policy
version served or consented to, an e-mail, a breach notice) or ``preferred`` (a person's
language to remember, before any text is chosen), so the same tag gets the same answer
everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import langcodes

__all__ = ["WILDCARD", "choose", "negotiate", "parse_accept_language", "preferred"]

WILDCARD = "*"

# The header is client-controlled; past this many ranges nobody is expressing a real
# preference, and capping keeps a hostile header from costing a sort of thousands.
MAX_RANGES = 32

# RFC 9110 language-range, also accepting "_" because clients and our own callers send
# POSIX-style "uz_Latn"; it is normalised to "-".
_RANGE = re.compile(r"^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$")
# RFC 9110 qvalue: at most three decimals, never above 1.
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def _parse_range(part: str) -> tuple[str, float] | None:
    """(range, q) for one comma-separated element, or None when it is malformed."""
    tag, *params = (piece.strip() for piece in part.split(";"))
    if tag != WILDCARD and not _RANGE.match(tag):
        return None
    quality = 1.0
    for param in params:
        name, sep, value = param.partition("=")
        if not sep:
            return None
        if name.strip().lower() != "q":
            # Accept-Language defines no other parameters; skip rather than reject so
            # a future extension does not cost the reader their language.
            continue
        value = value.strip()
        if not _QVALUE.match(value):
            return None
        quality = float(value)
    return tag.replace("_", "-"), quality


def parse_accept_language(header: str) -> list[str]:
    """Language ranges from an Accept-Language header, most preferred first.

    Ranges with q=0 ("not acceptable") and malformed elements are dropped; equal
    qualities keep header order; a range repeated case-insensitively counts once, at its
    best quality. "*" is kept in its place so callers can tell "anything will do".
    """
    best: dict[str, tuple[float, int, str]] = {}
    for position, part in enumerate(header.split(",")[:MAX_RANGES]):
        if not part.strip():
            continue
        parsed = _parse_range(part)
        if parsed is None:
            continue
        tag, quality = parsed
        key = tag.lower()
        seen = best.get(key)
        if seen is None or quality > seen[0]:
            best[key] = (quality, seen[1] if seen else position, seen[2] if seen else tag)
    ranked = sorted(best.values(), key=lambda entry: (-entry[0], entry[1]))
    return [tag for quality, _, tag in ranked if quality > 0]


def _subtags(tag: str) -> list[str]:
    return tag.replace("_", "-").lower().split("-")


def _match(candidate: str, available: list[str]) -> str | None:
    """The available locale serving `candidate`, or None.

    Tried in order: the same tag; the tag with trailing subtags dropped (RFC 4647
    lookup: "uz-Cyrl" -> "uz", "zh-Hant-TW" -> "zh-Hant"); any available variant of
    the same language ("uz" -> "uz-Latn", "en-GB" -> "en-US"), preferring the one that
    shares the most leading subtags, then the tenant's own order.
    """
    wanted = _subtags(candidate)
    by_subtags = {tuple(_subtags(tag)): tag for tag in reversed(available)}
    for length in range(len(wanted), 0, -1):
        found = by_subtags.get(tuple(wanted[:length]))
        if found is not None:
            return found
    best: str | None = None
    best_shared = 0
    for tag in available:
        shared = 0
        for mine, theirs in zip(wanted, _subtags(tag), strict=False):
            if mine != theirs:
                break
            shared += 1
        if shared > best_shared:
            best, best_shared = tag, shared
    return best


def negotiate(
    *,
    requested: str | None,
    accept_language: str | None,
    available: list[str],
    default: str,
) -> str:
    """The locale to serve, spelled as in `available`, else `default`.

    The explicit `requested` locale is tried first, then the Accept-Language ranges in
    preference order; the first that matches any available locale wins. A "*" range
    means any locale is acceptable, so the tenant's default is served there rather than
    a lower-ranked language.
    """
    candidates: list[str] = []
    if requested and requested.strip():
        candidates.append(requested.strip())
    if accept_language:
        candidates.extend(parse_accept_language(accept_language))
    if not available:
        return default
    for candidate in candidates:
        if candidate == WILDCARD:
            return default
        if not _RANGE.match(candidate):
            # A malformed explicit locale is treated like an unknown one.
            continue
        found = _match(candidate, available)
        if found is not None:
            return found
    return default


def choose(
    *,
    requested: str | None = None,
    accept_language: str | None = None,
    available: Iterable[str],
    default: str,
) -> str:
    """Which of a text's locales a reader gets: ``negotiate`` over ``available`` in one
    fixed order (sorted, so every caller breaks ties alike), falling back to ``default``
    when the text has it, else to its first locale. ``available`` must not be empty."""
    ordered = sorted(set(available))
    if not ordered:
        raise ValueError("a text with no locale cannot be served")
    return negotiate(
        requested=requested,
        accept_language=accept_language,
        available=ordered,
        default=default if default in ordered else ordered[0],
    )


def preferred(accept_language: str | None) -> str | None:
    """The reader's most preferred language in an Accept-Language header, as a valid BCP
    47 tag, or None (no header, only "*", nothing valid): what to remember of a person
    who named no locale, so that what they are sent later is negotiated as above."""
    for tag in parse_accept_language(accept_language or ""):
        if tag != WILDCARD and langcodes.tag_is_valid(tag):
            return langcodes.standardize_tag(tag)
    return None
