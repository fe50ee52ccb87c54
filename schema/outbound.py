"""Webhook endpoints and the outbox, for the tenant's own systems and operators."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from schema.enums import OutboxStatus
from schema.errors import UserError, mutate, query
from schema.node import Node
from schema.pagination import Connection, connection, window
from schema.permissions import require
from tenants.outbound import outbox, webhooks
from tenants.outbound.models import OutboxMessage as MessageRow
from tenants.outbound.models import WebhookEndpoint as EndpointRow
from tenants.tenancy.roles import Capability


@strawberry.type
class OutboxMessage(Node):
    id: strawberry.ID
    channel: str
    kind: str
    recipient: str | None = strawberry.field(description="Masked e-mail; null for webhooks.")
    status: OutboxStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, row: MessageRow) -> OutboxMessage:
        return cls(
            id=strawberry.ID(str(row.id)),
            channel=row.channel,
            kind=row.kind,
            recipient=row.recipient_hint,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at,
        )


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[str]
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, row: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            events=list(row.events),
            created_at=row.created_at,
            disabled_at=row.disabled_at,
        )


@strawberry.type
class CreateWebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    secret: str | None = strawberry.field(default=None, description='"whsec_…", shown once.')
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteWebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OutboundQuery:
    @strawberry.field
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        tenant, _ = require(info, Capability.READ_ADMIN)
        return [WebhookEndpoint.of(row) for row in await webhooks.endpoints(tenant=tenant)]

    @strawberry.field
    async def outbox_messages(
        self,
        info: Info,
        status: OutboxStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[OutboxMessage]:
        tenant, _ = require(info, Capability.MANAGE)
        page = await query(
            outbox.messages_page(
                tenant=tenant, status=status, window=window(first, after, last, before)
            )
        )
        return connection(page, OutboxMessage.of)


@strawberry.type
class OutboundMutation:
    @strawberry.mutation
    async def create_webhook_endpoint(
        self, info: Info, url: str, events: list[str]
    ) -> CreateWebhookEndpointPayload:
        tenant, principal = require(info, Capability.MANAGE)
        settings = info.context.request.app.state.settings

        async def create() -> CreateWebhookEndpointPayload:
            row, secret = await webhooks.create_endpoint(
                tenant=tenant,
                actor=principal.actor,
                url=url,
                kinds=events,
                allow_private=settings.delivery.allow_private_webhooks,
            )
            return CreateWebhookEndpointPayload(endpoint=WebhookEndpoint.of(row), secret=secret)

        return await mutate(CreateWebhookEndpointPayload, create)

    @strawberry.mutation
    async def delete_webhook_endpoint(
        self, info: Info, id: strawberry.ID
    ) -> DeleteWebhookEndpointPayload:
        tenant, principal = require(info, Capability.MANAGE)

        async def delete() -> DeleteWebhookEndpointPayload:
            row = await webhooks.delete_endpoint(
                tenant=tenant, actor=principal.actor, endpoint_id=id
            )
            return DeleteWebhookEndpointPayload(endpoint=WebhookEndpoint.of(row))

        return await mutate(DeleteWebhookEndpointPayload, delete)
