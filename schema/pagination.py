"""Relay connections over the domain's keyset pages (Relay Cursor Connections spec).

Every connection field takes ``first``/``after`` and ``last``/``before`` and answers
``edges { cursor node }`` and ``pageInfo { hasNextPage hasPreviousPage startCursor
endCursor }``, so Relay's ``@connection`` and any cursor client can page it both ways.
A resolver turns its four arguments into a ``tenants.paging.Window`` with ``window``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from tenants.paging import Page, Window

Node = TypeVar("Node")
Row = TypeVar("Row")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo


def window(
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Window:
    """A connection's page arguments, as the domain reads them."""
    return Window(first=first, after=after, last=last, before=before)


def connection(
    page: Page[Row],
    node: Callable[[Row], Node],
    *,
    kind: type = Connection,
    edge: type = Edge,
) -> Connection[Node]:
    """A connection of ``node(row)`` per row; ``kind``/``edge`` name a non-generic pair."""
    return kind(
        edges=[edge(cursor=cursor, node=node(row)) for cursor, row in page.items],
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
    )
