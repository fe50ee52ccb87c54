"""Erasure: every personal field Charter holds on a subject, removed or irreversibly
pseudonymised, while the consent chain still verifies and the minimum proof remains
(that consent was withdrawn, that the request was done, that a notice went out).

Where a subject id is kept as a record (breach notices, delivered messages), it becomes
the subject's pseudonym: the record stays, the person goes. tests/test_erasure.py seeds
one subject into every table and checks that nothing of them is left anywhere.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from tortoise import connections

from tenants import crypto
from tenants.breaches.models import BreachNotice
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.consent.withdrawal import withdraw
from tenants.outbound import events
from tenants.outbound.models import OutboxMessage, OutboxStatus
from tenants.outbound.outbox import RECIPIENT_PURPOSE, opened, resealed, sealed
from tenants.scoping import owned
from tenants.subject_requests.models import RequestEvent
from tenants.subjects.contacts import index_of
from tenants.subjects.models import SubjectContact, SubjectFlags
from tenants.tenancy.models import Tenant
from tenants.validation import ERASED_PREFIX

ERASED_NOTE = "erased on the subject's request"
ERASED_EMAIL = "[erased e-mail address]"


def pseudonym(subject_id: str) -> str:
    """What stands for an erased subject id: a keyed hash, no way back without the key."""
    return ERASED_PREFIX + crypto.keyed_hash(subject_id, purpose="erasure")[:32]


async def erase_subject(*, tenant: Tenant, actor: str, subject_id: str, now: datetime) -> None:
    """Runs in the caller's transaction."""
    await withdraw(
        tenant=tenant, actor=actor, subject_id=subject_id, now=now
    )  # the proof that stays
    alias = pseudonym(subject_id)
    await _make_room(tenant, subject_id, alias)
    # Chained columns stay as they are; the personal ones and their salt go.
    await (
        owned(ConsentEvent, tenant=tenant)
        .filter(subject_id=subject_id)
        .update(subject_id=alias, ip=None, user_agent=None, source_url=None, salt=None)
    )
    await owned(ConsentState, tenant=tenant).filter(subject_id=subject_id).update(subject_id=alias)
    await owned(SubjectFlags, tenant=tenant).filter(subject_id=subject_id).update(subject_id=alias)
    await owned(SubjectContact, tenant=tenant).filter(subject_id=subject_id).delete()
    # That a breach notice went out stays on record (and a second call still tells nobody
    # twice); to whom is gone.
    await owned(BreachNotice, tenant=tenant).filter(subject_id=subject_id).update(subject_id=alias)
    await _blank_messages(owned(OutboxMessage, tenant=tenant).filter(subject_id=subject_id), alias)
    await _rewrite_batches(tenant, subject_id, alias)


async def _make_room(tenant: Tenant, subject_id: str, alias: str) -> None:
    """A person erased before, who came back, has rows under ``alias`` already (the
    pseudonym is a keyed hash of the id): where renaming would make two rows of a unique
    key, one goes. The newer state of a purpose and the newer flags stand; of two notices
    of one breach, the first (that a notice went out is what is kept)."""
    state = owned(ConsentState, tenant=tenant)
    purposes = await state.filter(subject_id=subject_id).values_list("purpose", flat=True)
    if purposes:
        await state.filter(subject_id=alias, purpose__in=purposes).delete()
    flags = owned(SubjectFlags, tenant=tenant)
    if await flags.filter(subject_id=subject_id).exists():
        await flags.filter(subject_id=alias).delete()
    notices = owned(BreachNotice, tenant=tenant)
    told = await notices.filter(subject_id=alias).values_list("breach_id", flat=True)
    if told:
        await notices.filter(subject_id=subject_id, breach_id__in=told).delete()


async def erase_email(*, tenant: Tenant, email: str) -> None:
    """The address everywhere: contact rows carrying it (for whichever subject they were
    given), and messages addressed to it, wherever they came from."""
    await owned(SubjectContact, tenant=tenant).filter(email_index=index_of(email)).delete()
    index = crypto.blind_index(email, purpose=RECIPIENT_PURPOSE)
    await _blank_messages(owned(OutboxMessage, tenant=tenant).filter(recipient_index=index), None)


async def _blank_messages(query, alias: str | None) -> None:
    """A message already delivered stays SENT (the record that it went out) with its
    recipient and content gone; one not yet delivered never will be: DEAD."""
    blank: dict[str, object] = {"recipient": None, "recipient_hint": None, "recipient_index": None}
    if alias is not None:
        blank["subject_id"] = alias
    undelivered = {"status": OutboxStatus.DEAD, "last_error": ERASED_NOTE, "next_attempt_at": None}
    # One row at a time: each payload is sealed to its own row (tenants/crypto.py).
    for row_id, tenant_id, status in await query.values_list("id", "tenant_id", "status"):
        payload = sealed({"erased": True}, tenant_id=tenant_id, row_id=row_id)
        more = {} if status == OutboxStatus.SENT else undelivered
        await OutboxMessage.filter(id=row_id).update(**blank, **more, payload=payload)


async def _rewrite_batches(tenant: Tenant, subject_id: str, alias: str) -> None:
    """``consent.recorded`` events carry many subjects: the subject's id in them becomes its
    pseudonym. Delivered batches keep only their range (outbox.settle), so only the ones
    still on their way, or dead, are read here."""
    rows = await (
        owned(OutboxMessage, tenant=tenant)
        .filter(kind=events.CONSENT_RECORDED)
        .exclude(status=OutboxStatus.SENT)
    )
    needle = json.dumps(subject_id, ensure_ascii=False)
    for row in rows:
        _, payload = opened(row)
        if needle not in json.dumps(payload, ensure_ascii=False):
            continue
        for event in payload.get("events", []):
            if event.get("subject_id") == subject_id:
                event["subject_id"] = alias
        await OutboxMessage.filter(id=row.id).update(payload=resealed(row, payload))


async def scrub_notes(*, tenant: Tenant, values: dict[str, str]) -> None:
    """Request timelines keep their notes (what was done, when, by whom), without the
    erased subject ids and addresses a person may have typed into them."""
    # Longest first: an address may contain the subject id ("dave" in "dave@example.com").
    for value, stand_in in sorted(values.items(), key=lambda item: -len(item[0])):
        pattern = re.compile(re.escape(value), re.IGNORECASE)
        for event in await owned(RequestEvent, tenant=tenant).filter(note__icontains=value):
            event.note = pattern.sub(stand_in, event.note)
            await event.save(update_fields=["note"])


async def scrub_free_pages() -> None:
    """On SQLite, push freed pages out of the write-ahead log, so no copy of an erased
    value outlives the erasure on disk (secure_delete zeroes them in the database)."""
    client = connections.get("default")
    if client.capabilities.dialect == "sqlite":
        await client.execute_script("PRAGMA wal_checkpoint(TRUNCATE)")
