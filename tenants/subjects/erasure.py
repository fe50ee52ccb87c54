"""Erasure: every personal field Charter holds on a subject, removed or irreversibly
pseudonymised, while the consent chain still verifies and the minimum proof remains
(that consent was withdrawn, that the request was done)."""

from __future__ import annotations

import json
from datetime import datetime

from tortoise import connections

from tenants import crypto
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.consent.withdrawal import withdraw
from tenants.outbound.models import OutboxMessage, OutboxStatus
from tenants.outbound.outbox import PAYLOAD_PURPOSE, RECIPIENT_PURPOSE
from tenants.scoping import owned
from tenants.subjects.models import SubjectContact, SubjectFlags
from tenants.tenancy.models import Tenant


def pseudonym(subject_id: str) -> str:
    """What stands for an erased subject id: a keyed hash, no way back without the key."""
    return "erased:" + crypto.keyed_hash(subject_id, purpose="erasure")[:32]


async def subjects_by_email(*, tenant: Tenant, email: str) -> set[str]:
    index = crypto.blind_index(email, purpose="subject-email")
    rows = (
        await owned(SubjectContact, tenant=tenant)
        .filter(email_index=index)
        .values_list("subject_id", flat=True)
    )
    return set(rows)


async def erase_subject(*, tenant: Tenant, actor: str, subject_id: str, now: datetime) -> None:
    """Runs in the caller's transaction."""
    await withdraw(
        tenant=tenant, actor=actor, subject_id=subject_id, now=now
    )  # the proof that stays
    alias = pseudonym(subject_id)
    # Chained columns stay as they are; the personal ones and their salt go.
    await (
        owned(ConsentEvent, tenant=tenant)
        .filter(subject_id=subject_id)
        .update(subject_id=alias, ip=None, user_agent=None, source_url=None, salt=None)
    )
    await owned(ConsentState, tenant=tenant).filter(subject_id=subject_id).update(subject_id=alias)
    await owned(SubjectFlags, tenant=tenant).filter(subject_id=subject_id).update(subject_id=alias)
    await owned(SubjectContact, tenant=tenant).filter(subject_id=subject_id).delete()
    await _blank_messages(owned(OutboxMessage, tenant=tenant).filter(subject_id=subject_id))


async def erase_email(*, tenant: Tenant, email: str) -> None:
    """Messages addressed to ``email``, wherever they came from."""
    index = crypto.blind_index(email, purpose=RECIPIENT_PURPOSE)
    await _blank_messages(owned(OutboxMessage, tenant=tenant).filter(recipient_index=index))


async def _blank_messages(query) -> None:
    await query.update(
        subject_id=None,
        recipient=None,
        recipient_hint=None,
        recipient_index=None,
        payload=crypto.encrypt(json.dumps({"erased": True}), purpose=PAYLOAD_PURPOSE),
        status=OutboxStatus.DEAD,
        last_error="erased on the subject's request",
    )


async def scrub_free_pages() -> None:
    """On SQLite, push freed pages out of the write-ahead log, so no copy of an erased
    value outlives the erasure on disk (secure_delete zeroes them in the database)."""
    client = connections.get("default")
    if client.capabilities.dialect == "sqlite":
        await client.execute_script("PRAGMA wal_checkpoint(TRUNCATE)")
