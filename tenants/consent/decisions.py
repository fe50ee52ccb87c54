"""A decision as read now: the one place that says what `stale`, `restricted` and
`objected` mean, for consentState and for every receipt alike, so the two always agree.

- **stale**: a granted, consent-based decision (the purpose required consent in the
  version it was made under) made under a version that a later MATERIAL version has
  superseded: the person must be asked again. A refusal is never stale (asking again
  people who said no is what GDPR Art. 7 and recital 42 forbid by other means), nor is a
  decision on a contract, legal-obligation or legitimate-interest purpose: there was no
  consent to renew.
- **restricted**: processing of the subject is restricted (GDPR Art. 18, 152-FZ
  "blocking"): storage only, whatever was granted, until the restriction is lifted.
- **objected**: the subject objected (GDPR Art. 21); direct marketing and legitimate
  interests stopped for them.

Both flags are the subject's standing now, read from the ledger's processing events
(tenants/consent/processing.py keeps the read model, SubjectFlags, in their transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tenants.consent.methods import NOT_EXPLICIT, ConsentMethod
from tenants.consent.models import ConsentEvent
from tenants.policies.catalog import Catalog
from tenants.policies.kinds import PolicyKind
from tenants.scoping import owned
from tenants.subjects.models import SubjectFlags
from tenants.tenancy.models import Tenant


@dataclass(frozen=True)
class Standing:
    """What applies to a subject now, beyond their own decisions."""

    restricted: bool = False
    objected: bool = False


@dataclass(frozen=True)
class Decision:
    purpose: str
    granted: bool
    decided_at: datetime
    policy_kind: PolicyKind
    policy_version: int
    method: ConsentMethod
    stale: bool
    restricted: bool = False
    objected: bool = False

    @property
    def explicit(self) -> bool:
        return self.method not in NOT_EXPLICIT


def stale(
    *,
    purpose: str,
    granted: bool,
    kind: PolicyKind,
    version: int,
    versions: Catalog,
    now: datetime,
) -> bool:
    """See the module docstring; the version's own disclosures say whether the purpose
    rested on consent when the person decided."""
    if not granted or version >= versions.latest_material(kind, now):
        return False
    facts = versions.get(kind, version)
    disclosed = facts.purposes.get(purpose) if facts else None
    return bool(disclosed and disclosed["requires_consent"])


def read(
    *,
    purpose: str,
    granted: bool,
    decided_at: datetime,
    kind: PolicyKind,
    version: int,
    method: ConsentMethod,
    standing: Standing,
    versions: Catalog,
    now: datetime,
) -> Decision:
    return Decision(
        purpose=purpose,
        granted=granted,
        decided_at=decided_at,
        policy_kind=kind,
        policy_version=version,
        method=method,
        stale=stale(
            purpose=purpose,
            granted=granted,
            kind=kind,
            version=version,
            versions=versions,
            now=now,
        ),
        restricted=standing.restricted,
        objected=standing.objected,
    )


async def standing(*, tenant: Tenant, subject_ids: Iterable[str]) -> dict[str, Standing]:
    """Each subject's standing (absent: nothing applies), in one query."""
    wanted = sorted(set(subject_ids))
    if not wanted:
        return {}
    rows = await owned(SubjectFlags, tenant=tenant).filter(subject_id__in=wanted)
    return standings((row.subject_id, row.restricted, row.objected) for row in rows)


# The same read as ``standing``, for a statement that writes too (``writes.append_rows``
# on PostgreSQL, which reads the standing of a group's subjects in its write's statement):
# (subject_id, restricted, objected) rows. ``{tenant}``, ``{subjects}``: its parameters,
# a uuid and a text[].
STANDING_SQL = (
    "SELECT subject_id, restricted, objected FROM subject_flags"
    " WHERE tenant_id = {tenant} AND subject_id = ANY({subjects}::text[])"
)


def standings(rows: Iterable[tuple[str, bool, bool]]) -> dict[str, Standing]:
    """Standing by subject from (subject_id, restricted, objected) rows."""
    return {subject: Standing(restricted=r, objected=o) for subject, r, o in rows}


EVERY_PURPOSE = "*"


async def standing_only(*, tenant: Tenant, subject_id: str) -> list[Decision]:
    """consentState for a subject with no decisions: empty, unless a restriction or an
    objection applies to them, which must not read as "nothing recorded" (a restriction
    stops processing on every basis, not only consent). Then one entry for every purpose
    (``*``), granted false (nothing was consented to), with the flags, and the time and
    notice of the ledger event that set them."""
    flags = await owned(SubjectFlags, tenant=tenant).get_or_none(subject_id=subject_id)
    if flags is None or not (flags.restricted or flags.objected):
        return []
    event = (
        await owned(ConsentEvent, tenant=tenant)
        .filter(subject_id=subject_id, processing__isnull=False)
        .order_by("-sequence")
        .first()
    )
    if event is None:  # flags without their event cannot be written; read them anyway
        return []
    return [
        Decision(
            purpose=EVERY_PURPOSE,
            granted=False,
            decided_at=event.occurred_at,
            policy_kind=PolicyKind(event.policy_kind),
            policy_version=event.policy_version,
            method=ConsentMethod(event.method),
            stale=False,
            restricted=flags.restricted,
            objected=flags.objected,
        )
    ]
