"""Waking subscribers after a change committed, on every server process."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from tenants import live


async def tell(
    info: Info, tenant_id: Any, topic: str, object_id: Any, detail: str | None = None
) -> None:
    if info.context.cache.available():  # with Redis down, nobody is listening anyway
        await live.publish(info.context.cache.redis, tenant_id, topic, str(object_id), detail)
