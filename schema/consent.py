"""The consent ledger: recording decisions, reading state and history, verifying."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from schema.enums import ConsentMethod, PolicyKind
from schema.errors import UserError, mutate, query, user_errors
from schema.pagination import connection, window
from schema.permissions import require
from schema.receipts import (
    ConsentDecision,
    ConsentEventConnection,
    ConsentEventEdge,
    ConsentReceipt,
    ReceiptContext,
)
from tenants.consent import decisions, service, state
from tenants.consent.history import Lookups
from tenants.consent.intake import ConsentInput as Item
from tenants.consent.intake import Evidence
from tenants.errors import DomainError
from tenants.policies.catalog import Catalog, catalog
from tenants.subjects import restriction
from tenants.tenancy.models import Tenant
from tenants.tenancy.roles import Capability


@strawberry.input
class ConsentDecisionInput:
    purpose: str
    granted: bool


@strawberry.input
class ConsentInput:
    subject_id: str
    decisions: list[ConsentDecisionInput]
    policy_kind: PolicyKind | None = PolicyKind.PRIVACY
    policy_version: int | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET
    method: ConsentMethod
    occurred_at: datetime | None = strawberry.UNSET
    client_event_id: str | None = strawberry.UNSET
    source_url: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET


def consent_item(raw: Mapping[str, Any]) -> Item:
    """The domain's input (``intake.ConsentInput``) straight from graphql-core's already
    validated and coerced value: strawberry's ``from_input`` hook for a ConsentInput, and
    what recordConsents' list is converted by (``schema.converted``), so no ConsentInput
    and ConsentDecisionInput objects are built only to be read once (for a 500-event
    recordConsents, a seventh of its CPU went into building them and converting again).

    Coercion has checked every type, and enums and times arrive as their Python values.
    A field the client left out, or sent as null, is absent (None); policyKind defaults
    to PRIVACY; an empty locale, occurredAt, sourceUrl or e-mail is absent too, while
    ``policyVersion`` and ``clientEventId`` keep whatever the client sent (0, "") for
    the ledger to judge.
    """
    get = raw.get
    return Item(
        raw["subjectId"],
        [(d["purpose"], d["granted"]) for d in raw["decisions"]],
        raw["method"],
        get("policyKind") or PolicyKind.PRIVACY,
        get("policyVersion"),
        get("locale") or None,
        get("occurredAt") or None,
        get("clientEventId"),
        get("sourceUrl") or None,
        get("email") or None,
    )


_READ = {"subject_id", "decisions", "method", "policy_kind", "policy_version", "locale",
         "occurred_at", "client_event_id", "source_url", "email"}  # fmt: skip
if {field.python_name for field in ConsentInput.__strawberry_definition__.fields} != _READ:
    # a field added to ConsentInput must be read here too, or it would arrive empty
    raise RuntimeError("consent_item does not know every field of ConsentInput")
ConsentInput.__strawberry_definition__.from_input = lambda _cls, raw, _context: consent_item(raw)


@strawberry.type
class RecordConsentPayload:
    receipt: ConsentReceipt | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RecordConsentsPayload:
    recorded: int = 0
    duplicates: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def evidence(info: Info) -> Evidence:
    request = info.context.request
    return Evidence(
        ip=info.context.client_ip,  # behind trusted proxies: the gate resolved it once
        user_agent=request.headers.get("user-agent"),
        gpc=request.headers.get("sec-gpc", "").strip() == "1",
        accept_language=request.headers.get("accept-language"),
    )


async def receipt_context(
    info: Info,
    tenant: Tenant,
    subject_ids,
    standing: Mapping[str, decisions.Standing] | None = None,
    versions: Catalog | None = None,
) -> ReceiptContext:
    """``standing``, ``versions``: when the caller has read them already (a recordConsent
    reads the standing in its write's transaction, the catalog to check its input)."""
    cache = info.context.cache
    if standing is None:
        standing = await decisions.standing(tenant=tenant, subject_ids=subject_ids)
    if versions is None:
        versions = await catalog(tenant=tenant, cache=cache)
    return ReceiptContext(
        tenant=tenant,
        versions=versions,
        standing=dict(standing),
        lookups=Lookups(tenant=tenant, cache=cache),
    )


@strawberry.type
class ConsentQuery:
    @strawberry.field(
        description="The subject's latest decision per purpose. A subject with no decisions "
        "whose processing is restricted or objected to gets one entry, purpose `*` (every "
        "purpose), granted false, with `restricted`/`objected`: never an empty answer."
    )
    async def consent_state(self, info: Info, subject_id: str) -> list[ConsentDecision]:
        tenant, _ = require(info, Capability.READ)
        found = await query(
            state.consent_state(tenant=tenant, subject_id=subject_id, cache=info.context.cache)
        )
        return [ConsentDecision.of(d) for d in found]

    @strawberry.field
    async def consent_history(
        self,
        info: Info,
        subject_id: str,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ConsentEventConnection:
        tenant, _ = require(info, Capability.READ)
        page = await query(
            state.consent_history(
                tenant=tenant, subject_id=subject_id, window=window(first, after, last, before)
            )
        )
        # The id as the service read it (trimmed): the receipts' standing is keyed by it.
        context = await receipt_context(info, tenant, [subject_id.strip()])
        return connection(
            page,
            lambda event: ConsentReceipt.of(event, context),
            kind=ConsentEventConnection,
            edge=ConsentEventEdge,
        )


@strawberry.type
class LiftRestrictionPayload:
    receipt: ConsentReceipt | None = strawberry.field(
        default=None,
        description="The ledger event that lifted it (processing: RESTRICTION_LIFTED).",
    )
    person_told: bool | None = strawberry.field(
        default=None,
        description="An e-mail to the person was queued (GDPR Art. 18(3)). False: Charter "
        "holds no verified address for them, and the tenant must tell them itself.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConsentMutation:
    @strawberry.mutation
    async def record_consent(self, info: Info, input: ConsentInput) -> RecordConsentPayload:
        tenant, principal = require(info, Capability.COLLECT)

        async def record() -> RecordConsentPayload:
            recorded = await service.record_consent(
                tenant=tenant,
                actor=principal.actor,
                item=input,  # intake's input already (consent_item)
                evidence=evidence(info),
                cache=info.context.cache,
                trusted=not principal.publishable,
            )
            # The receipt says what holds as the event is written, as consentState does.
            event = recorded.event
            standing = {event.subject_id: recorded.standing}
            context = await receipt_context(
                info, tenant, [event.subject_id], standing, recorded.versions
            )
            return RecordConsentPayload(receipt=ConsentReceipt.of(event, context))

        return await mutate(RecordConsentPayload, record)

    @strawberry.mutation(description="Up to 1000 events in one transaction.")
    async def record_consents(
        self, info: Info, inputs: list[ConsentInput]
    ) -> RecordConsentsPayload:
        tenant, principal = require(info, Capability.IMPORT)
        try:
            result = await service.record_consents(
                tenant=tenant,
                actor=principal.actor,
                items=inputs,  # intake's inputs already (consent_item)
                evidence=evidence(info),
                cache=info.context.cache,
                trusted=not principal.publishable,
            )
        except DomainError as error:
            return RecordConsentsPayload(user_errors=user_errors(error))
        return RecordConsentsPayload(
            recorded=result.recorded,
            duplicates=result.duplicates,
            user_errors=user_errors(DomainError(*result.problems)) if result.problems else [],
        )

    @strawberry.mutation(
        description="End a restriction of processing (GDPR Art. 18(3), the end of 152-FZ "
        "blocking): recorded in the ledger; the subject's decisions apply again. The person "
        "is told by e-mail in their locale, queued in the same transaction (`personTold`); "
        "`note` is what they are told of why. NOT_RESTRICTED when there is none."
    )
    async def lift_restriction(
        self, info: Info, subject_id: str, note: str | None = None
    ) -> LiftRestrictionPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def lift() -> LiftRestrictionPayload:
            lifted = await restriction.lift(
                tenant=tenant,
                actor=principal.actor,
                subject_id=subject_id,
                now=datetime.now(UTC),
                note=note,
            )
            context = await receipt_context(info, tenant, [lifted.event.subject_id])
            return LiftRestrictionPayload(
                receipt=ConsentReceipt.of(lifted.event, context), person_told=lifted.told
            )

        return await mutate(LiftRestrictionPayload, lift)
