"""Roles and what each may do: the whole permission matrix, as data."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    AUDITOR = "AUDITOR"


class Capability(StrEnum):
    READ = "read"  # policies, consent, requests, breaches of the key's tenant
    READ_ADMIN = "read_admin"  # API keys, audit log, outbox
    EDIT = "edit"  # write policies, work requests and breaches
    MANAGE = "manage"  # API keys, tenant settings, webhooks
    COLLECT = "collect"  # record consent, submit subject requests (browser-safe)
    IMPORT = "import"  # record consent in bulk (server-side only)


SECRET_ROLES: dict[Capability, frozenset[Role]] = {
    Capability.READ: frozenset(Role),
    Capability.READ_ADMIN: frozenset({Role.OWNER, Role.ADMIN, Role.AUDITOR}),
    Capability.EDIT: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
    Capability.MANAGE: frozenset({Role.OWNER, Role.ADMIN}),
    Capability.COLLECT: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
    Capability.IMPORT: frozenset({Role.OWNER, Role.ADMIN, Role.EDITOR}),
}

# A publishable key lives in a browser: it may read published policies (public anyway),
# record consent and submit subject requests, nothing else.
PUBLISHABLE_CAPABILITIES = frozenset({Capability.COLLECT})

# Who may mint or revoke a key of a role: nobody hands out more power than they hold.
GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.OWNER: frozenset(Role),
    Role.ADMIN: frozenset({Role.ADMIN, Role.EDITOR, Role.AUDITOR}),
    Role.EDITOR: frozenset(),
    Role.AUDITOR: frozenset(),
}


def allows(role: Role | None, capability: Capability, *, publishable: bool) -> bool:
    if publishable:
        return capability in PUBLISHABLE_CAPABILITIES
    return role is not None and role in SECRET_ROLES[capability]
