"""Colours as tenants give them, and the WCAG 2.2 contrast they must keep.

Contrast ratio and relative luminance are WCAG 2.2's definitions (Understanding SC 1.4.3):
text needs 4.5:1 against its background (SC 1.4.3, AA), a control's visual boundary 3:1
against what surrounds it (SC 1.4.11, AA).
"""

from __future__ import annotations

import re

HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
TEXT_CONTRAST = 4.5  # SC 1.4.3
CONTROL_CONTRAST = 3.0  # SC 1.4.11

# Charter's own: dark text on white, white on a blue whose contrast holds both ways.
DEFAULTS = {
    "background": "#ffffff",
    "text": "#1b1f24",
    "accent": "#1d4ed8",
    "accent_text": "#ffffff",
}
# (foreground, background, minimum): the pairs a banner and a privacy center put together.
PAIRS = (
    ("text", "background", TEXT_CONTRAST),
    ("accent_text", "accent", TEXT_CONTRAST),
    ("accent", "background", CONTROL_CONTRAST),
)


def normalise(value: str) -> str | None:
    """ "#ABC" -> "#aabbcc"; None for anything that is not a hex colour."""
    value = value.strip()
    if not HEX.match(value):
        return None
    digits = value[1:].lower()
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return f"#{digits}"


def luminance(color: str) -> float:
    """Relative luminance of a normalised "#rrggbb" colour (WCAG 2.2 definition)."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05), the lighter colour's luminance on top: 1 to 21."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)
