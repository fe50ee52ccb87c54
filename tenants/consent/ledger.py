"""Appending to a tenant's hash chain (walking it is ``verification``).

Writers lock the tenant's chain head row for the length of their transaction, so the
chain can never fork: on PostgreSQL with SELECT ... FOR UPDATE, on SQLite because the
database takes one writer at a time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, NamedTuple

from tenants import ids
from tenants.chunks import PACE, paced
from tenants.consent import chain, encoding
from tenants.consent.methods import ConsentMethod
from tenants.consent.models import ConsentChainHead, ConsentEvent
from tenants.consent.writes import EventRow, log, raw_postgres
from tenants.policies.kinds import PolicyKind
from tenants.tenancy.models import Tenant

_purpose = itemgetter("purpose")


class Entry(NamedTuple):
    """A validated decision set, ready to be chained. A NamedTuple, immutable and built in
    C (``intake``'s types say why)."""

    subject_id: str
    policy_kind: PolicyKind
    policy_version: int
    locale: str | None
    method: ConsentMethod
    decisions: list[dict[str, Any]]  # {"purpose", "granted", "method"?}
    occurred_at: datetime
    source_url: str | None
    ip: str | None
    user_agent: str | None
    client_event_id: str | None
    processing: str | None = None  # a processing change, not a decision (processing.py)


# Fixed SQL on PostgreSQL: every write group takes this lock, and pypika built the query
# and Tortoise a model instance for it each time, for two numbers and a hash.
_LOCK_SQL = "SELECT id, sequence, hash FROM consent_chain_head WHERE tenant_id = $1 FOR UPDATE"


async def locked_head(*, tenant: Tenant) -> ConsentChainHead | Head:
    """The tenant's head row, locked until the caller's transaction ends: a Head (with
    its row id) on PostgreSQL, the model elsewhere."""
    raw = raw_postgres()
    if raw is not None:
        log.debug("%s: [%s]", _LOCK_SQL, tenant.id)
        row = await raw.fetchrow(_LOCK_SQL, tenant.id)
        if row is None:
            await _create_head(tenant)
            row = await raw.fetchrow(_LOCK_SQL, tenant.id)
        return Head(sequence=row[1], hash=row[2], id=row[0])
    head = await ConsentChainHead.filter(tenant_id=tenant.id).select_for_update().first()
    if head is None:
        await _create_head(tenant)
        head = await ConsentChainHead.filter(tenant_id=tenant.id).select_for_update().get()
    return head


async def _create_head(tenant: Tenant) -> None:
    # ON CONFLICT DO NOTHING: a concurrent first writer may win; the transaction goes on.
    await ConsentChainHead.bulk_create(
        [ConsentChainHead(tenant_id=tenant.id)], ignore_conflicts=True
    )


# Where this process last left each tenant's head, for a write that chains onto it without
# taking the lock first (``service``; ``writes.APPEND_SQL`` writes only if the head is
# still there). A miss (another process or caller moved it) costs a wasted statement, so
# after one the next MISS_PAUSE writes of the tenant take the lock first.
MISS_PAUSE = 32
_left: dict[Any, Head] = {}
_paused: dict[Any, int] = {}


def left_at(tenant_id: Any) -> Head | None:
    """A copy of the head where this process last left it, unless paused after a miss."""
    head = _left.get(tenant_id)
    return None if head is None else Head(head.sequence, head.hash, head.id)


def leave(tenant_id: Any, head: ConsentChainHead | Head) -> None:
    """Note where a write of this process moved the head (its transaction may still roll
    back: then the next unlocked write misses, and nothing is written)."""
    paused = _paused.get(tenant_id, 0)
    if paused:
        _paused[tenant_id] = paused - 1
        return
    _left[tenant_id] = Head(head.sequence, head.hash, head.id)


def missed(tenant_id: Any) -> None:
    _left.pop(tenant_id, None)
    _paused[tenant_id] = MISS_PAUSE


class Linker:
    """Chains entries onto a head the caller holds locked. Work shared by a batch (the
    recording time's spelling, the randomness for ids and salts) is done once per batch:
    at a few microseconds an item, it was a sixth of chaining 500 events."""

    def __init__(self, *, tenant: Tenant, head: ConsentChainHead | Head, now: datetime, count: int):
        self._tenant_id = tenant.id
        self._tenant_text = str(tenant.id)
        self._head = head
        self._now = now
        self._recorded = encoding.instant(now)
        self._instants: dict[tuple[datetime, Any], str] = {}
        self._ids = ids.uuid4s(chunk=count)
        self._salts = ids.random_bytes(16, chunk=count)
        self._decisions: dict[int, tuple[list, list, str]] = {}

    def _instant(self, value: datetime) -> str:
        # Keyed with the offset too: two wall times of a zone's repeated hour compare equal.
        key = (value, value.utcoffset())
        spelled = self._instants.get(key)
        if spelled is None:
            spelled = self._instants[key] = encoding.instant(value)
        return spelled

    def _encoded(self, given: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
        # Entries of one decision set share its list (``intake.Checker``): each set is
        # sorted and encoded once a batch. Keyed by the list's identity, and the list is
        # held, so no other list can take its id while the batch lasts.
        held = self._decisions.get(id(given))
        if held is not None and held[0] is given:
            return held[1], held[2]
        # Entries come from intake.check: one dict per purpose with a bool. The uniqueness
        # is checked again because verify() would refuse a chained duplicate for ever.
        decisions = sorted(given, key=_purpose)
        if len({d["purpose"] for d in decisions}) != len(decisions):
            raise ValueError("a purpose is decided twice in one event")
        encoded = encoding.decisions_json(decisions)
        self._decisions[id(given)] = (given, decisions, encoded)
        return decisions, encoded

    def link(self, entry: Entry) -> EventRow:
        """The next event of the chain, unsaved; moves the head past it."""
        event_id = next(self._ids)
        salt = next(self._salts).hex()  # 128 bits, as chain.new_salt()
        commitment = encoding.commitment(
            subject_id=entry.subject_id,
            ip=entry.ip,
            user_agent=entry.user_agent,
            source_url=entry.source_url,
            salt=salt,
        )
        decisions, decisions_json = self._encoded(entry.decisions)
        head = self._head
        sequence = head.sequence + 1
        document = encoding.document_json(
            event_id=str(event_id),
            tenant_id=self._tenant_text,
            sequence=sequence,
            occurred_at=self._instant(entry.occurred_at),
            recorded_at=self._recorded,
            policy_kind=entry.policy_kind,
            policy_version=entry.policy_version,
            locale=entry.locale,
            method=entry.method,
            decisions=decisions_json,
            commitment=commitment,
            previous_hash=head.hash,
            processing=entry.processing,
        )
        digest = hashlib.sha256(
            document if head.hash is None else head.hash.encode() + document
        ).hexdigest()
        event = EventRow(
            id=event_id,
            tenant_id=self._tenant_id,
            sequence=sequence,
            subject_id=entry.subject_id,
            policy_kind=entry.policy_kind,
            policy_version=entry.policy_version,
            locale=entry.locale,
            method=entry.method,
            decisions=decisions,
            decisions_json=decisions_json,
            occurred_at=entry.occurred_at,
            recorded_at=self._now,
            source_url=entry.source_url,
            ip=entry.ip,
            user_agent=entry.user_agent,
            salt=salt,
            commitment=commitment,
            previous_hash=head.hash,
            client_event_id=entry.client_event_id,
            hash=digest,
            processing=entry.processing,
        )
        head.sequence, head.hash = sequence, digest
        return event


@dataclass(slots=True)
class Head:
    """A head to chain onto: a plain object, where the model's attribute hooks cost more
    than the rest of moving the head, twice per event. ``id``: its row's, when locked
    (``locked_head``); None for a head chained onto ahead of its transaction (``prelink``)."""

    sequence: int
    hash: str | None
    id: int | None = None


@dataclass(frozen=True)
class Prelinked:
    """Events chained ahead of their transaction, onto the head ``after`` as it was
    expected to be (an import chains its next batch while the database writes this one).
    ``service.append`` uses them as they are only when the head it locks is that head and
    no item repeats a stored event; otherwise it chains the items again."""

    after: tuple[int, str | None]
    rows: list[EventRow]

    @property
    def head(self) -> tuple[int, str | None]:
        return (self.rows[-1].sequence, self.rows[-1].hash) if self.rows else self.after


async def prelink(
    *,
    tenant: Tenant,
    entries: list[Entry],
    after: tuple[int, str | None],
    now: datetime,
    turn: int = PACE,
) -> Prelinked | None:
    """``entries`` chained onto ``after``, a turn of the event loop every ``turn`` of them;
    None when two of them share a clientEventId (the second is a retry of the first: only
    ``service.append`` decides that)."""
    ids = [entry.client_event_id for entry in entries if entry.client_event_id]
    if len(set(ids)) != len(ids):
        return None
    head = Head(sequence=after[0], hash=after[1])
    linker = Linker(tenant=tenant, head=head, now=now, count=len(entries))
    return Prelinked(after=after, rows=[linker.link(entry) async for entry in paced(entries, turn)])


def document_of(event: ConsentEvent | EventRow) -> dict[str, Any]:
    """The chained document, rebuilt from the row's own columns."""
    return chain.event_document(
        event_id=event.id,
        tenant_id=event.tenant_id,
        sequence=event.sequence,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        policy_kind=event.policy_kind,
        policy_version=event.policy_version,
        locale=event.locale,
        method=event.method,
        decisions=event.decisions,
        commitment=event.commitment,
        previous_hash=event.previous_hash,
        processing=event.processing,
    )
