"""JSON from outside (request bodies, query parameters, socket messages, cookies),
decoded with its nesting bounded.

Python's decoder recurses once per level: a 10 KB body of 5,000 ``[`` exhausts the
interpreter's stack (RecursionError), and whatever walks the value afterwards (the text
rule, variable coercion) recurses as deep again. No GraphQL request needs more than a
few levels (Charter's deepest input type nests 4), so anything deeper than ``MAX_DEPTH``
is refused before it is decoded, as ``TooDeep``: a ``json.JSONDecodeError`` (so a
``ValueError``), which each transport answers as the bad input it is (HTTP 400
``BAD_USER_INPUT``; graphql-transport-ws close 4400).

The depth is counted without decoding, in time linear in the text and only when the
text holds more than ``MAX_DEPTH`` opening brackets at all (one C-speed count). Text
without a backslash, as nearly every request is, is counted by bytes operations alone
(``_plain_depth``): a fourth of the regular expressions' CPU on a 500-event batch.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from itertools import accumulate

__all__ = ["MAX_DEPTH", "TooDeep", "depth", "loads", "utf8_body"]

MAX_DEPTH = 64  # arrays and objects within one another

# A JSON string, spelled as runs of plain characters between escapes ("unrolling the
# loop"): the engine then takes a run in one step, where one alternation per character
# held the loop ~90 ms on a 1 MB string value (tests/test_loop_lag.py caught it).
_STRING = {
    str: re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S),
    bytes: re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S),
}
_NOT_BRACKET = {str: re.compile(r"[^\[\]{}]+"), bytes: re.compile(rb"[^\[\]{}]+")}
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1, 91: 1, 123: 1, 93: -1, 125: -1}
_OPENS = {str: ("[", "{"), bytes: (b"[", b"{")}
# Every byte but a quote or a bracket, deleted; then brackets as signed steps (+1, -1).
_NOT_STRUCTURE = bytes(c for c in range(256) if c not in b'"[]{}')
_SIGNED = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


class TooDeep(json.JSONDecodeError):
    """The value nests arrays and objects deeper than MAX_DEPTH."""

    def __init__(self, document: str | bytes) -> None:
        text = document if isinstance(document, str) else ""
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels", text, 0)


def depth(document: str | bytes) -> int:
    """How deep arrays and objects nest in ``document`` (0 for a scalar). Exact for valid
    JSON; for text that is not JSON, never less than the decoder would find."""
    if isinstance(document, bytes | bytearray):
        # json.loads reads UTF-16 and UTF-32 bytes too: counted as bytes, a character
        # such as U+2200 (00 22) is a quote, and nesting could hide inside a "string".
        # Decoded as json.loads decodes them, the count is the decoder's own.
        # Bytes that do not decode are no JSON at all (json.loads raises as much).
        encoding = json.detect_encoding(document)
        if encoding not in ("utf-8", "utf-8-sig"):
            with suppress(UnicodeDecodeError):
                document = document.decode(encoding, "surrogatepass")
    data = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    if b"\\" not in data:
        return _plain_depth(data.translate(None, _NOT_STRUCTURE))
    kind = bytes if isinstance(document, bytes | bytearray) else str
    brackets = _NOT_BRACKET[kind].sub(kind(), _STRING[kind].sub(kind(), document))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _plain_depth(structure: bytes | bytearray) -> int:
    """``depth`` of text without a backslash, given only its quotes and brackets (UTF-8
    keeps every ASCII character a byte of its own, in its place). Without escapes every
    quote opens or closes a string, as ``_STRING`` pairs them from the left: the pieces
    between the quotes alternate outside, inside, outside... and a last quote left
    unpaired (text that is not JSON) opens no string, so what follows it is outside."""
    pieces = structure.split(b'"')
    outside = pieces[0::2]
    if len(pieces) % 2 == 0:  # an odd number of quotes: the last one pairs with nothing
        outside.append(pieces[-1])
    steps = b"".join(outside).translate(_SIGNED)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


_UTF8_BOM = b"\xef\xbb\xbf"


def utf8_body(raw: bytes) -> bytes:
    """A request body's JSON as UTF-8 bytes (RFC 8259 §8.1), a leading byte order mark
    dropped (§8.1: a parser may ignore it). UnicodeDecodeError (a ValueError) for a body
    ``json.loads`` would read as UTF-16 or UTF-32: UTF-16 of ASCII text is valid UTF-8
    too (NULs), so without this one rule a reader of text and a reader of bytes could
    disagree on what a body says (the edge and the fast path, the edge and strawberry)."""
    encoding = json.detect_encoding(raw)
    if encoding not in ("utf-8", "utf-8-sig"):
        raise UnicodeDecodeError(encoding, raw, 0, len(raw), "JSON is read as UTF-8 here")
    return raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw


def loads(document: str | bytes) -> object:
    """``json.loads``, refusing (TooDeep) a value nested deeper than MAX_DEPTH; other
    malformed text raises json.JSONDecodeError as ever."""
    kind = bytes if isinstance(document, bytes | bytearray) else str
    square, curly = _OPENS[kind]
    if document.count(square) + document.count(curly) > MAX_DEPTH and depth(document) > MAX_DEPTH:
        raise TooDeep(document)
    try:
        return json.loads(document)
    except RecursionError:  # not reached with the bound above; never a traceback if it is
        raise TooDeep(document) from None
