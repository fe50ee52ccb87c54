"""Which data-subject rights a tenant's privacy center offers a form for.

Every right any of the tenant's jurisdictions grants (the rule table's `rights.granted`),
and every right its policy in force promises on top (a promise is a promise).
"""

from __future__ import annotations

from collections.abc import Iterable

from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.tenancy.models import Tenant


def rights_offered(tenant: Tenant, promised: Iterable[str] = ()) -> list[RequestType]:
    granted = {right for code in tenant.jurisdictions for right in _granted(code)}
    granted |= set(promised)
    return [right for right in RequestType if right.value in granted]


def _granted(code: str) -> tuple[str, ...]:
    jurisdiction = JURISDICTIONS.get(code)
    return jurisdiction.rights if jurisdiction else ()
