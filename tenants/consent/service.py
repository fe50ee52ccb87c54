"""Recording consent: one decision set or a batch, onto the tenant's chain. The tenant is
always explicit; reading it back is ``state``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from asyncpg import UniqueViolationError
from tortoise import connections
from tortoise.transactions import in_transaction

from tenants.cache import Cache
from tenants.chunks import paced_chunks
from tenants.consent import decisions, grouping, ledger, retries, writes
from tenants.consent import stream as stream_writes
from tenants.consent.decisions import Standing
from tenants.consent.intake import Checker, Checking, ConsentInput, Evidence, check
from tenants.consent.models import ConsentEvent
from tenants.errors import DomainError, ErrorCode, Problem, Problems
from tenants.policies.catalog import Catalog, catalog
from tenants.subjects.contacts import save_contacts, sealed_contact
from tenants.tenancy.models import Tenant
from tenants.uncancelled import to_the_end

MAX_BATCH = 1000


@dataclass(frozen=True)
class BatchResult:
    recorded: int
    duplicates: int
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Recorded:
    """One recordConsent's outcome: its event, the catalog it was checked against, and
    the subject's standing (restriction, objection) read in the event's transaction."""

    event: ConsentEvent
    versions: Catalog
    standing: Standing


async def record_consent(
    *,
    tenant: Tenant,
    actor: str,
    item: ConsentInput,
    evidence: Evidence,
    cache: Cache | None,
    trusted: bool = False,
) -> Recorded:
    """Record one decision set; a retry of the same event returns the first (``retries``).
    ``trusted``: a secret key, whose e-mail addresses are verified contacts.

    Concurrent calls for one (tenant, actor) share a transaction (``grouping``), which also
    reads their subjects' standing for the receipts: one query per group, not per call."""
    now = datetime.now(UTC)
    versions = await catalog(tenant=tenant, cache=cache)
    problems = Problems()
    entry, email = check(
        problems, item, "input", tenant=tenant, catalog=versions, evidence=evidence, now=now
    )
    problems.raise_if_any()

    async def write(items: list) -> list[tuple[ConsentEvent | None, Standing]]:
        written = await _append_unlocked(tenant=tenant, items=items, actor=actor)
        if written is not None:
            events, found = written
        else:
            async with in_transaction():
                events, _, found = await _append_locked(
                    tenant=tenant,
                    items=items,
                    now=datetime.now(UTC),
                    actor=actor,
                    trusted=trusted,
                    standing=True,
                )
        return [(e, found.get(e.subject_id, NO_STANDING) if e else NO_STANDING) for e in events]

    event, standing = await grouping.submit((tenant.id, actor), (entry, email), write)
    if event is None:
        raise DomainError(retries.reused("input", "clientEventId"))
    return Recorded(event=event, versions=versions, standing=standing)


NO_STANDING = Standing()


async def _append_unlocked(
    *, tenant: Tenant, items: list[tuple[ledger.Entry, str | None]], actor: str
) -> tuple[list[ConsentEvent], dict[str, Standing]] | None:
    """A group's write as one statement of its own (``writes.APPEND_SQL``), chained onto
    the head where this process left it (``ledger.left_at``): no BEGIN, lock or COMMIT
    round trips. The statement writes only if the head is still there, under its lock,
    all at once or not at all. None, with nothing written, when this cannot be done or
    was not: the head moved, a clientEventId is stored already (a retry: only the locked
    path tells a retry from a reuse), an e-mail to save, not PostgreSQL."""
    head = ledger.left_at(tenant.id)
    if head is None or len(items) > writes.ONE_STATEMENT_ROWS or any(e for _, e in items):
        return None
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        return None
    after = (head.sequence, head.hash)
    linker = ledger.Linker(tenant=tenant, head=head, now=datetime.now(UTC), count=len(items))
    events = [linker.link(entry) for entry, _ in items]
    entry = _audit_entry(tenant, actor, events)
    subjects = [event.subject_id for event in events]
    try:
        async with client.acquire_connection() as connection:
            found = await writes.append_at(
                connection, events=events, head=head, after=after, entry=entry, subjects=subjects
            )
    except UniqueViolationError:  # nothing written; the locked path reads the stored event
        return None
    if found is None:
        ledger.missed(tenant.id)
        return None
    ledger.leave(tenant.id, head)
    return events, found


