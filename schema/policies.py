"""Policies: drafts, publishing, versions, and the public publishedPolicy."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from schema.branding import ConsentBanner, PolicyChange, banner_for, history_for
from schema.disclosures import Disclosures, DisclosuresInput, plain
from schema.enums import PolicyKind, VersionStatus
from schema.errors import TooComplex, UserError, mutate, query
from schema.node import Node
from schema.pagination import Connection, connection, window
from schema.permissions import caller, require
from schema.tell import tell
from tenants import live
from tenants.errors import DomainError
from tenants.policies import diffs, published, service
from tenants.policies.locales import choose
from tenants.policies.models import PolicyVersion as VersionRow
from tenants.tenancy.roles import Capability


@strawberry.type
class PolicyTranslation:
    locale: str
    title: str
    body: str
    html: str
    content_hash: str


@strawberry.type
class PolicyVersion(Node):
    id: strawberry.ID
    kind: PolicyKind
    version: int | None
    status: VersionStatus
    effective_at: datetime | None
    published_at: datetime | None
    material: bool
    change_summary: str | None
    translations: list[PolicyTranslation]
    disclosures: Disclosures
    row: strawberry.Private[VersionRow]

    @strawberry.field(description="Unified diff of the body against another version.")
    async def diff(
        self, info: Info, against: int | None = None, locale: str | None = None
    ) -> str | None:
        tenant, _ = require(info, Capability.READ)
        other = (
            against if against is not None else (self.version or 0) - 1 if self.version else None
        )
        if other is None:
            current = await service.current_version(
                tenant=tenant, kind=self.row.kind, now=datetime.now(UTC)
            )
            other = current.number if current else None
        if other is None or other < 1:
            return None
        if not self.translations:
            return None
        wanted = choose(
            requested=locale,
            available=[t.locale for t in self.translations],
            default=tenant.default_locale,
        )
        mine = next((t.body for t in self.translations if t.locale == wanted), None)
        theirs = await service.published_body(
            tenant=tenant, kind=self.row.kind, number=other, locale=wanted
        )
        if mine is None or theirs is None:
            return None
        name = f"v{self.version}" if self.version else "draft"
        try:
            return await diffs.between(
                tenant=tenant,
                before=theirs,
                after=mine,
                fromfile=f"v{other}/{wanted}",
                tofile=f"{name}/{wanted}",
            )
        except DomainError as error:  # too costly to compute: a coded error, not a stall
            raise TooComplex(str(error)) from error

    @classmethod
    def of(cls, row: VersionRow) -> PolicyVersion:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            version=row.number,
            status=row.status_at(datetime.now(UTC), superseded_from=row.superseded_at),
            effective_at=row.effective_at,
            published_at=row.published_at,
            material=row.material,
            change_summary=row.change_summary,
            translations=[
                PolicyTranslation(
                    locale=t.locale,
                    title=t.title,
                    body=t.body,
                    html=t.html,
                    content_hash=t.content_hash,
                )
                for t in row.loaded_translations
            ],
            disclosures=Disclosures.of(row.disclosures),
            row=row,
        )


@strawberry.type
class Policy:
    kind: PolicyKind
    current: PolicyVersion | None

    @strawberry.field
    async def versions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PolicyVersion]:
        tenant, _ = require(info, Capability.READ)
        page = await query(
            service.versions_page(
                tenant=tenant, kind=self.kind, window=window(first, after, last, before)
            )
        )
        return connection(page, PolicyVersion.of)


@strawberry.type(description="What a site's frontend shows; public, cacheable.")
class PublishedPolicy:
    site: str
    kind: PolicyKind
    version: int
    locale: str
    available_locales: list[str]
    title: str
    body: str
    html: str
    content_hash: str
    effective_at: datetime
    published_at: datetime
    material: bool
    change_summary: str | None
    disclosures: Disclosures

    @strawberry.field(description="What a consent banner shows with this version (public).")
    async def banner(self, info: Info) -> ConsentBanner | None:
        return await banner_for(info, self)

    @strawberry.field(description="Versions in effect so far, newest first (public).")
    async def history(self, info: Info) -> list[PolicyChange]:
        return await history_for(info, self)


@strawberry.input
class TranslationInput:
    locale: str
    title: str
    body: str


@strawberry.input
class PolicyDraftInput:
    kind: PolicyKind
    translations: list[TranslationInput]
    disclosures: DisclosuresInput | None = strawberry.UNSET
    material: bool | None = False
    change_summary: str | None = strawberry.UNSET


@strawberry.type
class PolicyVersionPayload:
    policy_version: PolicyVersion | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _draft_arguments(input: PolicyDraftInput) -> dict:
    return {
        "kind": input.kind,
        "translations": [
            service.Translation(locale=t.locale, title=t.title, body=t.body)
            for t in input.translations
        ],
        "disclosures": plain(input.disclosures) if input.disclosures else None,
        "material": bool(input.material),
        "change_summary": input.change_summary or None,
    }


@strawberry.type
class PoliciesQuery:
    @strawberry.field
    async def published_policy(
        self,
        info: Info,
        site: str,
        kind: PolicyKind = PolicyKind.PRIVACY,
        locale: str | None = None,
        version: int | None = None,
    ) -> PublishedPolicy | None:
        caller(info)  # public, but a rejected token is still refused
        view = await published.published_policy(
            cache=info.context.cache,
            site=site,
            kind=kind,
            now=datetime.now(UTC),
            locale=locale,
            accept_language=info.context.request.headers.get("accept-language"),
            version=version,
        )
        if view is None:
            return None
        _fresh_until(info, view.fresh_until)
        return published_type(view)

    @strawberry.field
    async def policy(self, info: Info, kind: PolicyKind) -> Policy | None:
        tenant, _ = require(info, Capability.READ)
        if not await service.kind_exists(tenant=tenant, kind=kind):
            return None
        current = await service.current_version(tenant=tenant, kind=kind, now=datetime.now(UTC))
        return Policy(kind=kind, current=PolicyVersion.of(current) if current else None)

    @strawberry.field
    async def policy_version(self, info: Info, id: strawberry.ID) -> PolicyVersion | None:
        tenant, _ = require(info, Capability.READ)
        row = await service.find_version(tenant=tenant, version_id=id)
        return PolicyVersion.of(row) if row else None


@strawberry.type
class PoliciesMutation:
    @strawberry.mutation
    async def create_policy_draft(
        self, info: Info, input: PolicyDraftInput
    ) -> PolicyVersionPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def create() -> PolicyVersionPayload:
            row = await service.create_draft(
                tenant=tenant, actor=principal.actor, **_draft_arguments(input)
            )
            return PolicyVersionPayload(policy_version=PolicyVersion.of(row))

        return await mutate(PolicyVersionPayload, create)

    @strawberry.mutation
    async def update_policy_draft(
        self, info: Info, id: strawberry.ID, input: PolicyDraftInput
    ) -> PolicyVersionPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def update() -> PolicyVersionPayload:
            row = await service.update_draft(
                tenant=tenant, actor=principal.actor, version_id=id, **_draft_arguments(input)
            )
            return PolicyVersionPayload(policy_version=PolicyVersion.of(row))

        return await mutate(PolicyVersionPayload, update)

    @strawberry.mutation
    async def publish_policy_version(
        self, info: Info, id: strawberry.ID, effective_at: datetime | None = None
    ) -> PolicyVersionPayload:
        tenant, principal = require(info, Capability.EDIT)

        async def publish() -> PolicyVersionPayload:
            row = await service.publish(
                tenant=tenant,
                actor=principal.actor,
                cache=info.context.cache,
                version_id=id,
                effective_at=effective_at,
            )
            if row.effective_at <= datetime.now(UTC):  # scheduled ones: the worker tells
                await tell(info, tenant.id, live.POLICY, row.id, row.kind)
            return PolicyVersionPayload(policy_version=PolicyVersion.of(row))

        return await mutate(PolicyVersionPayload, publish)


def published_type(view: published.PublishedView) -> PublishedPolicy:
    fields = {k: v for k, v in vars(view).items() if k != "fresh_until"}
    return PublishedPolicy(**(fields | {"disclosures": Disclosures.of(view.disclosures)}))


def _fresh_until(info: Info, until) -> None:
    """Tell the response cache how long this answer may be kept (the soonest of all)."""
    state = info.context.request.state
    current = getattr(state, "fresh_until", None)
    state.fresh_until = until if current is None else min(current, until)
