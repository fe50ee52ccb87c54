"""Delivering one outbox message, at least once and never blindly twice.

A worker claims the row (a lease in the database), records the attempt, then sends.
Should it die between sending and marking, the message goes again after the lease, with
the same message id (e-mail Message-ID, webhook-id) so receivers can drop the repeat.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import urlsplit

import aiosmtplib
import httpx
from tortoise.expressions import Q

from tenants.outbound import signing, templates
from tenants.outbound.models import Channel, OutboxMessage, OutboxStatus, WebhookEndpoint
from tenants.outbound.outbox import opened, settle
from tenants.outbound.urls import resolve_public
from tenants.outbound.webhooks import secret_of
from tenants.redaction import mask_emails
from tenants.tenancy.models import Tenant

log = logging.getLogger("charter.delivery")

LEASE = timedelta(seconds=60)
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(hours=1)
WEBHOOK_TIMEOUT = 10.0
OPEN = (OutboxStatus.PENDING, OutboxStatus.FAILED)


@dataclass(frozen=True)
class Mailer:
    host: str | None
    port: int
    tls: str  # off | starttls | tls
    user: str | None
    password: str | None
    sender: str


@dataclass(frozen=True)
class Channels:
    mailer: Mailer
    http: httpx.AsyncClient
    allow_private_webhooks: bool
    max_attempts: int
    backoff_base: timedelta = BACKOFF_BASE


class DeliveryFailed(Exception):
    """The receiver refused or could not be reached; the message will be tried again."""


async def due(*, limit: int, now: datetime, email_enabled: bool) -> list[tuple[str, int]]:
    """Ids of messages ready to go: open, not leased, their backoff over."""
    query = OutboxMessage.filter(
        Q(status__in=list(OPEN))
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )
    if not email_enabled:  # no SMTP server configured: e-mail waits in the outbox
        query = query.exclude(channel=Channel.EMAIL)
    rows = await query.order_by("created_at").limit(limit).values_list("id", "attempts")
    return [(str(row_id), attempts) for row_id, attempts in rows]


async def deliver(message_id: str, channels: Channels) -> OutboxStatus | None:
    """Send one message if this worker wins its lease; returns its new status."""
    now = datetime.now(UTC)
    won = await OutboxMessage.filter(
        Q(id=message_id)
        & Q(status__in=list(OPEN))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ).update(claimed_until=now + LEASE)
    if not won:
        return None  # another worker has it, or it is done
    message = await OutboxMessage.get(id=message_id)
    message.attempts += 1  # recorded before sending: a crash still counts the try
    await message.save(update_fields=["attempts"])
    try:
        if message.channel == Channel.EMAIL:
            await _send_email(message, channels.mailer)
        else:
            await _send_webhook(message, channels)
    except Exception as error:  # every failure is the receiver's or the network's
        return await _failed(message, error, channels)
    message.status, message.sent_at, message.claimed_until = (
        OutboxStatus.SENT,
        datetime.now(UTC),
        None,
    )
    message.last_error = None
    await message.save(update_fields=["status", "sent_at", "claimed_until", "last_error"])
    await settle(message)
    return OutboxStatus.SENT


async def _failed(message: OutboxMessage, error: Exception, channels: Channels) -> OutboxStatus:
    # Shown to the tenant's admins and logged: an SMTP refusal names the recipient.
    reason = mask_emails(f"{type(error).__name__}: {error}")[:500]
    log.warning(
        "delivery of %s (%s) failed, try %d: %s", message.id, message.kind, message.attempts, reason
    )
    if message.attempts >= channels.max_attempts:
        message.status, message.next_attempt_at = OutboxStatus.DEAD, None
    else:
        # Exponential backoff with full jitter, so a failing receiver is not hammered in step.
        delay = min(BACKOFF_CAP, channels.backoff_base * 2 ** (message.attempts - 1))
        message.status = OutboxStatus.FAILED
        message.next_attempt_at = datetime.now(UTC) + delay * random.uniform(0.5, 1.0)
    message.last_error, message.claimed_until = reason, None
    await message.save(update_fields=["status", "next_attempt_at", "last_error", "claimed_until"])
    if message.status == OutboxStatus.DEAD:
        await settle(message)
    return message.status


async def _send_email(message: OutboxMessage, mailer: Mailer) -> None:
    if mailer.host is None:
        raise DeliveryFailed("no SMTP server configured (CHARTER_SMTP_HOST)")
    tenant = await Tenant.get(id=message.tenant_id)
    recipient, payload = opened(message)
    rendered = templates.render(
        kind=message.kind,
        locale=message.locale or tenant.default_locale,
        payload=payload,
        tenant_name=tenant.name,
        overrides=(tenant.email_templates or {}).get(message.kind),
    )
    email = EmailMessage()
    email["From"] = (
        formataddr((templates.one_line(tenant.name), tenant.mail_from))
        if tenant.mail_from
        else mailer.sender
    )
    email["To"] = recipient
    email["Subject"] = rendered.subject
    # The message id is the delivery key: a repeat after a crash carries the same one.
    email["Message-ID"] = f"<{message.id}@charter>"
    email.set_content(rendered.text)
    email.add_alternative(rendered.html, subtype="html")
    email["Content-Language"] = rendered.locale  # after set_content, which drops Content-*
    await aiosmtplib.send(
        email,
        hostname=mailer.host,
        port=mailer.port,
        username=mailer.user,
        password=mailer.password,
        use_tls=mailer.tls == "tls",
        start_tls=mailer.tls == "starttls",
        timeout=30,
    )


async def _send_webhook(message: OutboxMessage, channels: Channels) -> None:
    endpoint = await WebhookEndpoint.get_or_none(id=message.endpoint_id, disabled_at__isnull=True)
    if endpoint is None:
        raise DeliveryFailed("the webhook endpoint was deleted")
    # Checked again at send time: a name may now resolve somewhere it must not (rebinding).
    target, host_header, extensions = await _pinned(endpoint.url, channels.allow_private_webhooks)
    _, payload = opened(message)
    # Standard Webhooks: the payload's timestamp is the event's (when the message was
    # written, in the change's transaction), the same on every retry; the header's is
    # the attempt's, so a receiver's replay window accepts a late but genuine retry.
    timestamp = int(datetime.now(UTC).timestamp())
    body = json.dumps(
        {"type": message.kind, "timestamp": _utc(message.created_at), "data": payload},
        ensure_ascii=False,
    ).encode()
    headers = signing.headers(
        secret=secret_of(endpoint), msg_id=str(message.id), timestamp=timestamp, body=body
    )
    response = await channels.http.post(
        target,
        content=body,
        extensions=extensions,
        headers={**headers, **host_header, "content-type": "application/json"},
        timeout=WEBHOOK_TIMEOUT,
        follow_redirects=False,
    )
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"the endpoint answered {response.status_code}")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _pinned(url: str, allow_private: bool) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with its host replaced by an address checked just now, plus the Host header
    and TLS server name that keep the request addressed to the name: resolving once and
    connecting to that address leaves a rebinding DNS server no second answer to give."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = (await resolve_public(host, port, allow_private=allow_private))[0]
    if address == host:
        return url, {}, {}
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    host_header = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl(), {"host": host_header}, extensions
