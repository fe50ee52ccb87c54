"""Reading a consent import file: JSON lines or CSV, a record at a time.

``records`` yields each record of the file as a dict (or the Problem that makes it no
record: too long, not UTF-8, not JSON, not CSV), with its line number, reading as it goes,
so memory stays flat whatever the file's size. Turning a record into recordConsent's
input and into the ledger is ``importing``'s.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tenants.errors import ErrorCode, Problem

__all__ = ["FORMATS", "MAX_DEPTH", "MAX_RECORD", "records"]

FORMATS = ("jsonl", "csv")
MAX_RECORD = 1 << 20  # bytes a record's line may hold (README "Consent"): memory stays flat
MAX_DEPTH = 8  # JSON nesting a record may have; a real one has 3 (record, decisions, decision)


def records(path: Path, fmt: str, *, skip: int = 0) -> Iterator[tuple[int, Any]]:
    """(line number, record dict, or a Problem) for each record of the file after the
    first ``skip``, read as it goes: memory stays flat whatever the file's size (no line
    is held past ``MAX_RECORD`` bytes: a longer one is one TOO_LONG record)."""
    with path.open("rb") as raw:
        lines = _Lines(raw)
        if fmt == "jsonl":
            yield from _jsonl(lines, skip)
        else:
            yield from _csv(lines, skip)


class _TooLong(Exception):
    """A line past ``MAX_RECORD``: read through to its end, not kept."""


class _Lines:
    """A binary file's lines as text, each at most ``MAX_RECORD`` bytes held; ``number``
    is the last line's. An iterator object, not a generator, so that raising ``_TooLong``
    (or a decoding error) for one line lets the next ``next()`` go on to the following."""

    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw, self.number = raw, 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.raw.readline(MAX_RECORD + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > MAX_RECORD:
            while line and not line.endswith(b"\n"):  # the rest, a block at a time
                line = self.raw.readline(1 << 16)
            raise _TooLong(f"a record of more than {MAX_RECORD} bytes")
        if self.number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]  # a byte order mark, as spreadsheets write
        return line.decode("utf-8")


def _too_long(error: Exception) -> Problem:
    return Problem(None, ErrorCode.TOO_LONG, str(error))


def _jsonl(lines: _Lines, skip: int) -> Iterator[tuple[int, Any]]:
    seen = 0
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except _TooLong as error:
            line, problem = "", _too_long(error)
        except UnicodeDecodeError as error:
            line, problem = "", Problem(None, ErrorCode.INVALID, f"not UTF-8: {error}")
        else:
            problem = None
            if not line.strip():
                continue
        seen += 1
        if seen <= skip:
            continue
        yield lines.number, problem or _json_record(line)


def _json_record(line: str) -> dict[str, Any] | Problem:
    try:
        record = json.loads(line)
    except RecursionError:
        return Problem(None, ErrorCode.INVALID, f"nested more than {MAX_DEPTH} deep")
    except ValueError as error:
        return Problem(None, ErrorCode.INVALID, f"not a JSON object: {error}")
    if not isinstance(record, dict):
        return Problem(None, ErrorCode.INVALID, "not a JSON object")
    if _depth(record) > MAX_DEPTH:
        return Problem(None, ErrorCode.INVALID, f"nested more than {MAX_DEPTH} deep")
    return record


def _depth(value: Any) -> int:
    """How deep containers nest in ``value``, without recursion (the checks after it
    recurse: they are spared a record too deep for them)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest


def _csv(lines: _Lines, skip: int) -> Iterator[tuple[int, Any]]:
    # A cell may be as long as a record may; longer lines never reach the reader.
    csv.field_size_limit(MAX_RECORD)
    reader = csv.reader(lines)
    header: list[str] | None = None
    seen = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except _TooLong as error:
            row, problem = None, _too_long(error)
        except UnicodeDecodeError as error:
            row, problem = None, Problem(None, ErrorCode.INVALID, f"not UTF-8: {error}")
        except csv.Error as error:
            row, problem = None, Problem(None, ErrorCode.INVALID, f"not CSV: {error}")
        else:
            problem = None
        if header is None:
            if problem is not None:  # no columns to read the rest by
                yield lines.number, problem
                return
            header = row
            continue
        if row == []:
            continue
        seen += 1
        if seen <= skip:
            continue
        if problem is None and len(row) != len(header):
            problem = Problem(None, ErrorCode.INVALID, "not as many cells as columns")
        if problem is not None:
            yield lines.number, problem
            continue
        yield (
            lines.number,
            {key: value for key, value in zip(header, row, strict=True) if value != ""},
        )