async def record_consents(
    *,
    tenant: Tenant,
    actor: str,
    items: list[ConsentInput],
    evidence: Evidence,
    cache: Cache | None,
    trusted: bool = False,
) -> BatchResult:
    """Record up to MAX_BATCH decision sets in one transaction; bad ones are named by index
    and skipped, good ones land."""
    if len(items) > MAX_BATCH:
        raise DomainError.one(ErrorCode.TOO_MANY, f"at most {MAX_BATCH} events per call", "inputs")
    now = datetime.now(UTC)
    versions = await catalog(tenant=tenant, cache=cache)
    problems = Problems()
    checker = Checker(tenant=tenant, catalog=versions, now=now)
    checking = Checking(items, checker=checker, problems=problems, evidence=evidence)

    async def write() -> tuple[list[ConsentEvent | None], int]:
        if _streams(len(items)):
            # Checked inside the transaction, part by part, each part written as the next
            # is checked (``stream``): the lock is held while Python checks, but
            # PostgreSQL works meanwhile, where before it waited for every check first.
            async with in_transaction():
                events, duplicates, _ = await _append_locked(
                    tenant=tenant, items=checking, now=now, actor=actor, trusted=trusted
                )
            return events, duplicates
        valid = await checking.all()
        if not valid:
            return [], 0
        return await append(tenant=tenant, items=valid, now=now, actor=actor, trusted=trusted)

    events, duplicates = await to_the_end(write())  # never cut part-way (``uncancelled``)
    positions = checking.positions
    refused = [position for position, event in zip(positions, events, strict=True) if event is None]
    problems.items.extend(retries.reused("inputs", str(i), "clientEventId") for i in refused)
    problems.items.sort(key=_index)  # in input order, as the client reads them
    return BatchResult(
        recorded=len(events) - duplicates - len(refused),
        duplicates=duplicates,
        problems=tuple(problems.items),
    )


def _index(problem: Problem) -> int:
    field = problem.field or ()
    return int(field[1]) if len(field) > 1 and field[1].isdigit() else -1


async def append(
    *,
    tenant: Tenant,
    items: list[tuple[ledger.Entry, str | None]],
    now: datetime,
    actor: str,
    trusted: bool = False,
    prelinked: ledger.Prelinked | None = None,
) -> tuple[list[ConsentEvent | None], int]:
    """Chain, insert and fold into state, all in one transaction; returns each item's event
    and how many were repeats. A repeated clientEventId gives the earlier event when the
    item is the same event (a retry), else None: that id is another event's
    (``retries``), and the item is not recorded. ``prelinked``: the items already chained
    (``ledger.prelink``), used when they still fit.

    Prelinked items on PostgreSQL are first written without looking their clientEventIds
    up: the unique index on them refuses a stored one (UniqueViolationError, the whole
    transaction rolled back), and only then is the batch written again the careful way,
    which tells retries from reuses. An import repeats an id only where it resumes or
    runs again; the lookup of a thousand ids cost each batch ~3% of its time."""
    args = {"tenant": tenant, "items": items, "now": now, "actor": actor, "trusted": trusted}
    if prelinked is not None and writes.on_postgres():
        with contextlib.suppress(UniqueViolationError):  # nothing written: an id is stored
            async with in_transaction():
                return (await _append_locked(**args, prelinked=prelinked, unseen=True))[:2]
        prelinked = None
    async with in_transaction():
        return (await _append_locked(**args, prelinked=prelinked))[:2]


