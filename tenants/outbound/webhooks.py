"""Tenants' webhook endpoints: registered with a secret shown once, refused when they
point inside our network."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from tenants import crypto
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.outbound import events
from tenants.outbound.models import WebhookEndpoint
from tenants.outbound.signing import new_secret
from tenants.outbound.urls import check_webhook_url
from tenants.scoping import owned, owned_one
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

SECRET_PURPOSE = "webhook-secret"
MAX_ENDPOINTS = 20


async def create_endpoint(
    *, tenant: Tenant, actor: str, url: str, kinds: list[str], allow_private: bool
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret, the only time the secret is shown."""
    problems = Problems()
    # The check resolves the host name: off the event loop.
    reason = await asyncio.to_thread(check_webhook_url, url.strip(), allow_private=allow_private)
    if reason:
        problems.add(ErrorCode.INVALID_URL, reason, "url")
    if not kinds:
        problems.add(ErrorCode.REQUIRED, "subscribe to at least one event", "events")
    for index, kind in enumerate(kinds):
        if kind not in events.ALL:
            problems.add(
                ErrorCode.UNKNOWN_EVENT,
                f"{kind!r} is not one of {', '.join(events.ALL)}",
                "events",
                str(index),
            )
    if (
        await owned(WebhookEndpoint, tenant=tenant).filter(disabled_at__isnull=True).count()
        >= MAX_ENDPOINTS
    ):
        problems.add(ErrorCode.TOO_MANY, f"at most {MAX_ENDPOINTS} endpoints", "url")
    problems.raise_if_any()
    secret, endpoint_id = new_secret(), uuid.uuid4()
    async with in_transaction():
        endpoint = await WebhookEndpoint.create(
            id=endpoint_id,
            tenant_id=tenant.id,
            url=url.strip(),
            events=sorted(set(kinds)),
            secret=crypto.encrypt(
                secret, purpose=SECRET_PURPOSE, tenant_id=tenant.id, row_id=endpoint_id
            ),
        )
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook_endpoint.create",
            target=f"webhook_endpoint:{endpoint.id}",
            details={"url": endpoint.url, "events": endpoint.events},
        )
    return endpoint, secret


async def delete_endpoint(*, tenant: Tenant, actor: str, endpoint_id: str) -> WebhookEndpoint:
    """Disable, not delete: what was sent to it stays explainable."""
    endpoint = await owned_one(WebhookEndpoint, tenant=tenant, id=endpoint_id)
    if endpoint is None or endpoint.disabled_at is not None:
        raise DomainError.one(ErrorCode.NOT_FOUND, "no such webhook endpoint", "id")
    async with in_transaction():
        endpoint.disabled_at = datetime.now(UTC)
        await endpoint.save(update_fields=["disabled_at"])
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="webhook_endpoint.delete",
            target=f"webhook_endpoint:{endpoint.id}",
        )
    return endpoint


async def endpoints(*, tenant: Tenant) -> list[WebhookEndpoint]:
    return (
        await owned(WebhookEndpoint, tenant=tenant)
        .filter(disabled_at__isnull=True)
        .order_by("created_at")
    )


def secret_of(endpoint: WebhookEndpoint) -> str:
    return crypto.decrypt(
        endpoint.secret, purpose=SECRET_PURPOSE, tenant_id=endpoint.tenant_id, row_id=endpoint.id
    )
