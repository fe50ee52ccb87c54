"""Writing to the outbox, inside the caller's transaction: a message exists if and only
if the change it is about committed."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tenants import crypto
from tenants.outbound import events as event_names
from tenants.outbound.models import Channel, OutboxMessage, OutboxStatus, WebhookEndpoint
from tenants.paging import Page, Window, keyset_page
from tenants.scoping import owned
from tenants.tenancy.models import Tenant

RECIPIENT_PURPOSE = "outbox-recipient"
PAYLOAD_PURPOSE = "outbox-payload"
# A payload key: the address is used once (an erasure's confirmation) and blanked as soon
# as the message is delivered or given up on.
FORGET_RECIPIENT = "forget_recipient"


def email(
    *,
    tenant: Tenant,
    kind: str,
    recipient: str,
    locale: str | None,
    payload: dict[str, Any],
    subject_id: str | None = None,
) -> OutboxMessage:
    """An unsaved e-mail message; ``enqueue`` writes it."""
    at = {"tenant_id": tenant.id, "row_id": uuid.uuid4()}
    return OutboxMessage(
        id=at["row_id"],
        tenant_id=tenant.id,
        channel=Channel.EMAIL,
        kind=kind,
        recipient=crypto.encrypt(recipient, purpose=RECIPIENT_PURPOSE, **at),
        recipient_hint=crypto.mask_email(recipient),
        recipient_index=crypto.blind_index(recipient, purpose=RECIPIENT_PURPOSE),
        locale=locale,
        payload=sealed(payload, **at),
        subject_id=subject_id,
    )


async def subscribers(*, tenant: Tenant, kind: str) -> list[uuid.UUID]:
    """The tenant's live endpoints that asked for ``kind``."""
    rows = await owned(WebhookEndpoint, tenant=tenant).filter(disabled_at__isnull=True)
    return [row.id for row in rows if kind in row.events]


def events(
    *,
    tenant: Tenant,
    kind: str,
    payload: dict[str, Any],
    endpoints: list[uuid.UUID],
    subject_id: str | None = None,
) -> list[OutboxMessage]:
    """Unsaved webhook messages, one per endpoint. With no endpoint to take it, the event
    is kept as DEAD, so the tenant sees in outboxMessages what nobody received."""
    common = {
        "tenant_id": tenant.id,
        "channel": Channel.WEBHOOK,
        "kind": kind,
        "locale": payload.get("locale"),
        "subject_id": subject_id,
    }

    def message(**fields: Any) -> OutboxMessage:
        row_id = uuid.uuid4()
        own = sealed(payload, tenant_id=tenant.id, row_id=row_id)
        return OutboxMessage(id=row_id, payload=own, **common, **fields)

    if not endpoints:
        return [
            message(
                status=OutboxStatus.DEAD, last_error=f"no webhook endpoint subscribed to {kind}"
            )
        ]
    return [message(endpoint_id=e) for e in endpoints]


async def announce(
    *, tenant: Tenant, kind: str, payload: dict[str, Any], subject_id: str | None = None
) -> None:
    """Raise one webhook event (inside the caller's transaction)."""
    targets = await subscribers(tenant=tenant, kind=kind)
    if targets:
        await enqueue(
            *events(
                tenant=tenant, kind=kind, payload=payload, endpoints=targets, subject_id=subject_id
            )
        )


async def enqueue(*messages: OutboxMessage) -> None:
    if messages:
        await OutboxMessage.bulk_create(list(messages), batch_size=500)


def opened(message: OutboxMessage) -> tuple[str | None, dict[str, Any]]:
    """The recipient and payload in the clear, for the one who delivers the message."""
    at = {"tenant_id": message.tenant_id, "row_id": message.id}
    recipient = message.recipient and crypto.decrypt(
        message.recipient, purpose=RECIPIENT_PURPOSE, **at
    )
    payload = json.loads(crypto.decrypt(message.payload, purpose=PAYLOAD_PURPOSE, **at))
    return recipient, payload


def sealed(payload: dict[str, Any], *, tenant_id: object, row_id: object) -> str:
    """A message's payload as stored: bound to its tenant and row (tenants/crypto.py)."""
    text = json.dumps(payload, ensure_ascii=False)
    return crypto.encrypt(text, purpose=PAYLOAD_PURPOSE, tenant_id=tenant_id, row_id=row_id)


def resealed(message: OutboxMessage, payload: dict[str, Any]) -> str:
    return sealed(payload, tenant_id=message.tenant_id, row_id=message.id)


async def settle(message: OutboxMessage) -> None:
    """What a message keeps once it is SENT or DEAD: the record that it went out (or did
    not), and no more personal data than that record needs.

    - an erasure's confirmation loses its address (FORGET_RECIPIENT);
    - a delivered ``consent.recorded`` batch keeps its sequence range: the ledger holds the
      events, so the copy of their subject ids has done its job.
    """
    if message.channel == Channel.EMAIL:
        _, payload = opened(message)
        if payload.get(FORGET_RECIPIENT):
            await OutboxMessage.filter(id=message.id).update(
                recipient=None,
                recipient_hint=None,
                recipient_index=None,
                payload=resealed(
                    message, {"request_id": payload.get("request_id"), "erased": True}
                ),
            )
    elif message.kind == event_names.CONSENT_RECORDED and message.status == OutboxStatus.SENT:
        _, payload = opened(message)
        kept = {key: payload.get(key) for key in ("from_sequence", "to_sequence")}
        await OutboxMessage.filter(id=message.id).update(payload=resealed(message, kept))


async def messages_page(
    *, tenant: Tenant, status: OutboxStatus | None, window: Window
) -> Page[OutboxMessage]:
    """Newest first; dead letters are the ones to look at."""
    query = owned(OutboxMessage, tenant=tenant)
    if status is not None:
        query = query.filter(status=status)
    return await keyset_page(query, order="created_at", window=window)
