"""Charter's own words for the banner and the privacy center, per locale, and a tenant's
replacements for them.

The catalogue is data (``texts/<locale>.toml``, the same keys in every file); a locale
is chosen by the one negotiation every reader gets (``tenants.policies.locales``). Texts
are plain: they are escaped wherever they are shown (Jinja autoescaping, ``textContent``).
Placeholders are filled by plain replacement of the names given, never by ``format``,
so a tenant's text cannot reach anything else.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tenants.policies.locales import negotiate
from tenants.taxonomy import DATA_USES

_FOLDER = Path(__file__).with_name("texts")
FALLBACK = "en"
PURPOSE_PREFIX = "purpose."  # a tenant's name for a data use: "purpose.analytics.reporting"
MAX_TEXT = 1000
# What the banner script needs; the privacy center takes everything.
BANNER_SECTIONS = ("banner.", "notice.", "prefs.", "category.", "basis.", PURPOSE_PREFIX)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def _load() -> Mapping[str, Mapping[str, str]]:
    catalogues = {
        path.stem: _flatten(tomllib.loads(path.read_text(encoding="utf-8")))
        for path in sorted(_FOLDER.glob("*.toml"))
    }
    known = set(catalogues[FALLBACK])
    for locale, texts in catalogues.items():
        extra = set(texts) - known
        if extra:  # a typo in a key would never be shown: refuse it at import
            raise ValueError(f"texts/{locale}.toml has keys en.toml lacks: {sorted(extra)}")
    return MappingProxyType({k: MappingProxyType(v) for k, v in catalogues.items()})


CATALOGUES = _load()
LOCALES: tuple[str, ...] = tuple(CATALOGUES)
KEYS: frozenset[str] = frozenset(CATALOGUES[FALLBACK])


def known_key(key: str) -> bool:
    """A key a tenant may give its own text for: one of the catalogue's, or a data use."""
    if key.startswith(PURPOSE_PREFIX):
        return key.removeprefix(PURPOSE_PREFIX) in DATA_USES
    return key in KEYS and key != "language"


@cache
def catalogue_locale(locale: str) -> str:
    """The catalogue that speaks ``locale`` best ("uz-Latn" -> "uz", "ru-KZ" -> "ru")."""
    return negotiate(requested=locale, accept_language=None, available=list(LOCALES), default="")


def texts_for(
    locale: str, overrides: Mapping[str, Mapping[str, str]], *, sections: tuple[str, ...] = ()
) -> dict[str, str]:
    """Every text in ``locale``: the tenant's own, else Charter's in that language, else
    English. ``sections`` keeps only keys starting with one of those prefixes."""
    merged = dict(CATALOGUES[FALLBACK])
    found = catalogue_locale(locale)
    if found:
        merged.update(CATALOGUES[found])
    own = negotiate(requested=locale, accept_language=None, available=list(overrides), default="")
    if own:
        merged.update(overrides[own])
    if sections:
        merged = {k: v for k, v in merged.items() if k.startswith(sections)}
    return merged


def language_name(locale: str) -> str:
    """A locale's name in its own language, for a language switcher; the tag otherwise."""
    found = catalogue_locale(locale)
    return CATALOGUES[found]["language"] if found else locale


def fill(text: str, **values: object) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text
