"""Stored text on its way to an operator's terminal, a spreadsheet or a log: inert.

Tenants and visitors write the text Charter stores (a breach title, a subject id, a user
agent), and the `charter` commands print it. Printed raw, ``ESC [2J`` clears the
operator's screen and can draw a fake one, and U+202E turns the rest of a line around;
opened in a spreadsheet, a cell ``=HYPERLINK(...)`` or ``@SUM(...)`` is a formula that
runs. Every command that prints stored text goes through this module:

- ``printable``: control characters (C0, DEL, C1), bidirectional controls and line
  separators become visible escapes (``\\x1b``, ``\\u202e``).
- ``cell`` (and ``tsv_row``): a CSV/TSV cell, printable on one line, under the OWASP
  CSV-injection rule: a cell that starts with ``=``, ``+``, ``-``, ``@`` (or their
  full-width forms, which some spreadsheets read the same), tab or carriage return gets
  a leading ``'``.
- ``json_text``: JSON with those characters as ``\\u`` escapes: valid, and lossless.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["FORMULA_STARTS", "cell", "json_text", "printable", "tsv_row"]

# Characters that steer a terminal or reorder what it shows, never text to read.
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_UNSAFE = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_BIDI, 0x2028, 0x2029]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


_ONE_LINE = {code: _escape(code) for code in _UNSAFE}
_MULTILINE = {code: text for code, text in _ONE_LINE.items() if chr(code) not in "\n\t"}
_JSON = {code: f"\\u{code:04x}" for code in _UNSAFE if code >= 0x20}  # json escapes C0

# OWASP, CSV Injection: cells starting with these are formulas to some spreadsheet.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control character escaped; ``multiline`` keeps \\n and tab."""
    return text.translate(_MULTILINE if multiline else _ONE_LINE)


def cell(value: Any) -> str:
    """One CSV or TSV cell for a spreadsheet and a terminal alike; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    # Checked before escaping (a leading tab or CR) and after any leading spaces, which
    # some spreadsheets skip before they look for a formula.
    if text[:1] in FORMULA_STARTS or text.lstrip(" ")[:1] in FORMULA_STARTS:
        text = "'" + text
    return printable(text)


def tsv_row(*values: Any) -> str:
    """A line of tab-separated cells, as the list commands print them."""
    return "\t".join(cell(value) for value in values)


def json_text(value: Any, *, indent: int | None = None) -> str:
    """JSON of ``value`` (UTF-8 text kept as is) in which no character steers a terminal:
    json.dumps escapes C0 controls only; DEL, C1 and the bidirectional controls too."""
    return json.dumps(value, ensure_ascii=False, indent=indent).translate(_JSON)
