"""Checks shared by every domain: text, whole numbers, locales, e-mail addresses, domains,
slugs.

Each returns the normalised value or ``None`` after adding a problem, so a service can
run them all and report every mistake at once.
"""

from __future__ import annotations

import re

import langcodes

from tenants import sites
from tenants.errors import ErrorCode, Problems

MAX_URL = 2048
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def text(problems: Problems, value: str | None, *field: str, max_length: int) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        problems.add(ErrorCode.REQUIRED, f"{_named(field)} must not be empty", *field)
        return None
    if len(cleaned) > max_length:
        problems.add(ErrorCode.TOO_LONG, f"{_named(field)} is longer than {max_length}", *field)
        return None
    return cleaned


def _named(field: tuple[str, ...]) -> str:
    # Only for a message: a batch checks a thousand subject ids, all but a few valid.
    return next((part for part in reversed(field) if not part.isdigit()), "value")


MAX_SUBJECT_ID = 255  # characters: every subject_id column is a varchar(255)
# What an erased subject id becomes (subjects.erasure.pseudonym): no living subject may
# be named so, or a caller could write under an erased person's record, and breach
# notices to everyone affected pass such ids over as erased.
ERASED_PREFIX = "erased:"


def subject_id(problems: Problems, value: str | None, *field: str) -> str | None:
    """A subject id as the tenant's backend names a person: 1 to MAX_SUBJECT_ID
    characters once trimmed, as stored; REQUIRED or TOO_LONG otherwise. The one rule for
    every entry point, reads included: a longer id handed to a read went on to the ORM's
    own length check and came back an INTERNAL_SERVER_ERROR. Reads take a pseudonym too
    (the proof an erasure keeps is read by it); ``living_subject_id`` is for writes."""
    return text(problems, value, *field, max_length=MAX_SUBJECT_ID)


def living_subject_id(problems: Problems, value: str | None, *field: str) -> str | None:
    """``subject_id`` for a write that names a living person: INVALID as well for an id in
    the pseudonyms' namespace (ERASED_PREFIX)."""
    found = subject_id(problems, value, *field)
    if found is not None and found.startswith(ERASED_PREFIX):
        problems.add(ErrorCode.INVALID, f"subject ids starting {ERASED_PREFIX} are erased", *field)
        return None
    return found


def subject_key(value: str, *field: str) -> str:
    """``subject_id`` for a lookup or a change by id: the id as stored, or DomainError
    (REQUIRED, TOO_LONG) naming ``field``."""
    problems = Problems()
    found = subject_id(problems, value, *field)
    problems.raise_if_any()
    return found


def whole_number(text: str | None, *, digits: int = 9) -> int | None:
    """``text`` as an int when it is ASCII digits, at most ``digits`` of them; else None.
    ``str.isdigit`` alone takes "²" (which ``int`` refuses) and other scripts' digits,
    and ``int`` refuses more than 4,300 digits: each was a 500 or a stopped import."""
    if text and len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None


def slug(problems: Problems, value: str, *field: str) -> str | None:
    if not SLUG.match(value):
        problems.add(
            ErrorCode.INVALID,
            "slug must be 1-63 lowercase letters, digits or inner hyphens",
            *field,
        )
        return None
    return value


def locale(problems: Problems, value: str, *field: str) -> str | None:
    """A valid BCP 47 tag in its standard case ("uz-cyrl" -> "uz-Cyrl")."""
    try:
        if langcodes.tag_is_valid(value):
            return langcodes.standardize_tag(value)
    except ValueError:
        pass
    problems.add(ErrorCode.INVALID_LOCALE, f"{value!r} is not a BCP 47 language tag", *field)
    return None


def email(problems: Problems, value: str, *field: str) -> str | None:
    cleaned = value.strip()
    if len(cleaned) > 254 or not EMAIL.match(cleaned):
        problems.add(ErrorCode.INVALID_EMAIL, f"{value!r} is not an e-mail address", *field)
        return None
    return cleaned


def domain(problems: Problems, value: str, *field: str) -> str | None:
    """A host name as tenants.sites.host gives it (UTS #46, ASCII, no trailing dot):
    "Пример.рф." -> "xn--e1afmkfd.xn--p1ai"."""
    host = sites.host(value) or ""
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(DOMAIN_LABEL.match(p) for p in labels):
        problems.add(ErrorCode.INVALID_DOMAIN, f"{value!r} is not a domain name", *field)
        return None
    return host


def unique(problems: Problems, values: list[str], *field: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            problems.add(ErrorCode.DUPLICATE, f"{value!r} is listed twice", *field, str(index))
        seen.add(value)


def http_url(problems: Problems, value: str, *field: str) -> str | None:
    """An absolute http(s) URL of at most MAX_URL characters, stripped."""
    cleaned = value.strip()
    parts = sites.url_parts(cleaned)
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or len(cleaned) > MAX_URL
    ):
        name = field[-1] if field else "url"
        problems.add(ErrorCode.INVALID_URL, f"{name} must be an http(s) URL", *field)
        return None
    return cleaned
