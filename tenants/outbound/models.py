"""The outbox: a message exists if and only if the transaction that wrote it committed."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from tenants.models import TenantOwned


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # failed at least once, will be tried again
    DEAD = "DEAD"  # gave up after the configured number of tries


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


# recipient and payload are encrypted: they carry addresses and one-time tokens.
class OutboxMessage(TenantOwned):
    channel = fields.CharEnumField(Channel, max_length=16)
    kind = fields.CharField(max_length=64)  # the template or event name
    recipient = fields.TextField(null=True)
    recipient_hint = fields.CharField(max_length=254, null=True)  # masked, for display
    recipient_index = fields.CharField(max_length=64, null=True, db_index=True)  # blind index
    locale = fields.CharField(max_length=35, null=True)
    payload = fields.TextField()
    subject_id = fields.CharField(max_length=255, null=True, db_index=True)
    endpoint_id = fields.UUIDField(null=True)  # webhook messages: the one endpoint to call
    claimed_until = fields.DatetimeField(null=True)  # a worker is sending it until then
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    next_attempt_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("status", "next_attempt_at"),)


# A tenant's receiver of webhook events; the signing secret is encrypted at rest.
class WebhookEndpoint(TenantOwned):
    url = fields.TextField()
    events: list = fields.JSONField(default=list)
    secret = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_endpoint"
