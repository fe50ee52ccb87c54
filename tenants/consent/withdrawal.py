"""Withdrawals a person asked for through a request: recorded in the ledger like any
other decision, so the chain proves them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tenants.consent import ledger, writes
from tenants.consent.methods import ConsentMethod
from tenants.consent.models import ConsentState
from tenants.consent.service import append
from tenants.policies.kinds import PolicyKind
from tenants.scoping import owned
from tenants.tenancy.models import Tenant


async def withdraw(
    *,
    tenant: Tenant,
    subject_id: str,
    now: datetime,
    actor: str,
    which: Callable[[ConsentState], bool] = lambda state: True,
) -> list[writes.EventRow]:
    """Record "not granted" for every granted purpose of the subject that ``which`` picks,
    one event per policy version the consent was given under. Runs in the caller's
    transaction."""
    # The chain head first, as a processing change takes it (``processing``): a decision
    # recorded meanwhile is then read here and withdrawn, or chained after this
    # withdrawal; never chained before it yet missed by this read, and left granted.
    await ledger.locked_head(tenant=tenant)
    granted = await owned(ConsentState, tenant=tenant).filter(subject_id=subject_id, granted=True)
    groups: dict[tuple[str, int], list[str]] = {}
    for state in granted:
        if which(state):
            groups.setdefault((state.policy_kind, state.policy_version), []).append(state.purpose)
    entries = [
        (
            ledger.Entry(
                subject_id=subject_id,
                policy_kind=PolicyKind(kind),
                policy_version=version,
                locale=None,
                method=ConsentMethod.API,
                decisions=[{"purpose": p, "granted": False} for p in sorted(purposes)],
                occurred_at=now,
                source_url=None,
                ip=None,
                user_agent=None,
                client_event_id=None,
            ),
            None,
        )
        for (kind, version), purposes in sorted(groups.items())
    ]
    if not entries:
        return []
    events, _ = await append(tenant=tenant, items=entries, now=now, actor=actor)
    return events
