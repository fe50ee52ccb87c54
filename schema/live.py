"""Subscriptions: live policy publications (public), and a tenant's requests and breaches
(secret keys, their own tenant only), fanned out from the process's one pub/sub
connection (tenants.live.Hub)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from schema.breaches import Breach, shown
from schema.enums import PolicyKind
from schema.permissions import caller, require
from schema.policies import PublishedPolicy, published_type
from schema.subject_requests import SubjectRequest
from schema.subject_requests import _shown as shown_request
from tenants import live
from tenants.breaches import service as breaches
from tenants.policies import published
from tenants.subject_requests import service as requests
from tenants.tenancy.roles import Capability


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The site's policy, each time a version takes effect.")
    async def policy_published(
        self,
        info: Info,
        site: str,
        kind: PolicyKind | None = PolicyKind.PRIVACY,
        locale: str | None = None,
    ) -> AsyncGenerator[PublishedPolicy, None]:
        caller(info)
        cache = info.context.cache
        tenant_id = await published.tenant_of_site(cache=cache, site=site)
        if tenant_id is None:
            return  # an unknown site ends quietly, saying nothing of what exists
        async for event in info.context.live.listen(tenant_id, live.POLICY):
            if event.get("detail") != (kind or PolicyKind.PRIVACY).value:
                continue
            # Negotiated as publishedPolicy negotiates: the argument, else the handshake's
            # Accept-Language (a browser's WebSocket sends it), else the tenant's default.
            view = await published.published_policy(
                cache=cache,
                site=site,
                kind=kind or PolicyKind.PRIVACY,
                now=datetime.now(UTC),
                locale=locale,
                accept_language=info.context.request.headers.get("accept-language"),
            )
            if view is not None:
                yield published_type(view)

    @strawberry.subscription
    async def subject_request_updated(self, info: Info) -> AsyncGenerator[SubjectRequest, None]:
        tenant, _ = require(info, Capability.READ)
        async for event in info.context.live.listen(tenant.id, live.REQUEST):
            row = await requests.find(tenant=tenant, request_id=event["id"])
            if row is not None:
                yield await shown_request(tenant, row)

    @strawberry.subscription
    async def breach_updated(self, info: Info) -> AsyncGenerator[Breach, None]:
        tenant, _ = require(info, Capability.READ)
        async for event in info.context.live.listen(tenant.id, live.BREACH):
            row = await breaches.find(tenant=tenant, breach_id=event["id"])
            if row is not None:
                yield await shown(tenant, row)
