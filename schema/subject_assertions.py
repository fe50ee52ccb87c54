"""The keys a tenant's backend signs subject assertions with: rotated here, each secret
shown once (tenants.subjects.assertions)."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry
from strawberry.types import Info

from schema.errors import UserError, mutate
from schema.permissions import require
from tenants.subjects import assertions
from tenants.subjects.models import SubjectAssertionKey as KeyRow
from tenants.tenancy.roles import Capability


@strawberry.type
class SubjectAssertionKey:
    id: strawberry.ID = strawberry.field(description="The JWT header's kid.")
    audience: str = strawberry.field(description='The aud claim: "charter:<tenant slug>".')
    created_at: datetime
    expires_at: datetime | None = strawberry.field(
        description="Null for the current key; a rotated key verifies until then."
    )

    @classmethod
    def of(cls, row: KeyRow, audience: str) -> SubjectAssertionKey:
        return cls(
            id=strawberry.ID(str(row.id)),
            audience=audience,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


@strawberry.type
class RotateSubjectAssertionKeyPayload:
    key: SubjectAssertionKey | None = None
    secret: str | None = strawberry.field(default=None, description='"sas_…", shown once.')
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SubjectAssertionsQuery:
    @strawberry.field(description="The keys that still verify subject assertions, newest first.")
    async def subject_assertion_keys(self, info: Info) -> list[SubjectAssertionKey]:
        tenant, _ = require(info, Capability.READ_ADMIN)
        audience = assertions.audience(tenant)
        return [
            SubjectAssertionKey.of(row, audience) for row in await assertions.keys(tenant=tenant)
        ]


@strawberry.type
class SubjectAssertionsMutation:
    @strawberry.mutation(
        description="A new key for signing subject assertions; the first call creates one. "
        "Earlier keys keep verifying for graceSeconds (default 86400, at most 604800; 0 "
        "ends them now)."
    )
    async def rotate_subject_assertion_key(
        self, info: Info, grace_seconds: int | None = None
    ) -> RotateSubjectAssertionKeyPayload:
        tenant, principal = require(info, Capability.MANAGE)

        async def rotate() -> RotateSubjectAssertionKeyPayload:
            grace = None if grace_seconds is None else timedelta(seconds=grace_seconds)
            row, secret = await assertions.rotate(tenant=tenant, actor=principal.actor, grace=grace)
            return RotateSubjectAssertionKeyPayload(
                key=SubjectAssertionKey.of(row, assertions.audience(tenant)), secret=secret
            )

        return await mutate(RotateSubjectAssertionKeyPayload, rotate)
