"""Verifying the consent ledger: from the last checkpoint, checkpoints to export, full jobs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.errors import UserError, mutate, query
from schema.permissions import require
from tenants.consent import jobs, verification
from tenants.consent.models import ConsentCheckpoint, ConsentVerification
from tenants.errors import ErrorCode, Problems
from tenants.tenancy.roles import Capability

_HASH = re.compile(r"[0-9a-f]{64}")


@strawberry.type(
    description="The head hash of the consent ledger at a sequence, recorded when the chain "
    "up to it verified. Held by a third party, it proves later that nothing before it changed."
)
class LedgerCheckpoint:
    sequence: int
    hash: str = strawberry.field(description="Hex SHA-256 of the event at `sequence`.")
    recorded_at: datetime
    full: bool = strawberry.field(description="Verified from genesis in one walk.")

    @classmethod
    def of(cls, checkpoint: ConsentCheckpoint | None) -> LedgerCheckpoint | None:
        if checkpoint is None:
            return None
        return cls(
            sequence=checkpoint.sequence,
            hash=checkpoint.hash,
            recorded_at=checkpoint.recorded_at,
            full=checkpoint.full,
        )


@strawberry.input(description="A checkpoint exported earlier, which the ledger must still hold.")
class LedgerCheckpointInput:
    sequence: int
    hash: str


@strawberry.type
class LedgerVerification:
    ok: bool
    checked: int = strawberry.field(
        description="Links known intact from genesis: the checkpoint's and those walked now."
    )
    first_broken_id: strawberry.ID | None
    reason: str | None = None
    walked: int = strawberry.field(default=0, description="Links re-hashed by this call.")
    from_sequence: int = strawberry.field(default=0, description="The checkpoint walked from.")
    head_sequence: int = 0
    complete: bool = strawberry.field(
        default=True,
        description="False when the head was further than one call walks (about a second): "
        "call again to go on from the checkpoint this call recorded.",
    )
    checkpoint: LedgerCheckpoint | None = None


@strawberry.enum
class LedgerVerificationStatus(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    PASSED = "PASSED"
    FAILED = "FAILED"


@strawberry.type(description="A full verification of the ledger, run by the worker.")
class LedgerVerificationJob:
    id: strawberry.ID
    status: LedgerVerificationStatus
    through_sequence: int = strawberry.field(description="The head when it was asked for.")
    checked: int
    progress: float = strawberry.field(description="From 0 to 1.")
    first_broken_id: strawberry.ID | None
    reason: str | None
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: ConsentVerification) -> LedgerVerificationJob:
        done = job.status in (jobs.JobStatus.PASSED, jobs.JobStatus.FAILED)
        return cls(
            id=strawberry.ID(str(job.id)),
            status=LedgerVerificationStatus(job.status),
            through_sequence=job.through,
            checked=job.checked,
            progress=1.0 if done or not job.through else min(job.checked / job.through, 1.0),
            first_broken_id=strawberry.ID(str(job.first_broken_id))
            if job.first_broken_id
            else None,
            reason=job.reason,
            requested_at=job.requested_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


@strawberry.type
class StartLedgerVerificationPayload:
    verification: LedgerVerificationJob | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


_IN_PROGRESS = UserError(
    field=["expect"],
    code=ErrorCode.VERIFICATION_IN_PROGRESS.value,
    message="a full verification checking another expect is under way: ask again when done",
)


def _expected(given: LedgerCheckpointInput | None, *field: str) -> tuple[int, str] | None:
    if given is None:
        return None
    problems = Problems()
    if given.sequence < 1:
        problems.add(ErrorCode.INVALID, "a checkpoint's sequence is 1 or more", *field, "sequence")
    if not _HASH.fullmatch(given.hash):
        problems.add(ErrorCode.INVALID, "64 lowercase hex characters", *field, "hash")
    problems.raise_if_any()
    return given.sequence, given.hash


@strawberry.type
class LedgerQuery:
    @strawberry.field(
        description="Verify the consent ledger from its last checkpoint to the head, in about "
        "a second whatever its size, and record a checkpoint there. `expect`: a checkpoint "
        "exported earlier that must still hold. A full walk from genesis is "
        "startLedgerVerification."
    )
    async def verify_consent_ledger(
        self, info: Info, expect: LedgerCheckpointInput | None = None
    ) -> LedgerVerification:
        tenant, _ = require(info, Capability.READ)

        async def run() -> verification.Outcome:
            wanted = _expected(expect, "expect")
            return await verification.since_checkpoint(
                tenant=tenant, now=datetime.now(UTC), expect=wanted
            )

        found = await query(run())
        return LedgerVerification(
            ok=found.ok,
            checked=found.through,
            first_broken_id=strawberry.ID(str(found.first_broken_id))
            if found.first_broken_id
            else None,
            reason=found.reason,
            walked=found.walked,
            from_sequence=found.start,
            head_sequence=found.head,
            complete=found.complete,
            checkpoint=LedgerCheckpoint.of(found.checkpoint),
        )

    @strawberry.field(description="The newest checkpoint of the consent ledger, to export.")
    async def consent_ledger_checkpoint(self, info: Info) -> LedgerCheckpoint | None:
        tenant, _ = require(info, Capability.READ)
        return LedgerCheckpoint.of(await verification.latest_checkpoint(tenant=tenant))

    @strawberry.field
    async def ledger_verification(
        self, info: Info, id: strawberry.ID
    ) -> LedgerVerificationJob | None:
        tenant, _ = require(info, Capability.READ)
        job = await jobs.find(tenant=tenant, id=id)
        return LedgerVerificationJob.of(job) if job is not None else None


@strawberry.type
class LedgerMutation:
    @strawberry.mutation(
        description="Queue a full verification of the consent ledger, from genesis to the "
        "head as it is now, checking every checkpoint (and `expect`) on the way; the worker "
        "runs it. At most one is queued or running per tenant: asking again returns that one, "
        "and, when it checks another `expect`, the userError VERIFICATION_IN_PROGRESS (ask "
        "again once it has finished)."
    )
    async def start_ledger_verification(
        self, info: Info, expect: LedgerCheckpointInput | None = None
    ) -> StartLedgerVerificationPayload:
        tenant, _ = require(info, Capability.READ_ADMIN)

        async def start() -> StartLedgerVerificationPayload:
            wanted = _expected(expect, "expect")
            job = await jobs.request(tenant=tenant, now=datetime.now(UTC), expect=wanted)
            busy = [] if jobs.expects(job, wanted) else [_IN_PROGRESS]
            return StartLedgerVerificationPayload(
                verification=LedgerVerificationJob.of(job), user_errors=busy
            )

        return await mutate(StartLedgerVerificationPayload, start)
