"""Consent events from another platform (or offline collection), in bulk.

A tenant moving to Charter brings its visitors' decisions along: JSON lines or CSV, one
event a record, with the fields of recordConsent (camelCase, or the snake_case columns
`charter consent export` writes, so one deployment's export imports into another).
Each record goes through the same checks (``intake.check``) and the same chain
(``service.append``) as recordConsents, a thousand to a transaction, with no GraphQL in
between. A record that fails is reported with its line number and codes and skipped;
the others land. Reading the file, a record at a time, is ``import_reader``'s.

Idempotent: a record's ``clientEventId`` (or, when it has none, one derived from its
content) is recorded with its event, so a record imported twice is a duplicate, not a
second event. Resumable: ``Progress`` names how many records are done, and a rerun skips
them unread; a batch committed just before a kill but not yet counted comes back as
duplicates.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tenants.cache import Cache
from tenants.chunks import paced
from tenants.consent import ledger, retries, service
from tenants.consent.intake import Checker, ConsentInput, Evidence
from tenants.consent.methods import ConsentMethod
from tenants.consent.models import ConsentChainHead
from tenants.errors import ErrorCode, Problem, Problems
from tenants.policies.catalog import catalog
from tenants.policies.kinds import PolicyKind
from tenants.tenancy.models import Tenant
from tenants.validation import whole_number

__all__ = ["BATCH", "Totals", "import_records", "parse"]

BATCH = 1000  # events per transaction, as recordConsents at most
# Records read, checked or chained between two turns of the event loop. The batch being
# written moves on only at those turns, a step (BEGIN, the head's lock, COPY's two round
# trips, the fold, COMMIT) a turn: at PACE's hundred (3 ms of Python) PostgreSQL sat idle
# between its steps and the import ran at 0.7 of the raw writes' rate; at ten, 0.84.
TURN = 10
# Accepted spellings (recordConsent's names, the export's columns) -> the field.
NAMES = {
    "subjectId": "subject_id",
    "decisions": "decisions",
    "method": "method",
    "policyKind": "policy_kind",
    "policyVersion": "policy_version",
    "locale": "locale",
    "occurredAt": "occurred_at",
    "clientEventId": "client_event_id",
    "sourceUrl": "source_url",
    "email": "email",
    "ip": "ip",
    "userAgent": "user_agent",
}
NAMES |= {snake: snake for snake in NAMES.values()}
# Columns of `charter consent export` that belong to the other ledger: not imported.
FOREIGN = frozenset(
    {"sequence", "id", "recorded_at", "commitment", "previous_hash", "hash", "processing"}
)
TEXTS = ("subject_id", "locale", "client_event_id", "source_url", "email", "ip", "user_agent")
DERIVED_ID = "import:"  # prefix of the clientEventId derived from a record's content


@dataclass
class Totals:
    records: int = 0  # read, good or bad: where a resumed import starts again
    imported: int = 0
    duplicates: int = 0
    refused: int = 0
    problems: list[tuple[int, Problem]] = field(default_factory=list)  # this batch's


_DECISION_KEYS = frozenset({"purpose", "granted", "method"})


def _decisions(value: Any, problems: Problems) -> list[tuple[str, bool]]:
    if isinstance(value, str):  # a CSV cell holds them as JSON, as the export writes them
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    found = []
    for decision in value if isinstance(value, list) else (None,):
        purpose = decision.get("purpose") if type(decision) is dict else None
        granted = decision.get("granted") if purpose is not None else None
        if (
            type(purpose) is not str
            or type(granted) is not bool
            or decision.keys() - _DECISION_KEYS
        ):
            problems.add(
                ErrorCode.INVALID,
                'decisions: a list of {"purpose": text, "granted": true or false}',
                "decisions",
            )
            return []
        found.append((purpose, granted))
    return found


def _texts(fields: dict[str, Any], problems: Problems) -> dict[str, str | None]:
    texts = {}
    for name in TEXTS:
        value = fields.get(name)
        if value is not None and type(value) is not str:
            problems.add(ErrorCode.INVALID, f"{name} must be text", name)
            value = None
        texts[name] = value
    return texts


def _choice(fields: dict[str, Any], name: str, kind: type, default: Any, problems: Problems):
    value = fields.get(name)
    if value is None:
        return default
    member = _MEMBERS[kind].get(value) if type(value) is str else None
    if member is None:
        allowed = ", ".join(member.value for member in kind)
        problems.add(ErrorCode.INVALID, f"{name} must be one of {allowed}", name)
        return default
    return member


# An enum's members by value: a dict lookup, where calling the enum costs a microsecond
# a field, per record of a million.
_MEMBERS = {kind: {member.value: member for member in kind} for kind in (ConsentMethod, PolicyKind)}


MAX_VERSION = 2**31 - 1  # the policy_version column is a 32-bit integer


def _version(value: Any, problems: Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = whole_number(value)
    if type(value) is not int or not 1 <= value <= MAX_VERSION:
        problems.add(ErrorCode.INVALID, "policyVersion must be a whole number", "policyVersion")
        return None
    return value


def _instant(value: Any, problems: Problems) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        problems.add(
            ErrorCode.INVALID, "occurredAt: an ISO 8601 time with its UTC offset", "occurredAt"
        )
        return None
    return parsed


def parse(record: dict[str, Any]) -> tuple[ConsentInput | None, Evidence, Problems]:
    """A file's record as the input recordConsent takes, with its evidence."""
    problems = Problems()
    fields: dict[str, Any] = {}
    for key, value in record.items():
        name = NAMES.get(key)
        if name is not None:
            fields[name] = value
        elif key == "processing" and value is not None:
            problems.add(ErrorCode.INVALID, "processing events are not imported", key)
        elif key not in FOREIGN:
            problems.add(ErrorCode.INVALID, f"unknown field {key!r}", key)
    texts = _texts(fields, problems)
    decisions = _decisions(fields.get("decisions"), problems)
    item = ConsentInput(
        subject_id=texts["subject_id"] or "",
        decisions=decisions,
        method=_choice(fields, "method", ConsentMethod, ConsentMethod.IMPORT, problems),
        policy_kind=_choice(fields, "policy_kind", PolicyKind, PolicyKind.PRIVACY, problems),
        policy_version=_version(fields.get("policy_version"), problems),
        locale=texts["locale"],
        occurred_at=_instant(fields.get("occurred_at"), problems),
        client_event_id=texts["client_event_id"] or _derived_id(record),
        source_url=texts["source_url"],
        email=texts["email"],
    )
    evidence = Evidence(ip=texts["ip"], user_agent=texts["user_agent"])
    return (None if problems.items else item), evidence, problems


