"""Writing to the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from tenants import crypto
from tenants.outbound.models import Channel, OutboxMessage
from tenants.tenancy.models import Tenant

RECIPIENT_PURPOSE = "outbox-recipient"
PAYLOAD_PURPOSE = "outbox-payload"


def email(
    *,
    tenant: Tenant,
    kind: str,
    recipient: str,
    locale: str | None,
    payload: dict[str, Any],
    subject_id: str | None = None,
) -> OutboxMessage:
    """An unsaved e-mail message; ``enqueue`` writes it in the caller's transaction."""
    return OutboxMessage(
        tenant_id=tenant.id,
        channel=Channel.EMAIL,
        kind=kind,
        recipient=crypto.encrypt(recipient, purpose=RECIPIENT_PURPOSE),
        recipient_hint=crypto.mask_email(recipient),
        recipient_index=crypto.blind_index(recipient, purpose=RECIPIENT_PURPOSE),
        locale=locale,
        payload=_sealed(payload),
        subject_id=subject_id,
    )


def event(
    *, tenant: Tenant, kind: str, payload: dict[str, Any], subject_id: str | None = None
) -> OutboxMessage:
    """An unsaved webhook event for the tenant's own systems."""
    return OutboxMessage(
        tenant_id=tenant.id,
        channel=Channel.WEBHOOK,
        kind=kind,
        locale=payload.get("locale"),
        payload=_sealed(payload),
        subject_id=subject_id,
    )


async def enqueue(*messages: OutboxMessage) -> None:
    """Call inside the transaction of the change the messages are about: they exist if
    and only if it commits."""
    await OutboxMessage.bulk_create(list(messages), batch_size=500)


def _sealed(payload: dict[str, Any]) -> str:
    return crypto.encrypt(json.dumps(payload, ensure_ascii=False), purpose=PAYLOAD_PURPOSE)


def opened(message: OutboxMessage) -> tuple[str | None, dict[str, Any]]:
    """The recipient and payload in the clear, for the one who delivers the message."""
    recipient = message.recipient and crypto.decrypt(message.recipient, purpose=RECIPIENT_PURPOSE)
    payload = json.loads(crypto.decrypt(message.payload, purpose=PAYLOAD_PURPOSE))
    return recipient, payload
