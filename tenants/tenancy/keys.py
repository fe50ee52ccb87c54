"""API keys: minted once, stored only as a keyed hash, revoked for good."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from tenants import crypto
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.scoping import owned
from tenants.tenancy import audit, lookup
from tenants.tenancy.models import ApiKey, Tenant
from tenants.tenancy.principal import Principal
from tenants.tenancy.roles import GRANTABLE, Role
from tenants.validation import text

SECRET_PREFIX = "sk_"
PUBLISHABLE_PREFIX = "pk_"
DISPLAY_PREFIX_LENGTH = 11  # "sk_" plus 8 characters: enough to tell keys apart in a list
# lastUsedAt is kept to the minute: one write per key per minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return crypto.keyed_hash(token, purpose="api-key")


def _mint(*, publishable: bool) -> str:
    prefix = PUBLISHABLE_PREFIX if publishable else SECRET_PREFIX
    return prefix + secrets.token_urlsafe(32)


def digest(token: str) -> str | None:
    """The stored form of a token (its keyed hash), or None when it cannot be a key at
    all: no key prefix, or longer than any key we mint (128 characters)."""
    if not token.startswith((SECRET_PREFIX, PUBLISHABLE_PREFIX)) or len(token) > 128:
        return None
    return _hash(token)


async def authenticate(token: str) -> Principal | None:
    """The principal a token stands for, or None when it is unknown or revoked."""
    key_hash = digest(token)
    return None if key_hash is None else await authenticate_hash(key_hash)


async def authenticate_hash(key_hash: str) -> Principal | None:
    """The principal of the key stored under ``key_hash`` (see ``digest``), or None when
    it is unknown or revoked. One fixed, prepared statement (tenants.tenancy.lookup)."""
    principal = await lookup.principal_by_hash(key_hash)
    if principal is not None:
        await note_use(principal.key)
    return principal


async def note_use(key: ApiKey) -> None:
    """Keeps ``lastUsedAt`` to the minute: one write per key per minute, not per request."""
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        key.last_used_at = now  # first: concurrent requests of this key write once
        await ApiKey.filter(id=key.id).update(last_used_at=now)


async def issue_key(
    *, tenant: Tenant, name: str, role: Role | None, publishable: bool
) -> tuple[ApiKey, str]:
    """Create the row and return the secret: the only moment it exists in the clear."""
    secret = _mint(publishable=publishable)
    key = await ApiKey.create(
        tenant_id=tenant.id,
        name=name,
        role=None if publishable else role,
        publishable=publishable,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        key_hash=_hash(secret),
    )
    return key, secret


async def create_api_key(
    *,
    tenant: Tenant,
    actor: str,
    actor_role: Role | None,
    name: str,
    role: Role | None,
    publishable: bool,
) -> tuple[ApiKey, str]:
    problems = Problems()
    clean_name = text(problems, name, "input", "name", max_length=100)
    if publishable and role is not None:
        problems.add(ErrorCode.ROLE_NOT_ALLOWED, "a publishable key has no role", "input", "role")
    if not publishable and role is None:
        problems.add(ErrorCode.ROLE_REQUIRED, "a secret key needs a role", "input", "role")
    if role is not None and actor_role is not None and role not in GRANTABLE[actor_role]:
        problems.add(
            ErrorCode.ROLE_TOO_HIGH,
            f"a {actor_role} key cannot create a {role} key",
            "input",
            "role",
        )
    problems.raise_if_any()
    async with in_transaction():
        key, secret = await issue_key(
            tenant=tenant, name=clean_name, role=role, publishable=publishable
        )
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="api_key.create",
            target=f"api_key:{key.id}",
            details={"name": key.name, "role": key.role, "publishable": publishable},
        )
    return key, secret


async def revoke_api_key(
    *, tenant: Tenant, actor: str, actor_role: Role | None, key_id: str
) -> ApiKey:
    key = await _find(tenant=tenant, key_id=key_id)
    if key.revoked_at is not None:
        raise DomainError.one(ErrorCode.ALREADY_REVOKED, "this key is already revoked", "id")
    if key.role is not None and actor_role is not None and key.role not in GRANTABLE[actor_role]:
        raise DomainError.one(
            ErrorCode.ROLE_TOO_HIGH, f"a {actor_role} key cannot revoke a {key.role} key", "id"
        )
    async with in_transaction():
        if key.role == Role.OWNER and not await _other_owner_exists(tenant=tenant, key=key):
            raise DomainError.one(
                ErrorCode.LAST_OWNER_KEY, "the tenant's last owner key cannot be revoked", "id"
            )
        key.revoked_at = datetime.now(UTC)
        await key.save(update_fields=["revoked_at"])
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="api_key.revoke",
            target=f"api_key:{key.id}",
            details={"name": key.name, "role": key.role},
        )
    return key


async def api_keys(*, tenant: Tenant) -> list[ApiKey]:
    return await owned(ApiKey, tenant=tenant).order_by("created_at", "id")


async def _find(*, tenant: Tenant, key_id: str) -> ApiKey:
    try:
        parsed = uuid.UUID(key_id)
    except ValueError:
        parsed = None
    key = parsed and await owned(ApiKey, tenant=tenant).get_or_none(id=parsed)
    if not key:
        raise DomainError.one(ErrorCode.NOT_FOUND, "no such API key", "id")
    return key


async def _other_owner_exists(*, tenant: Tenant, key: ApiKey) -> bool:
    return (
        await owned(ApiKey, tenant=tenant)
        .filter(role=Role.OWNER, revoked_at__isnull=True)
        .exclude(id=key.id)
        .exists()
    )
