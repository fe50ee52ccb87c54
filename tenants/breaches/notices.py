"""Telling people their data leaked: by e-mail where Charter has an address, else as a
`breach.notice` event to the tenant, which knows its users. Each person once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from tenants import validation
from tenants.breaches.kinds import ClockKind
from tenants.breaches.models import Breach, BreachClock, BreachNotice
from tenants.breaches.service import announce, get, note, open_clocks, refresh_next_due
from tenants.chunks import CHUNK, chunks, keyset, paced
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.outbound import events, outbox
from tenants.policies.locales import choose
from tenants.scoping import owned
from tenants.subject_requests.models import SUBJECT_PROOFS, SubjectRequest
from tenants.subject_requests.records import email_of as request_email
from tenants.subjects.contacts import contact_email
from tenants.subjects.models import SubjectContact
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

REQUEST_EMAIL = "request-email"
ERASED = validation.ERASED_PREFIX
# subjectIds per call. Not the database's limit (lists are chunked) but the GraphQL
# layer's: coercing a list variable costs about 5 µs an item on the event loop, so 10,000
# ids hold it for about 50 ms. More people: call again (nobody is told twice), or allAffected.
MAX_SUBJECTS = 10_000


@dataclass(frozen=True)
class Message:
    locale: str
    title: str
    body: str


async def notify(
    *,
    tenant: Tenant,
    actor: str,
    breach_id: str,
    messages: list[Message],
    subject_ids: list[str] | None,
    all_affected: bool,
) -> tuple[Breach, int]:
    """Queue one notice per person not yet told; returns the breach and how many were queued."""
    texts = _messages(messages)
    if (subject_ids is not None) == all_affected:
        raise DomainError.one(
            ErrorCode.INVALID, "give either subjectIds or allAffected: true", "input"
        )
    listed = None if all_affected else _clean_ids(subject_ids or [])
    breach = await get(tenant=tenant, breach_id=breach_id)
    endpoints = await outbox.subscribers(tenant=tenant, kind=events.BREACH_NOTICE)
    wanted = _affected(tenant) if listed is None else _listed(listed)
    queued = told = 0
    # A chunk of people per transaction: every query stays under the driver's parameter
    # cap, each step's Python is short, and no write lock is held for the whole run (on
    # SQLite that lock is every tenant's). Past the request's time limit the call goes on
    # to its end (server.execution.shielded); one stopped all the same (its process ended)
    # keeps what it queued. Calling again goes on from there, and nobody is told twice:
    # each chunk checks who was told under the breach's row lock.
    async for part in wanted:
        async with in_transaction():
            breach = await get(tenant=tenant, breach_id=breach_id, lock=True)
            fresh = await _not_yet_told(tenant, breach, part)
            told += len(part) - len(fresh)
            added = await _queue(tenant, breach, fresh, texts, endpoints)
            if added:
                breach.notices_sent += added
                await breach.save(update_fields=["notices_sent"])
            queued += added
    now = datetime.now(UTC)
    async with in_transaction():
        breach = await get(tenant=tenant, breach_id=breach_id, lock=True)
        # Everyone is queued: the SUBJECTS clocks are met.
        await (
            owned(BreachClock, tenant=tenant)
            .filter(breach_id=breach.id, kind=ClockKind.SUBJECTS, satisfied_at__isnull=True)
            .update(satisfied_at=now)
        )
        await note(
            breach,
            actor=actor,
            at=now,
            text=f"{queued} notice(s) queued to people ({told} already told)",
            changes={"notices_sent": breach.notices_sent},
        )
        await open_clocks(breach, tenant=tenant, actor=actor, now=now)  # those counted from notice
        await refresh_next_due(breach)
        await announce(tenant, breach, events.BREACH_UPDATED)
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="breach.notify_subjects",
            target=f"breach:{breach.id}",
            details={"queued": queued},
        )
    return breach, queued


def _messages(messages: list[Message]) -> dict[str, Message]:
    problems = Problems()
    if not messages:
        problems.add(
            ErrorCode.REQUIRED, "give the notice text in at least one locale", "input", "message"
        )
    texts = {}
    for index, message in enumerate(messages):
        field = ("input", "message", str(index))
        locale = validation.locale(problems, message.locale, *field, "locale")
        title = validation.text(problems, message.title, *field, "title", max_length=300)
        body = validation.text(problems, message.body, *field, "body", max_length=50_000)
        if locale and title and body:
            texts[locale] = Message(locale=locale, title=title, body=body)
    validation.unique(problems, [m.locale for m in messages], "input", "message")
    problems.raise_if_any()
    return texts


def _clean_ids(subject_ids: list[str]) -> list[str]:
    if len(subject_ids) > MAX_SUBJECTS:
        raise DomainError.one(
            ErrorCode.TOO_MANY,
            f"at most {MAX_SUBJECTS} subjects per call: send the rest in further calls "
            "(nobody is told twice), or use allAffected",
            "input",
            "subjectIds",
        )
    problems = Problems()  # every bad id named at once, by the caller's own index
    named = [
        validation.subject_id(problems, s, "input", "subjectIds", str(i))
        for i, s in enumerate(subject_ids)
        if s.strip()
    ]
    problems.raise_if_any()
    cleaned = list(dict.fromkeys(named))
    if not cleaned:
        raise DomainError.one(
            ErrorCode.REQUIRED, "name at least one subject", "input", "subjectIds"
        )
    return cleaned


async def _listed(subjects: list[str]) -> AsyncIterator[list[str]]:
    for part in chunks(subjects):
        yield part


async def _affected(tenant: Tenant) -> AsyncIterator[list[str]]:
    """Everyone Charter knows for the tenant (every subject with consent records), a chunk
    at a time in subject order: a tenant with a million people is read in steps."""
    async for part in keyset(owned(ConsentState, tenant=tenant), "subject_id"):
        living = [s for s in part if not s.startswith(ERASED)]
        if living:
            yield living


async def _not_yet_told(tenant: Tenant, breach: Breach, subjects: list[str]) -> list[str]:
    told = set(
        await owned(BreachNotice, tenant=tenant)
        .filter(breach_id=breach.id, subject_id__in=subjects)
        .values_list("subject_id", flat=True)
    )
    return [subject for subject in subjects if subject not in told]


async def _queue(
    tenant: Tenant,
    breach: Breach,
    subjects: list[str],
    texts: dict[str, Message],
    endpoints: list,
) -> int:
    """Queue the notices of one chunk of people; returns how many."""
    if not subjects:
        return 0
    emails, locales = await _addresses(tenant, subjects), await _locales(tenant, subjects)
    messages_out, notices = [], []
    async for subject in paced(subjects):
        locale = choose(
            requested=locales.get(subject), available=texts, default=tenant.default_locale
        )
        text = texts[locale]
        payload = {"breach_id": str(breach.id), "title": text.title, "body": text.body}
        if subject in emails:
            messages_out.append(
                outbox.email(
                    tenant=tenant,
                    kind="breach.notice",
                    recipient=emails[subject],
                    locale=locale,
                    payload=payload,
                    subject_id=subject,
                )
            )
        else:
            messages_out.extend(
                outbox.events(
                    tenant=tenant,
                    kind=events.BREACH_NOTICE,
                    payload={**payload, "subject_id": subject, "locale": locale},
                    endpoints=endpoints,
                    subject_id=subject,
                )
            )
        notices.append(
            BreachNotice(
                tenant_id=tenant.id,
                breach_id=breach.id,
                subject_id=subject,
                channel="email" if subject in emails else "webhook",
            )
        )
    await outbox.enqueue(*messages_out)
    await BreachNotice.bulk_create(notices, batch_size=CHUNK)
    return len(notices)


async def _addresses(tenant: Tenant, subjects: list[str]) -> dict[str, str]:
    """Where Charter holds an e-mail for a subject: from consent, else from their requests
    (only those that proved the subject: anyone can name a subject next to their address).
    ``subjects`` is one chunk (at most CHUNK), as for ``_locales``."""
    found = {}
    for row in (
        await owned(SubjectRequest, tenant=tenant)
        .filter(
            subject_id__in=subjects,
            email__isnull=False,
            identity_proof__in=list(SUBJECT_PROOFS),
        )
        .order_by("submitted_at")
    ):
        found[row.subject_id] = request_email(row)
    for row in await owned(SubjectContact, tenant=tenant).filter(subject_id__in=subjects):
        found[row.subject_id] = contact_email(row)
    return found


async def _locales(tenant: Tenant, subjects: list[str]) -> dict[str, str]:
    """The locale each subject last saw a policy in, overridden by their contact's."""
    known: dict[str, str] = {}
    for subject, locale in (
        await owned(ConsentEvent, tenant=tenant)
        .filter(subject_id__in=subjects, locale__isnull=False)
        .order_by("sequence")
        .values_list("subject_id", "locale")
    ):
        known[subject] = locale
    for subject, locale in (
        await owned(SubjectContact, tenant=tenant)
        .filter(subject_id__in=subjects, locale__isnull=False)
        .values_list("subject_id", "locale")
    ):
        known[subject] = locale
    return known
