"""What the consent banner needs to know of a site, in one value: the categories to ask
about, its words in the visitor's language, its colours, and when to ask again.

Built from the published version a visitor is shown (its disclosures and locale) and the
tenant (jurisdictions, branding); pure, so the API and the privacy center build the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tenants.branding.categories import Category, group
from tenants.branding.service import ConsentModel, branding_of, consent_model_in_force
from tenants.branding.texts import BANNER_SECTIONS, texts_for
from tenants.consent.intake import gpc_applies
from tenants.tenancy.models import Tenant


@dataclass(frozen=True)
class BannerView:
    locale: str  # the policy's locale as shown: the banner speaks the same language
    consent_model: ConsentModel
    gpc_binding: bool  # a GPC signal is a binding opt-out under one of its jurisdictions
    # The highest MATERIAL version in force: a granted consent-based choice made under an
    # earlier version is stale, and the banner asks again.
    material_version: int
    categories: list[Category]
    texts: dict[str, str]
    colors: Mapping[str, str]
    privacy_center_path: str


def banner_view(
    *,
    tenant: Tenant,
    site: str,
    locale: str,
    disclosures: Mapping[str, Any],
    material_version: int,
) -> BannerView:
    branding = branding_of(tenant)
    texts = texts_for(locale, branding.texts, sections=BANNER_SECTIONS)
    return BannerView(
        locale=locale,
        consent_model=consent_model_in_force(tenant),
        gpc_binding=gpc_applies(tenant),
        material_version=material_version,
        categories=group(disclosures.get("purposes") or [], texts),
        texts={k: v for k, v in texts.items() if not k.startswith(("category.", "purpose."))},
        colors=branding.colors,
        privacy_center_path=privacy_center_path(site),
    )


def privacy_center_path(site: str) -> str:
    """Where a site's privacy center lives, on Charter's host or the tenant's own."""
    return f"/t/{quote(site.strip().lower(), safe='')}/privacy"