def _derived_id(record: dict[str, Any]) -> str:
    """The same record always gets the same id, so importing it again is a duplicate."""
    content = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return DERIVED_ID + hashlib.sha256(content.encode()).hexdigest()[:40]


@dataclass
class _Batch:
    items: list[tuple[Any, str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[tuple[int, Problem]] = field(default_factory=list)
    records: int = 0  # records read when the batch was cut


async def _batches(
    source: Iterator[tuple[int, Any]], tenant: Tenant, versions: Any, start: int
) -> AsyncIterator[_Batch]:
    """Records checked (``intake.Checker``) and grouped a batch at a time; the event loop
    gets a turn every TURN records, so the batch before is written meanwhile."""
    batch, records = _Batch(), start
    # One time per batch, as a recordConsents has: the catalog's answers and the checks'
    # other repeated work are then worked out once a batch (``intake.Checker``).
    checker = Checker(tenant=tenant, catalog=versions, now=datetime.now(UTC))
    async for number, record in paced(source, TURN):
        records += 1
        if isinstance(record, Problem):
            batch.problems.append((number, record))
        else:
            item, evidence, problems = parse(record)
            entry, email = (None, None)
            if item is not None:
                entry, email = checker(problems, item, evidence=evidence)
            if entry is None:
                batch.problems.extend((number, problem) for problem in problems.items)
            else:
                batch.items.append((entry, email))
                batch.lines.append(number)
        if len(batch.items) >= BATCH or len(batch.problems) >= BATCH:
            batch.records = records
            yield batch
            batch = _Batch()
            checker = Checker(tenant=tenant, catalog=versions, now=datetime.now(UTC))
    batch.records = records
    yield batch


async def import_records(
    *,
    tenant: Tenant,
    actor: str,
    source: Iterator[tuple[int, Any]],
    cache: Cache | None,
    done: Callable[[Totals], Awaitable[None]],
    start: int = 0,
) -> Totals:
    """Import every record of ``source`` (as ``records`` yields them), a batch per
    transaction; ``done(totals)`` is awaited after each batch is committed, with the
    problems of that batch. ``start``: the records already done (a resumed import).

    A pipeline: while the database writes one batch, the next is checked and chained
    onto the head that batch will leave (``ledger.prelink``); should the head be other
    by then (another writer, a repeated record), the batch is chained again in its
    transaction, so the pipeline only ever saves time."""
    totals = Totals(records=start)
    versions = await catalog(tenant=tenant, cache=cache)
    expected: tuple[int, str | None] | None = None
    pending: asyncio.Future | None = None
    try:
        async for batch in _batches(source, tenant, versions, start):
            if expected is None and pending is not None:
                await pending  # the head that batch leaves is known only once it is written
                pending = None
            if expected is None:
                expected = await _head(tenant)
            prelinked = None
            if batch.items:
                prelinked = await ledger.prelink(
                    tenant=tenant,
                    entries=[entry for entry, _ in batch.items],
                    after=expected,
                    now=datetime.now(UTC),
                    turn=TURN,
                )
                expected = prelinked.head if prelinked is not None else None
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(_commit(tenant, actor, batch, prelinked, totals, done))
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None:  # stopped by an error: the batch in flight is not wanted
            pending.cancel()
    return totals


async def _head(tenant: Tenant) -> tuple[int, str | None]:
    head = await ConsentChainHead.get_or_none(tenant_id=tenant.id)
    return (head.sequence, head.hash) if head is not None else (0, None)


async def _commit(
    tenant: Tenant,
    actor: str,
    batch: _Batch,
    prelinked: ledger.Prelinked | None,
    totals: Totals,
    done: Callable[[Totals], Awaitable[None]],
) -> None:
    problems = list(batch.problems)
    if batch.items:
        events, duplicates = await service.append(
            tenant=tenant,
            items=batch.items,
            now=datetime.now(UTC),
            actor=actor,
            trusted=True,
            prelinked=prelinked,
        )
        reused = [line for line, event in zip(batch.lines, events, strict=True) if event is None]
        problems.extend((line, retries.reused("clientEventId")) for line in reused)
        totals.imported += len(events) - duplicates - len(reused)
        totals.duplicates += duplicates
    totals.records = batch.records
    totals.refused += len({line for line, _ in problems})
    totals.problems = sorted(problems, key=lambda pair: pair[0])
    await done(totals)
    totals.problems = []
