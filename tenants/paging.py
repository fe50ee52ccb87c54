"""Keyset pagination: stable pages however fast the table grows (newest first by default).

A ``Window`` is what a Relay connection asks for (Relay Cursor Connections spec, §4):
``first``/``after`` pages forwards, ``last``/``before`` backwards; ``after`` and
``before`` may bound one page together. A cursor is an opaque string naming a row seen:
its ordering value and id. A cursor this list could not have made (garbage, another
list's, a value out of the column's range) is an INVALID input, never a database error.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from tortoise.expressions import Q
from tortoise.fields import DatetimeField
from tortoise.queryset import QuerySet

from tenants.errors import DomainError, ErrorCode

T = TypeVar("T")

DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_CURSOR = 200  # characters; ours are ~80
INT_RANGE = range(-(2**63), 2**63)  # a BIGINT column: PostgreSQL refuses anything wider


@dataclass(frozen=True)
class Window:
    """``first``/``after`` or ``last``/``before`` (Relay): which slice of a list to read."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def backwards(self) -> bool:
        return self.last is not None

    def size(self) -> int:
        if self.first is not None and self.last is not None:
            raise DomainError.one(ErrorCode.INVALID, "give first or last, not both", "last")
        name, value = ("last", self.last) if self.backwards else ("first", self.first)
        if value is None:
            return DEFAULT_PAGE
        if not 0 <= value <= MAX_PAGE:
            raise DomainError.one(
                ErrorCode.INVALID, f"{name} must be between 0 and {MAX_PAGE}", name
            )
        return value


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, row), in the list's order whichever way it was read
    has_next: bool
    has_previous: bool = False

    @property
    def start_cursor(self) -> str | None:
        return self.items[0][0] if self.items else None

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def encode_cursor(value: datetime | int, row_id: uuid.UUID) -> str:
    position = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([position, str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, *, dated: bool = True, field: str = "after"
) -> tuple[datetime | int, uuid.UUID]:
    """The (ordering value, id) a cursor names; ``dated``: the list is ordered by a
    timestamp (else by an integer). Raises DomainError(INVALID) for anything else."""
    try:
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR:
            raise ValueError(cursor)
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        return _position(value, dated=dated), uuid.UUID(row_id)
    except (
        binascii.Error,
        ValueError,
        TypeError,
        AttributeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise DomainError.one(
            ErrorCode.INVALID, f"{field} is not a cursor from this list", field
        ) from exc


def _position(value: object, *, dated: bool) -> datetime | int:
    if dated:
        if not isinstance(value, str):
            raise TypeError(value)
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:  # ours are always aware; a naive one is not ours
            raise ValueError(value)
        return moment.astimezone(UTC)  # OverflowError at the calendar's ends: not ours
    if type(value) is not int or value not in INT_RANGE:  # bool is an int subclass
        raise TypeError(value)
    return value


def page_size(first: int | None) -> int:
    return Window(first=first).size()


async def keyset_page(
    queryset: QuerySet[T],
    *,
    order: str,
    window: Window,
    descending: bool = True,
) -> Page[T]:
    """One page of ``queryset`` in (``order``, id) order, newest first unless not
    ``descending``. Backwards pages are read in reverse and handed back in list order.
    ``has_previous`` going forwards (``has_next`` going backwards) says whether a cursor
    bounded the read on that side: the spec lets a server answer that without a query."""
    size = window.size()
    dated = isinstance(queryset.model._meta.fields_map[order], DatetimeField)
    for name, cursor, later in (("after", window.after, True), ("before", window.before, False)):
        if cursor is not None:
            value, row_id = decode_cursor(cursor, dated=dated, field=name)
            op = "lt" if descending == later else "gt"
            queryset = queryset.filter(
                Q(**{f"{order}__{op}": value}) | Q(**{order: value, f"id__{op}": row_id})
            )
    reverse = descending != window.backwards
    sign = "-" if reverse else ""
    rows = await queryset.order_by(f"{sign}{order}", f"{sign}id").limit(size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if window.backwards:
        rows.reverse()
    items = [(encode_cursor(getattr(row, order), row.id), row) for row in rows]
    if window.backwards:
        return Page(items=items, has_next=window.before is not None, has_previous=more)
    return Page(items=items, has_next=more, has_previous=window.after is not None)
