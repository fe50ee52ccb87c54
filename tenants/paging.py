"""Keyset pagination: stable pages however fast the table grows (newest first by default).

A cursor is an opaque string naming the last row seen: its ordering value and id.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from tenants.errors import DomainError, ErrorCode

T = TypeVar("T")

DEFAULT_PAGE = 20
MAX_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[str, T]]  # (cursor, row)
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None


def encode_cursor(value: datetime | int, row_id: uuid.UUID) -> str:
    position = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([position, str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | int, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        position = value if isinstance(value, int) else datetime.fromisoformat(value)
        return position, uuid.UUID(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise DomainError.one(
            ErrorCode.INVALID, "after is not a cursor from this list", "after"
        ) from exc


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise DomainError.one(ErrorCode.INVALID, f"first must be between 0 and {MAX_PAGE}", "first")
    return first


async def keyset_page(
    queryset: QuerySet[T],
    *,
    order: str,
    first: int | None,
    after: str | None,
    descending: bool = True,
) -> Page[T]:
    size = page_size(first)
    beyond = "lt" if descending else "gt"
    if after is not None:
        value, row_id = decode_cursor(after)
        queryset = queryset.filter(
            Q(**{f"{order}__{beyond}": value}) | Q(**{order: value, f"id__{beyond}": row_id})
        )
    sign = "-" if descending else ""
    rows = await queryset.order_by(f"{sign}{order}", f"{sign}id").limit(size + 1)
    items = [(encode_cursor(getattr(row, order), row.id), row) for row in rows[:size]]
    return Page(items=items, has_next=len(rows) > size)
