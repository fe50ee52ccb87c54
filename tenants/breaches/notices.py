"""Telling people their data leaked: by e-mail where Charter has an address, else as a
`breach.notice` event to the tenant, which knows its users. Each person once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from tenants import crypto, validation
from tenants.breaches.kinds import ClockKind
from tenants.breaches.models import Breach, BreachClock, BreachNotice
from tenants.breaches.service import announce, get, note, open_clocks, refresh_next_due
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.outbound import events, outbox
from tenants.policies.locales import choose
from tenants.scoping import owned
from tenants.subject_requests.models import SUBJECT_PROOFS, SubjectRequest
from tenants.subjects.contacts import EMAIL_PURPOSE
from tenants.subjects.models import SubjectContact
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant

REQUEST_EMAIL = "request-email"
ERASED = "erased:"
MAX_SUBJECTS = 100_000


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
    now = datetime.now(UTC)
    async with in_transaction():
        breach = await get(tenant=tenant, breach_id=breach_id, lock=True)
        wanted = await _affected(tenant) if all_affected else _clean_ids(subject_ids or [])
        told = set(
            await owned(BreachNotice, tenant=tenant)
            .filter(breach_id=breach.id)
            .values_list("subject_id", flat=True)
        )
        fresh = [subject for subject in wanted if subject not in told]
        emails, locales = await _addresses(tenant, fresh), await _locales(tenant, fresh)
        endpoints = await outbox.subscribers(tenant=tenant, kind=events.BREACH_NOTICE)
        messages_out, notices = [], []
        for subject in fresh:
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
        await BreachNotice.bulk_create(notices, batch_size=500)
        breach.notices_sent += len(notices)
        await breach.save(update_fields=["notices_sent"])
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
            text=f"{len(notices)} notice(s) queued to people ({len(told)} already told)",
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
            details={"queued": len(notices)},
        )
    return breach, len(notices)


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
    cleaned = list(dict.fromkeys(s.strip() for s in subject_ids if s.strip()))
    if not cleaned:
        raise DomainError.one(
            ErrorCode.REQUIRED, "name at least one subject", "input", "subjectIds"
        )
    if len(cleaned) > MAX_SUBJECTS:
        raise DomainError.one(
            ErrorCode.TOO_MANY, f"at most {MAX_SUBJECTS} subjects", "input", "subjectIds"
        )
    return cleaned


async def _affected(tenant: Tenant) -> list[str]:
    """Everyone Charter knows for the tenant: every subject with consent records."""
    rows = await owned(ConsentState, tenant=tenant).distinct().values_list("subject_id", flat=True)
    return sorted(s for s in rows if not s.startswith(ERASED))


async def _addresses(tenant: Tenant, subjects: list[str]) -> dict[str, str]:
    """Where Charter holds an e-mail for a subject: from consent, else from their requests
    (only those that proved the subject: anyone can name a subject next to their address)."""
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
        found[row.subject_id] = crypto.decrypt(row.email, purpose=REQUEST_EMAIL)
    for row in await owned(SubjectContact, tenant=tenant).filter(subject_id__in=subjects):
        found[row.subject_id] = crypto.decrypt(row.email, purpose=EMAIL_PURPOSE)
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
