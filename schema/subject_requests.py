"""Data-subject requests: submit, verify, work them through to their deadline."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.enums import IdentityProof, RequestAction, RequestStatus, RequestType
from schema.errors import UserError, mutate, query
from schema.node import Node
from schema.pagination import Connection, connection, window
from schema.permissions import require
from schema.tell import tell
from tenants import live
from tenants.policies.locales import preferred
from tenants.subject_requests import export, service, verification
from tenants.subject_requests.models import CLOSED
from tenants.subject_requests.models import SubjectRequest as RequestRow
from tenants.tenancy.roles import Capability


@strawberry.type
class RequestEvent:
    at: datetime
    status: RequestStatus
    note: str | None
    actor: str | None


@strawberry.type
class SubjectRequest(Node):
    id: strawberry.ID
    type: RequestType
    status: RequestStatus
    subject_id: str | None
    email: str | None = strawberry.field(description='Masked: "a***@example.com".')
    jurisdiction: str
    locale: str | None
    submitted_at: datetime
    received_at: datetime
    due_at: datetime
    extended: bool
    identity_proof: IdentityProof = strawberry.field(
        description="What shows that the requester is the subject named: CONTACT, ASSERTION "
        "or STAFF let the request act on that subject; with NONE or EMAIL it covers only "
        "what is linked to the verified e-mail address."
    )
    overdue: bool
    days_left: int
    timeline: list[RequestEvent]
    stored: strawberry.Private[RequestRow | None] = None

    @strawberry.field(
        description="ACCESS and PORTABILITY, once COMPLETED: the copy of the person's data "
        "(charter.subject-export/1), stored encrypted and opened only when asked for."
    )
    def export(self) -> JSON | None:
        return export.opened(self.stored) if self.stored is not None else None

    @classmethod
    def of(cls, row: RequestRow) -> SubjectRequest:
        now = datetime.now(UTC)
        return cls(
            id=strawberry.ID(str(row.id)),
            type=row.type,
            status=row.status,
            subject_id=row.subject_id,
            email=row.email_hint,
            jurisdiction=row.jurisdiction,
            locale=row.locale,
            submitted_at=row.submitted_at,
            received_at=row.received_at,
            due_at=row.due_at,
            extended=row.extended,
            identity_proof=row.identity_proof,
            overdue=row.status not in CLOSED and now > row.due_at,
            days_left=math.floor((row.due_at - now).total_seconds() / 86400),
            timeline=[
                RequestEvent(at=e.at, status=e.status, note=e.note, actor=e.actor)
                for e in getattr(row, "loaded_timeline", [])
            ],
            stored=row,
        )


@strawberry.input
class SubjectRequestInput:
    type: RequestType
    subject_id: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    jurisdiction: str | None = strawberry.UNSET
    details: str | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET
    received_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="Secret keys only: when a request came by e-mail or phone (not future).",
    )
    verified: bool | None = strawberry.field(
        default=False, description="Secret keys only: the tenant verified the identity itself."
    )
    subject_assertion: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A JWT (HS256) from the tenant's backend proving the subject: claims aud "
        '"charter:<slug>", sub, iat, exp (at most 10 minutes later), jti (single use); header '
        "kid. Names the subject when subjectId is absent.",
    )


@strawberry.type
class SubjectRequestPayload:
    subject_request: SubjectRequest | None = None
    verification_token: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _shown(tenant, row: RequestRow) -> SubjectRequest:
    await service.with_timelines(tenant=tenant, requests=[row])
    return SubjectRequest.of(row)


@strawberry.type
class SubjectRequestsQuery:
    @strawberry.field
    async def subject_requests(
        self,
        info: Info,
        status: RequestStatus | None = None,
        type: RequestType | None = None,
        overdue: bool | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SubjectRequest]:
        tenant, _ = require(info, Capability.READ)
        page = await query(
            service.page(
                tenant=tenant,
                status=status,
                type=type,
                overdue=overdue,
                window=window(first, after, last, before),
            )
        )
        await service.with_timelines(tenant=tenant, requests=[row for _, row in page.items])
        return connection(page, SubjectRequest.of)

    @strawberry.field
    async def subject_request(self, info: Info, id: strawberry.ID) -> SubjectRequest | None:
        tenant, _ = require(info, Capability.READ)
        row = await service.find(tenant=tenant, request_id=id)
        return await _shown(tenant, row) if row else None


@strawberry.type
class SubjectRequestsMutation:
    @strawberry.mutation
    async def submit_subject_request(
        self, info: Info, input: SubjectRequestInput
    ) -> SubjectRequestPayload:
        tenant, principal = require(info, Capability.COLLECT)
        trusted = not principal.publishable

        async def submit() -> SubjectRequestPayload:
            row, token = await service.submit(
                tenant=tenant,
                actor=principal.actor,
                trusted=trusted,
                submission=service.Submission(
                    type=input.type,
                    subject_id=input.subject_id or None,
                    email=input.email or None,
                    jurisdiction=input.jurisdiction or None,
                    details=input.details or None,
                    # Unnamed, the browser's language: what the person is sent later is
                    # negotiated from it (tenants/policies/locales.py), as every text is.
                    locale=input.locale
                    or preferred(info.context.request.headers.get("accept-language")),
                    received_at=input.received_at or None,
                    verified=bool(input.verified),
                    subject_assertion=input.subject_assertion or None,
                ),
            )
            await tell(info, tenant.id, live.REQUEST, row.id)
            # The token goes to the person by e-mail; only a secret key sees it here.
            return SubjectRequestPayload(
                subject_request=await _shown(tenant, row),
                verification_token=token if trusted else None,
            )

        return await mutate(SubjectRequestPayload, submit)

    @strawberry.mutation
    async def verify_subject_request(
        self, info: Info, id: strawberry.ID, token: str
    ) -> SubjectRequestPayload:
        tenant, principal = require(info, Capability.COLLECT)

        async def verify() -> SubjectRequestPayload:
            row = await verification.verify(
                tenant=tenant, actor=principal.actor, request_id=id, token=token
            )
            await tell(info, tenant.id, live.REQUEST, row.id)
            return SubjectRequestPayload(subject_request=await _shown(tenant, row))

        return await mutate(SubjectRequestPayload, verify)

    @strawberry.mutation
    async def update_subject_request(
        self, info: Info, id: strawberry.ID, action: RequestAction, note: str | None = None
    ) -> SubjectRequestPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def update() -> SubjectRequestPayload:
            row = await service.act(
                tenant=tenant, actor=principal.actor, request_id=id, action=action, note=note
            )
            await tell(info, tenant.id, live.REQUEST, row.id)
            return SubjectRequestPayload(subject_request=await _shown(tenant, row))

        return await mutate(SubjectRequestPayload, update)

    @strawberry.mutation(
        description="Secret keys: staff checked that the requester is the subject named "
        "(the note says how). The request then acts on that subject; an UNVERIFIED one is "
        "received now."
    )
    async def verify_subject_identity(
        self, info: Info, id: strawberry.ID, note: str
    ) -> SubjectRequestPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def verify() -> SubjectRequestPayload:
            row = await verification.verify_identity(
                tenant=tenant, actor=principal.actor, request_id=id, note=note
            )
            await tell(info, tenant.id, live.REQUEST, row.id)
            return SubjectRequestPayload(subject_request=await _shown(tenant, row))

        return await mutate(SubjectRequestPayload, verify)
