"""Relay connections over the domain's keyset pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from tenants.paging import Page

Node = TypeVar("Node")
Row = TypeVar("Row")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo


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
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
    )
