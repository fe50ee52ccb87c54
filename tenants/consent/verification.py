"""Proving a tenant's consent ledger unchanged: from the last checkpoint, or in full.

Walking re-hashes every link (``chain``) and checks each event's personal columns
against their commitment. Two ways to walk:

- ``since_checkpoint``: from the newest checkpoint (the head hash at sequence N, recorded
  when a walk last reached N) to the head, within a time budget, so verifyConsentLedger
  answers in about a second however long the ledger: a ledger that grew faster than one
  budget is walked on over successive calls, each recording a checkpoint where it got to.
  The checkpoint's own event is re-checked first: rewriting the chain up to it changes
  the hash the checkpoint holds.
- ``walk_full``: from genesis, by a background job (``jobs``), comparing each recorded
  checkpoint and an exported head it is handed with the hash recomputed there; that is
  what notices edits before the newest checkpoint, even a chain re-hashed end to end.

Events appended while a walk runs lie beyond the head it read first and wait for the next.
Per event the bytes are rebuilt by the fast encoder of new events (``encoding``); only a
row that does not match goes the generic, explaining way (``chain.verify``), so a
verification costs a few microseconds an event, a thousand rows between database turns.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha256 as _sha256
from typing import Any, NamedTuple

from tenants.consent import chain, encoding, reading
from tenants.consent.checkpoints import latest_checkpoint, record_checkpoint
from tenants.consent.models import ConsentChainHead, ConsentCheckpoint
from tenants.consent.reading import Row, decoded, moment, spelled
from tenants.scoping import owned
from tenants.tenancy.models import Tenant

__all__ = [
    "BUDGET",
    "Outcome",
    "latest_checkpoint",
    "record_checkpoint",
    "since_checkpoint",
    "walk_full",
]

BUDGET = 0.8  # seconds of walking per verifyConsentLedger call
PACE = 250  # links re-hashed between two turns of the event loop: a few milliseconds


@dataclass(frozen=True)
class Outcome:
    """What a walk found. ``through`` is the last sequence known intact (a checkpoint's
    counts as known) and ``head_hash`` its hash; ``walked`` the links re-hashed now;
    ``complete`` whether it reached the head it read first (``head``)."""

    ok: bool
    start: int
    through: int
    head_hash: str | None
    head: int
    walked: int
    complete: bool
    first_broken_id: uuid.UUID | None = None
    reason: str | None = None
    checkpoint: ConsentCheckpoint | None = None


class _Links:
    """Checks rows of one tenant's chain; the tenant's id is spelled once."""

    def __init__(self, tenant_id: uuid.UUID) -> None:
        self._tenant_text = str(tenant_id)
        self._decisions = reading.Canonical()

    def intact(self, rows: Sequence[Row], previous: str | None, sequence: int) -> int:
        """How many of ``rows``, from the first, are the links after ``previous`` from
        ``sequence`` on, with their personal fields matching their commitment: each
        document rebuilt by the template new events are written with (``encoding``). The
        first row that does not match goes to ``fault``, which decides and explains.

        One plain loop over a slice of rows, each unpacked in one step (an attribute read
        per column cost a sixth of the loop): per row it is the two hashes and a template,
        nothing else (a walk is a million rows)."""
        tenant, canonical = self._tenant_text, self._decisions
        document_json, commitment, sha256 = encoding.document_json, encoding.commitment, _sha256
        count = 0
        for (
            id,
            stored_sequence,
            subject_id,
            policy_kind,
            policy_version,
            locale,
            method,
            decisions,
            occurred_at,
            recorded_at,
            source_url,
            ip,
            user_agent,
            salt,
            stored_commitment,
            previous_hash,
            hash,
            processing,
        ) in rows:
            sequence += 1
            if stored_sequence != sequence or previous_hash != previous:
                return count
            try:
                document = document_json(
                    event_id=str(id),
                    tenant_id=tenant,
                    sequence=sequence,
                    occurred_at=spelled(occurred_at),
                    recorded_at=spelled(recorded_at),
                    policy_kind=policy_kind,
                    policy_version=policy_version,
                    locale=locale,
                    method=method,
                    decisions=canonical(decisions),
                    commitment=stored_commitment,
                    previous_hash=previous,
                    processing=processing,
                )
                linked = sha256(document if previous is None else previous.encode() + document)
                if linked.hexdigest() != hash:
                    return count
                if salt is not None and stored_commitment != commitment(
                    subject_id=subject_id,
                    ip=ip,
                    user_agent=user_agent,
                    source_url=source_url,
                    salt=salt,
                ):
                    return count
            except (AttributeError, KeyError, TypeError, ValueError):
                return count
            previous, count = hash, count + 1
        return count

    def fault(self, row: Row, previous: str | None, sequence: int) -> str | None:
        """Why ``row`` is not the link after ``previous`` at ``sequence``, or None."""
        if row.sequence != sequence:
            return f"expected sequence {sequence}, found {row.sequence}"
        if row.previous_hash != previous:
            return "previous hash does not match the preceding link"
        if not self.intact([row], previous, sequence - 1):
            # Not the bytes a new event is written with: the generic path decides and says why.
            try:
                link = chain.ChainLink(row.id, self._document(row), row.hash, row.previous_hash)
            except (TypeError, ValueError) as error:
                return f"a column no longer makes a valid document: {error}"
            found = chain.verify([link], previous_hash=previous, next_sequence=sequence)
            if not found.ok:
                return found.reason
            if not _personal_fields_hold(row):
                return "the personal fields do not match their commitment"
        return None

    def _document(self, row: Row) -> dict[str, Any]:
        return chain.event_document(
            event_id=row.id,
            tenant_id=self._tenant_text,
            sequence=row.sequence,
            occurred_at=moment(row.occurred_at),
            recorded_at=moment(row.recorded_at),
            policy_kind=row.policy_kind,
            policy_version=row.policy_version,
            locale=row.locale,
            method=row.method,
            decisions=decoded(row.decisions),
            commitment=row.commitment,
            previous_hash=row.previous_hash,
            processing=row.processing,
        )


def _personal_fields_hold(row: Row) -> bool:
    """The personal columns still match their commitment (after erasure: nothing to check)."""
    if row.salt is None:
        return True
    try:
        if row.subject_id is not None and row.commitment == encoding.commitment(
            subject_id=row.subject_id,
            ip=row.ip,
            user_agent=row.user_agent,
            source_url=row.source_url,
            salt=row.salt,
        ):
            return True
        return row.commitment == chain.commitment(
            subject_id=row.subject_id,
            ip=row.ip,
            user_agent=row.user_agent,
            source_url=row.source_url,
            salt=row.salt,
        )
    except (TypeError, ValueError):
        return False


async def _row_at(tenant_id: uuid.UUID, sequence: int) -> Row | None:
    return await reading.row_at(tenant_id, sequence)


class Known(NamedTuple):
    """A hash the chain must have at a sequence: a checkpoint, or an exported head."""

    sequence: int
    hash: str
    what: str  # how a mismatch is named


async def _check_known(tenant_id: uuid.UUID, known: Known) -> tuple[uuid.UUID | None, str | None]:
    """The event at ``known.sequence`` holds that hash and its own link recomputes."""
    row = await _row_at(tenant_id, known.sequence)
    if row is None:
        return None, f"the ledger has no event at the {known.what}'s sequence {known.sequence}"
    if row.hash != known.hash:
        reason = f"the event at sequence {known.sequence} no longer has the {known.what}'s hash"
        return row.id, reason
    reason = _Links(tenant_id).fault(row, row.previous_hash, known.sequence)
    return (row.id, reason) if reason else (None, None)


async def _head(tenant: Tenant) -> tuple[int, str | None]:
    head = await ConsentChainHead.get_or_none(tenant_id=tenant.id)
    return (head.sequence, head.hash) if head is not None else (0, None)


async def since_checkpoint(
    *,
    tenant: Tenant,
    now: datetime,
    expect: tuple[int, str] | None = None,
    budget: float = BUDGET,
) -> Outcome:
    """Verify from the newest checkpoint towards the head for at most ``budget`` seconds,
    and record a checkpoint where the walk got to. ``expect``: a (sequence, hash) exported
    earlier, which the ledger must still hold."""
    deadline = time.monotonic() + budget
    head, head_hash = await _head(tenant)
    start, previous = 0, None
    checkpoint = await latest_checkpoint(tenant=tenant)
    known = []
    if checkpoint is not None:
        known.append(Known(checkpoint.sequence, checkpoint.hash, "checkpoint"))
        start, previous = checkpoint.sequence, checkpoint.hash
    if expect is not None:
        known.append(Known(expect[0], expect[1], "exported head"))
    for item in known:
        broken, reason = await _check_known(tenant.id, item)
        if reason is not None:
            return Outcome(False, start, 0, None, head, 0, False, broken, reason)
    if start > head:
        reason = "the chain ends before its checkpoint: links were cut off the end"
        return Outcome(False, start, 0, None, head, 0, False, None, reason)
    outcome = await _walk(
        tenant.id, start=start, previous=previous, through=head, deadline=deadline
    )
    if outcome.ok and outcome.complete and outcome.head_hash != head_hash:
        outcome = _cut_off(outcome)
    if outcome.ok and outcome.through > start:
        saved = await record_checkpoint(
            tenant=tenant, sequence=outcome.through, hash=outcome.head_hash, now=now, full=False
        )
        return _with(outcome, checkpoint=saved)
    return _with(outcome, checkpoint=checkpoint)


def _cut_off(outcome: Outcome) -> Outcome:
    return _with(
        outcome,
        ok=False,
        reason="the chain ends before its head: links were cut off the end",
    )


def _with(outcome: Outcome, **changes: Any) -> Outcome:
    return Outcome(**{**outcome.__dict__, **changes})


async def _walk(
    tenant_id: uuid.UUID,
    *,
    start: int,
    previous: str | None,
    through: int,
    deadline: float | None = None,
    known: dict[int, Known] | None = None,
    progress: Callable[[int], Any] | None = None,
) -> Outcome:
    links = _Links(tenant_id)
    sequence, walked = start, 0
    async with reading.chunks(tenant_id, after=start, through=through) as rows:
        async for chunk in rows:
            for offset in range(0, len(chunk), PACE):
                part = chunk[offset : offset + PACE]
                held, reason = _hold(links, part, previous, sequence, known)
                if held:
                    previous, sequence, walked = part[held - 1].hash, sequence + held, walked + held
                if reason is not None:
                    broken = part[held].id
                    return Outcome(
                        False, start, sequence, previous, through, walked, False, broken, reason
                    )
                await asyncio.sleep(0)  # the loop's turn for others, every few milliseconds
            if progress is not None:
                await progress(sequence)
            if deadline is not None and time.monotonic() > deadline and sequence < through:
                return Outcome(True, start, sequence, previous, through, walked, False)
    outcome = Outcome(True, start, sequence, previous, through, walked, True)
    return outcome if sequence == through else _cut_off(outcome)


def _hold(
    links: _Links,
    part: Sequence[Row],
    previous: str | None,
    sequence: int,
    known: dict[int, Known] | None,
) -> tuple[int, str | None]:
    """How many rows of ``part`` are the links after ``previous`` from ``sequence`` on,
    and, when not all of them, why the next one is not."""
    held, reason = 0, None
    while held < len(part):
        before = part[held - 1].hash if held else previous
        held += links.intact(part[held:] if held else part, before, sequence + held)
        if held == len(part):
            break
        before = part[held - 1].hash if held else previous
        reason = links.fault(part[held], before, sequence + held + 1)
        if reason is not None:
            break
        held += 1  # a row the template does not rebuild, which the generic path accepts
    if known:
        for index in range(held):
            mark = known.get(sequence + index + 1)
            if mark is not None and (wrong := _against(mark, part[index])) is not None:
                return index, wrong
    return held, reason


def _against(mark: Known, row: Row) -> str | None:
    if mark.hash == row.hash:
        return None
    return f"the {mark.what} at sequence {mark.sequence} does not match the chain"


async def walk_full(
    *,
    tenant: Tenant,
    through: int,
    now: datetime,
    expect: tuple[int, str] | None = None,
    progress: Callable[[int], Any] | None = None,
) -> Outcome:
    """Verify from genesis to ``through``, checking every recorded checkpoint (and
    ``expect``) on the way; on success a full checkpoint is recorded at ``through``.
    ``progress(sequence)`` is awaited after every chunk."""
    marks = {
        sequence: Known(sequence, hash, "checkpoint")
        for sequence, hash in await owned(ConsentCheckpoint, tenant=tenant)
        .filter(sequence__lte=through)
        .values_list("sequence", "hash")
    }
    if expect is not None:
        if expect[0] > through:
            reason = f"the ledger ends at {through}, before the exported head at {expect[0]}"
            return Outcome(False, 0, 0, None, through, 0, False, None, reason)
        if expect[0] in marks and marks[expect[0]].hash != expect[1]:
            reason = f"the checkpoint at sequence {expect[0]} differs from the exported head"
            return Outcome(False, 0, 0, None, through, 0, False, None, reason)
        marks[expect[0]] = Known(expect[0], expect[1], "exported head")
    outcome = await _walk(
        tenant.id, start=0, previous=None, through=through, known=marks, progress=progress
    )
    if outcome.ok and through > 0:
        head, head_hash = await _head(tenant)
        if head < through or (head == through and head_hash != outcome.head_hash):
            outcome = _cut_off(outcome)
    if not outcome.ok or through == 0:
        return outcome
    saved = await record_checkpoint(
        tenant=tenant, sequence=through, hash=outcome.head_hash, now=now, full=True
    )
    return _with(outcome, checkpoint=saved)
