"""Tenants, API keys and the viewer: the contract's "tenants" section."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from schema.enums import PolicyKind, RequestType, Role
from schema.errors import UserError, mutate
from schema.permissions import caller, require, require_platform
from tenants.tenancy import keys, revocations, service
from tenants.tenancy.models import ApiKey as ApiKeyRow
from tenants.tenancy.models import Tenant as TenantRow
from tenants.tenancy.roles import Capability

ESTABLISHMENT = (
    "ISO 3166-1 alpha-2 of the EU member state of the main establishment: its public "
    "holidays and time zone count for EU deadlines. null: weekends only, Europe/Brussels."
)


@strawberry.type
class DeadlinePromise:
    request_type: RequestType
    days: int
    working_days: bool


@strawberry.type(description="The page where the tenant shows its policy of one kind.")
class PolicyUrl:
    kind: PolicyKind
    url: str


@strawberry.type
class Tenant:
    id: strawberry.ID
    slug: str
    name: str
    default_locale: str
    locales: list[str]
    jurisdictions: list[str]
    dpo_email: str | None
    promises: list[DeadlinePromise]
    mail_from: str | None
    notify_material_changes: bool
    policy_urls: list[PolicyUrl] = strawberry.field(
        description="Named on consent receipts (Kantara policyUrl, ISO/IEC TS 27560 notice)."
    )
    main_establishment: str | None = strawberry.field(description=ESTABLISHMENT)
    row: strawberry.Private[TenantRow]

    @strawberry.field
    async def domains(self) -> list[str]:
        return await service.domains_of(tenant=self.row)

    @classmethod
    def of(cls, row: TenantRow) -> Tenant:
        return cls(
            id=strawberry.ID(str(row.id)),
            slug=row.slug,
            name=row.name,
            default_locale=row.default_locale,
            locales=list(row.locales),
            jurisdictions=list(row.jurisdictions),
            dpo_email=row.dpo_email,
            promises=[
                DeadlinePromise(
                    request_type=RequestType(p["request_type"]),
                    days=p["days"],
                    working_days=p["working_days"],
                )
                for p in row.promises
            ],
            mail_from=row.mail_from,
            notify_material_changes=row.notify_material_changes,
            policy_urls=[
                PolicyUrl(kind=PolicyKind(kind), url=url)
                for kind, url in sorted(row.policy_urls.items())
            ],
            main_establishment=row.main_establishment,
            row=row,
        )


@strawberry.type
class ApiKey:
    id: strawberry.ID
    name: str
    role: Role | None
    publishable: bool
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            role=row.role,
            publishable=row.publishable,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class Viewer:
    tenant: Tenant
    key: ApiKey


@strawberry.input
class CreateTenantInput:
    slug: str
    name: str
    default_locale: str
    locales: list[str] | None = strawberry.UNSET
    jurisdictions: list[str]
    domains: list[str] | None = strawberry.UNSET
    dpo_email: str | None = strawberry.UNSET
    main_establishment: str | None = strawberry.field(
        default=strawberry.UNSET, description=ESTABLISHMENT
    )


@strawberry.input
class DeadlinePromiseInput:
    request_type: RequestType
    days: int
    working_days: bool | None = False


@strawberry.input
class EmailTemplateInput:
    kind: str
    locale: str
    subject: str
    text: str


@strawberry.input
class PolicyUrlInput:
    kind: PolicyKind
    url: str


@strawberry.input
class UpdateTenantInput:
    name: str | None = strawberry.UNSET
    default_locale: str | None = strawberry.UNSET
    locales: list[str] | None = strawberry.UNSET
    jurisdictions: list[str] | None = strawberry.UNSET
    domains: list[str] | None = strawberry.UNSET
    dpo_email: str | None = strawberry.UNSET
    promises: list[DeadlinePromiseInput] | None = strawberry.UNSET
    mail_from: str | None = strawberry.field(
        default=strawberry.UNSET, description="The sender of the tenant's e-mails; null: Charter's."
    )
    notify_material_changes: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Tell people with live consent when a MATERIAL version takes effect.",
    )
    policy_urls: list[PolicyUrlInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Replaces the policy pages named on receipts; null or [] clears them.",
    )
    email_templates: list[EmailTemplateInput] | None = strawberry.field(
        default=strawberry.UNSET, description="The tenant's own wording; replaces all earlier."
    )
    main_establishment: str | None = strawberry.field(
        default=strawberry.UNSET, description=ESTABLISHMENT
    )


@strawberry.input
class CreateApiKeyInput:
    name: str
    role: Role | None = strawberry.UNSET
    publishable: bool | None = False


@strawberry.type
class CreateTenantPayload:
    tenant: Tenant | None = None
    owner_key: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateTenantPayload:
    tenant: Tenant | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None = None
    secret: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value):
    """UNSET (the client left the field out) becomes KEEP for the service."""
    return service.KEEP if value is strawberry.UNSET else value


def _templates(value):
    if value is strawberry.UNSET:
        return service.KEEP
    return [
        service.EmailTemplate(kind=t.kind, locale=t.locale, subject=t.subject, text=t.text)
        for t in value or []
    ]


@strawberry.type
class TenancyQuery:
    @strawberry.field
    def viewer(self, info: Info) -> Viewer | None:
        principal = caller(info)
        if principal.key is None or principal.tenant is None:
            return None
        require(info, Capability.READ)
        return Viewer(tenant=Tenant.of(principal.tenant), key=ApiKey.of(principal.key))

    @strawberry.field
    async def api_keys(self, info: Info) -> list[ApiKey]:
        tenant, _ = require(info, Capability.READ_ADMIN)
        return [ApiKey.of(row) for row in await keys.api_keys(tenant=tenant)]


@strawberry.type
class TenancyMutation:
    @strawberry.mutation
    async def create_tenant(self, info: Info, input: CreateTenantInput) -> CreateTenantPayload:
        principal = require_platform(info)

        async def create() -> CreateTenantPayload:
            tenant, secret = await service.create_tenant(
                actor=principal.actor,
                cache=info.context.cache,
                slug=input.slug,
                name=input.name,
                default_locale=input.default_locale,
                jurisdictions=input.jurisdictions,
                locales=input.locales or None,
                domains=input.domains or None,
                dpo_email=input.dpo_email or None,
                main_establishment=input.main_establishment or None,
            )
            return CreateTenantPayload(tenant=Tenant.of(tenant), owner_key=secret)

        return await mutate(CreateTenantPayload, create)

    @strawberry.mutation
    async def update_tenant(self, info: Info, input: UpdateTenantInput) -> UpdateTenantPayload:
        tenant, principal = require(info, Capability.MANAGE)
        promises = _given(input.promises)
        if promises not in (service.KEEP, None):
            promises = [
                service.Promise(
                    request_type=p.request_type, days=p.days, working_days=bool(p.working_days)
                )
                for p in promises
            ]

        async def update() -> UpdateTenantPayload:
            row = await service.update_tenant(
                tenant=tenant,
                actor=principal.actor,
                cache=info.context.cache,
                name=_given(input.name),
                default_locale=_given(input.default_locale),
                locales=_given(input.locales),
                jurisdictions=_given(input.jurisdictions),
                domains=_given(input.domains),
                dpo_email=_given(input.dpo_email),
                promises=[] if promises is None else promises,
                mail_from=_given(input.mail_from),
                notify_material_changes=_given(input.notify_material_changes),
                email_templates=_templates(input.email_templates),
                policy_urls=_policy_urls(input.policy_urls),
                main_establishment=_given(input.main_establishment),
            )
            return UpdateTenantPayload(tenant=Tenant.of(row))

        return await mutate(UpdateTenantPayload, update)

    @strawberry.mutation
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        tenant, principal = require(info, Capability.MANAGE)

        async def create() -> CreateApiKeyPayload:
            key, secret = await keys.create_api_key(
                tenant=tenant,
                actor=principal.actor,
                actor_role=principal.role,
                name=input.name,
                role=input.role or None,
                publishable=bool(input.publishable),
            )
            return CreateApiKeyPayload(api_key=ApiKey.of(key), secret=secret)

        return await mutate(CreateApiKeyPayload, create)

    @strawberry.mutation
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyPayload:
        tenant, principal = require(info, Capability.MANAGE)

        async def revoke() -> RevokeApiKeyPayload:
            key = await keys.revoke_api_key(
                tenant=tenant, actor=principal.actor, actor_role=principal.role, key_id=id
            )
            if info.context.live is not None:  # open sockets of that key end now
                await revocations.announce(info.context.live, str(key.id))
            return RevokeApiKeyPayload(api_key=ApiKey.of(key))

        return await mutate(RevokeApiKeyPayload, revoke)


def _policy_urls(given: list[PolicyUrlInput] | None):
    if given is strawberry.UNSET:
        return service.KEEP
    return [service.PolicyUrl(kind=item.kind, url=item.url) for item in given or []]