async def _append_locked(
    *,
    tenant: Tenant,
    items: list[tuple[ledger.Entry, str | None]] | Checking,
    now: datetime,
    actor: str,
    trusted: bool,
    prelinked: ledger.Prelinked | None = None,
    standing: bool = False,
    unseen: bool = False,
) -> tuple[list[ConsentEvent | None], int, dict[str, Standing]]:
    """``append``'s work, inside the caller's transaction; with ``standing``, also the
    standing of the events' subjects, read after the write in its transaction (else {}).
    ``items``: the entries (with the e-mail to remember), or inputs still to be checked
    (``intake.Checking``: the events are those of the inputs that pass). ``unseen``: the
    prelinked rows, when they fit, are written without looking their clientEventIds up
    (a stored one fails the write: ``append``)."""
    head = await ledger.locked_head(tenant=tenant)
    after = (head.sequence, head.hash)
    if isinstance(items, Checking):
        ids, parts = items.client_ids, items.parts(LINK_TURN)
    else:
        ids = [entry.client_event_id for entry, _ in items if entry.client_event_id]
        parts = paced_chunks(items)
    fits = prelinked is not None and prelinked.after == after and len(prelinked.rows) == len(items)
    seen = (
        {}
        if fits and unseen
        else {
            event.client_event_id: event
            for event in await writes.events_with_client_ids(tenant.id, ids)
        }
    )
    stream = None
    if fits and not seen:
        events, fresh, duplicates = list(prelinked.rows), prelinked.rows, 0
        head.sequence, head.hash = prelinked.head
        contacts = {
            entry.subject_id: _contact(tenant, entry, email, trusted)
            for entry, email in items
            if email
        }
    else:
        stream = stream_writes.Stream(writes.raw_postgres()) if _streams(len(items)) else None
        linker = ledger.Linker(tenant=tenant, head=head, now=now, count=len(items))
        try:
            events, fresh, contacts, duplicates = await _link(
                tenant, linker, parts, seen=seen, trusted=trusted, stream=stream
            )
            if stream is not None:
                await stream.finish()
        except BaseException:
            if stream is not None:
                await stream.abandon()  # the connection idle again before the rollback
            raise
    subjects = [event.subject_id for event in events if event is not None] if standing else []
    found = None
    if fresh:
        await save_contacts(list(contacts.values()))
        found = await writes.append_rows(
            inserted=stream is not None,
            events=fresh,
            head=head,
            after=after,
            entry=_audit_entry(tenant, actor, fresh),
            subjects=subjects,
        )
        ledger.leave(tenant.id, head)
    if found is None:
        found = await decisions.standing(tenant=tenant, subject_ids=subjects)
    return events, duplicates, found


def _audit_entry(tenant: Tenant, actor: str, fresh: list) -> dict:
    """``audit.record``'s arguments for a write of ``fresh`` events. One entry per call,
    not per event: the ledger itself is the per-event record, and subject ids stay out of
    the audit log (erasure does not reach it)."""
    return {
        "tenant": tenant,
        "actor": actor,
        "action": "consent.record",
        "target": f"consent_event:{fresh[0].id}" if len(fresh) == 1 else None,
        "details": {"events": len(fresh), "first_sequence": fresh[0].sequence},
    }


def _streams(count: int) -> bool:
    """Whether a write of ``count`` items goes through a Stream: a write too large for one
    statement (``writes.ONE_STATEMENT_ROWS``), on PostgreSQL."""
    return count > writes.ONE_STATEMENT_ROWS and writes.on_postgres()


# Inputs checked and chained between two turns of the event loop when the events are
# streamed: a chunk's COPY starts, and the one after it, only at a turn.
LINK_TURN = 10


async def _link(
    tenant: Tenant, linker: ledger.Linker, parts: AsyncIterator, *, seen, trusted, stream
) -> tuple[list, list, dict, int]:
    """Chain the items ``parts`` yields (lists of (entry, e-mail)) onto the locked head:
    (each item's event, the new ones, contacts to save, how many were retries). With
    ``stream``, the new events of each part are sent to it at once."""
    events, fresh, contacts, duplicates = [], [], {}, 0
    async for part in parts:
        sent = len(fresh)
        for entry, email in part:
            earlier = seen.get(entry.client_event_id) if entry.client_event_id else None
            if earlier is not None:
                same = retries.same_event(entry, earlier)
                events.append(earlier if same else None)
                duplicates += same
                continue
            event = linker.link(entry)
            if entry.client_event_id:
                seen[entry.client_event_id] = event
            events.append(event)
            fresh.append(event)
            if email:
                contacts[entry.subject_id] = _contact(tenant, entry, email, trusted)
        if stream is not None:
            stream.send(fresh[sent:])
    return events, fresh, contacts, duplicates


def _contact(tenant: Tenant, entry: ledger.Entry, email: str, trusted: bool):
    return sealed_contact(
        tenant=tenant,
        subject_id=entry.subject_id,
        email=email,
        locale=entry.locale,
        verified=trusted,
    )
