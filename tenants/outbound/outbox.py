"""Writing to the outbox, inside the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from tenants import crypto
from tenants.outbound.models import Channel, OutboxMessage
from tenants.tenancy.models import Tenant

RECIPIENT_PURPOSE = "outbox-recipient"
PAYLOAD_PURPOSE = "outbox-payload"


async def enqueue_email(
    *,
    tenant: Tenant,
    kind: str,
    recipient: str,
    locale: str | None,
    payload: dict[str, Any],
    subject_id: str | None = None,
) -> OutboxMessage:
    """Call inside the transaction of the change the message is about."""
    return await OutboxMessage.create(
        tenant_id=tenant.id,
        channel=Channel.EMAIL,
        kind=kind,
        recipient=crypto.encrypt(recipient, purpose=RECIPIENT_PURPOSE),
        recipient_hint=crypto.mask_email(recipient),
        recipient_index=crypto.blind_index(recipient, purpose=RECIPIENT_PURPOSE),
        locale=locale,
        payload=crypto.encrypt(json.dumps(payload), purpose=PAYLOAD_PURPOSE),
        subject_id=subject_id,
    )


def opened(message: OutboxMessage) -> tuple[str | None, dict[str, Any]]:
    """The recipient and payload in the clear, for the one who delivers the message."""
    recipient = message.recipient and crypto.decrypt(message.recipient, purpose=RECIPIENT_PURPOSE)
    payload = json.loads(crypto.decrypt(message.payload, purpose=PAYLOAD_PURPOSE))
    return recipient, payload
