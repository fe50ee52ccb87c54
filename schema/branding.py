"""Branding (a tenant's colours, logo, consent model and texts) and what the consent
banner and privacy center read with a published policy: `banner` and `history`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.enums import LegalBasis
from schema.errors import UserError, mutate
from schema.permissions import require
from tenants.branding import service
from tenants.branding.banner import BannerView, banner_view
from tenants.policies.catalog import catalog
from tenants.policies.history import history
from tenants.policies.kinds import PolicyKind
from tenants.tenancy.roles import Capability

ConsentModel = strawberry.enum(
    service.ConsentModel,
    name="ConsentModel",
    description="EXPLICIT: opt-in banner. IMPLIED: a notice with an opt-out, recorded as "
    "IMPLIED; only where every jurisdiction of the tenant allows it.",
)


@strawberry.type
class BrandColors:
    background: str
    text: str
    accent: str = strawberry.field(description="Buttons and links.")
    accent_text: str = strawberry.field(description="Text on buttons.")

    @classmethod
    def of(cls, colors) -> BrandColors:
        return cls(
            background=colors["background"],
            text=colors["text"],
            accent=colors["accent"],
            accent_text=colors["accent_text"],
        )


@strawberry.type
class BrandText:
    locale: str
    key: str
    text: str


@strawberry.type
class Branding:
    colors: BrandColors
    logo_url: str | None
    consent_model: ConsentModel = strawberry.field(description="As the tenant chose it.")
    consent_model_in_force: ConsentModel = strawberry.field(
        description="What visitors get: EXPLICIT when a jurisdiction refuses IMPLIED."
    )
    texts: list[BrandText]

    @classmethod
    def of(cls, tenant) -> Branding:
        branding = service.branding_of(tenant)
        return cls(
            colors=BrandColors.of(branding.colors),
            logo_url=branding.logo_url,
            consent_model=branding.consent_model,
            consent_model_in_force=service.consent_model_in_force(tenant),
            texts=[
                BrandText(locale=locale, key=key, text=text)
                for locale, texts in sorted(branding.texts.items())
                for key, text in sorted(texts.items())
            ],
        )


@strawberry.type
class ConsentPurpose:
    key: str
    name: str
    description: str | None
    legal_basis: LegalBasis
    requires_consent: bool
    gpc_opt_out: bool = strawberry.field(
        description="A Global Privacy Control signal opts out of it where GPC binds."
    )


@strawberry.type
class ConsentCategory:
    key: str
    name: str
    description: str
    required: bool = strawberry.field(description="Nothing in it needs consent: always active.")
    purposes: list[ConsentPurpose]


@strawberry.type(description="What the consent banner shows with a published version.")
class ConsentBanner:
    locale: str
    consent_model: ConsentModel
    gpc_binding: bool
    material_version: int = strawberry.field(
        description="The highest MATERIAL version in force (0: none). A granted choice made "
        "under an earlier version is stale: ask again."
    )
    categories: list[ConsentCategory]
    texts: JSON = strawberry.field(description="{key: text} in `locale`.")
    colors: BrandColors
    privacy_center_url: str = strawberry.field(description="A path on Charter's host.")

    @classmethod
    def of(cls, view: BannerView) -> ConsentBanner:
        return cls(
            locale=view.locale,
            consent_model=view.consent_model,
            gpc_binding=view.gpc_binding,
            material_version=view.material_version,
            categories=[
                ConsentCategory(
                    key=c.key,
                    name=c.name,
                    description=c.description,
                    required=c.required,
                    purposes=[
                        ConsentPurpose(
                            key=p.key,
                            name=p.name,
                            description=p.description,
                            legal_basis=LegalBasis(p.legal_basis),
                            requires_consent=p.requires_consent,
                            gpc_opt_out=p.gpc_opt_out,
                        )
                        for p in c.purposes
                    ],
                )
                for c in view.categories
            ],
            texts=view.texts,
            colors=BrandColors.of(view.colors),
            privacy_center_url=view.privacy_center_path,
        )


@strawberry.type
class PolicyChange:
    version: int
    effective_at: datetime
    material: bool
    change_summary: str | None


async def banner_for(info: Info, published: Any) -> ConsentBanner | None:
    """The banner of a PublishedPolicy (site, kind, version and locale as served)."""
    cache = info.context.cache
    tenant = await service.tenant_of(cache=cache, site=published.site)
    if tenant is None:
        return None
    versions = await catalog(tenant=tenant, cache=cache)
    kind = PolicyKind(published.kind)
    facts = versions.get(kind, published.version)
    if facts is None:
        return None
    view = banner_view(
        tenant=tenant,
        site=published.site,
        locale=published.locale,
        disclosures=facts.disclosures,
        material_version=versions.latest_material(kind, datetime.now(UTC)),
    )
    return ConsentBanner.of(view)


async def history_for(info: Info, published: Any) -> list[PolicyChange]:
    cache = info.context.cache
    tenant = await service.tenant_of(cache=cache, site=published.site)
    if tenant is None:
        return []
    changes = await history(
        tenant_id=str(tenant.id),
        kind=PolicyKind(published.kind),
        now=datetime.now(UTC),
        cache=cache,
    )
    return [PolicyChange(**vars(change)) for change in changes]


@strawberry.input
class BrandColorsInput:
    background: str | None = strawberry.UNSET
    text: str | None = strawberry.UNSET
    accent: str | None = strawberry.UNSET
    accent_text: str | None = strawberry.UNSET


@strawberry.input
class BrandTextInput:
    locale: str
    key: str = strawberry.field(
        description='A catalogue key ("banner.title") or "purpose.<fideslang data use>".'
    )
    text: str


@strawberry.input
class BrandingInput:
    colors: BrandColorsInput | None = strawberry.field(
        default=strawberry.UNSET, description="The colours given change; null resets them all."
    )
    logo_url: str | None = strawberry.UNSET
    consent_model: ConsentModel | None = strawberry.UNSET
    texts: list[BrandTextInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces every earlier text; null clears them."
    )


@strawberry.type
class UpdateBrandingPayload:
    branding: Branding | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value):
    return service.KEEP if value is strawberry.UNSET else value


def _colors(value: BrandColorsInput | None):
    if value is strawberry.UNSET or value is None:
        return _given(value)
    return {
        name: getattr(value, name)
        for name in ("background", "text", "accent", "accent_text")
        if getattr(value, name) is not strawberry.UNSET
    }


def _texts(value: list[BrandTextInput] | None):
    if value is strawberry.UNSET or value is None:
        return _given(value)
    return [service.Text(locale=t.locale, key=t.key, text=t.text) for t in value]


@strawberry.type
class BrandingQuery:
    @strawberry.field(description="The caller's tenant's branding.")
    def branding(self, info: Info) -> Branding:
        tenant, _ = require(info, Capability.READ)
        return Branding.of(tenant)


@strawberry.type
class BrandingMutation:
    @strawberry.mutation(description="Colours, logo, consent model and texts (OWNER, ADMIN).")
    async def update_branding(self, info: Info, input: BrandingInput) -> UpdateBrandingPayload:
        tenant, principal = require(info, Capability.MANAGE)

        async def update() -> UpdateBrandingPayload:
            row = await service.update_branding(
                tenant=tenant,
                actor=principal.actor,
                cache=info.context.cache,
                colors=_colors(input.colors),
                logo_url=_given(input.logo_url),
                consent_model=_given(input.consent_model),
                texts=_texts(input.texts),
            )
            return UpdateBrandingPayload(branding=Branding.of(row))

        return await mutate(UpdateBrandingPayload, update)
