"""A policy version number as text spells it (a link, a form field, an imported record)."""

from __future__ import annotations

__all__ = ["version_number"]


def version_number(text: str | None) -> int | None:
    """ASCII digits, at most nine, as an int; None for anything else. ``str.isdigit``
    alone takes "²" (which ``int`` refuses) and other scripts' digits, and ``int`` refuses
    more than 4,300 digits: each was a 500 or a stopped import."""
    if text and len(text) <= 9 and text.isascii() and text.isdigit():
        return int(text)
    return None
