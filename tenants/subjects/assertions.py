"""Subject assertions: a tenant's backend proves that a signed-in user is a subject.

The assertion is a JWT (RFC 7519) signed with HS256 under a per-tenant secret that the
tenant creates and rotates here and sees once. Its header names the key (``kid``); its
claims are ``aud`` ("charter:<tenant slug>"), ``sub`` (the subject id), ``iat``, ``exp``
(at most MAX_LIFETIME after ``iat``) and ``jti`` (unique: an assertion proves one
request, a replay is refused). RFC 8725 (JWT best practices): one algorithm, allowed
explicitly; the audience is checked; the key is chosen by ``kid`` among this tenant's.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from tenants import crypto, validation
from tenants.errors import DomainError, ErrorCode, Problems
from tenants.scoping import owned
from tenants.subjects.models import SubjectAssertionKey, SubjectAssertionUse
from tenants.tenancy import audit
from tenants.tenancy.models import Tenant
from tenants.validation import MAX_SUBJECT_ID

__all__ = ["Asserted", "audience", "check", "keys", "rotate"]

SECRET_PURPOSE = "subject-assertion-secret"
JTI_PURPOSE = "subject-assertion-jti"
PREFIX = "sas_"
ALGORITHM = "HS256"
MAX_LIFETIME = timedelta(minutes=10)
LEEWAY = timedelta(seconds=30)  # clocks of two machines are never quite in step
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)
REQUIRED_CLAIMS = ["aud", "sub", "iat", "exp", "jti"]
MAX_TOKEN = 4096  # a few claims and a signature: anything longer is not ours


@dataclass(frozen=True)
class Asserted:
    subject_id: str
    key_id: str


def audience(tenant: Tenant) -> str:
    return f"charter:{tenant.slug}"


async def rotate(
    *, tenant: Tenant, actor: str, grace: timedelta | None
) -> tuple[SubjectAssertionKey, str]:
    """A new current key and its secret (the only time it is shown). Keys in use so far
    keep working for ``grace`` (default 24 hours, at most 7 days; zero ends them now)."""
    grace = DEFAULT_GRACE if grace is None else grace
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise DomainError.one(
            ErrorCode.INVALID, "graceSeconds is 0 to 604800 (7 days)", "graceSeconds"
        )
    now = datetime.now(UTC)
    secret = PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    async with in_transaction():
        await owned(SubjectAssertionKey, tenant=tenant).filter(expires_at__lte=now).delete()
        await (
            owned(SubjectAssertionKey, tenant=tenant)
            .filter(expires_at__isnull=True)
            .update(expires_at=now + grace)
        )
        key_id = uuid.uuid4()
        key = await SubjectAssertionKey.create(
            id=key_id,
            tenant_id=tenant.id,
            secret=crypto.encrypt(
                secret, purpose=SECRET_PURPOSE, tenant_id=tenant.id, row_id=key_id
            ),
        )
        await audit.record(
            tenant=tenant,
            actor=actor,
            action="subject_assertion_key.rotate",
            target=f"subject_assertion_key:{key.id}",
            details={"grace_seconds": int(grace.total_seconds())},
        )
    return key, secret


async def keys(*, tenant: Tenant) -> list[SubjectAssertionKey]:
    """The keys that still verify assertions, newest first."""
    now = datetime.now(UTC)
    rows = await owned(SubjectAssertionKey, tenant=tenant).order_by("-created_at")
    return [row for row in rows if row.expires_at is None or row.expires_at > now]


def _refused(code: ErrorCode, message: str) -> DomainError:
    return DomainError.one(code, message, "input", "subjectAssertion")


async def check(*, tenant: Tenant, token: str, subject_id: str | None, now: datetime) -> Asserted:
    """The subject the assertion proves, once: call inside the transaction that uses it,
    so a request that fails to be written does not burn the assertion.

    Raises DomainError: ASSERTION_INVALID (malformed, unknown key, bad signature, missing
    claims, lifetime over 10 minutes), ASSERTION_WRONG_TENANT (``aud`` names another),
    ASSERTION_EXPIRED, ASSERTION_WRONG_SUBJECT (``sub`` is not ``subject_id``),
    ASSERTION_REPLAYED (its ``jti`` proved a request before).
    """
    if len(token) > MAX_TOKEN:
        raise _refused(ErrorCode.ASSERTION_INVALID, f"at most {MAX_TOKEN} characters")
    try:
        header = jwt.get_unverified_header(token)
        claimed = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise _refused(ErrorCode.ASSERTION_INVALID, f"not a JWT: {error}") from error
    # Named before the signature is checked: the key of another tenant is not ours to try.
    named = claimed.get("aud")
    if audience(tenant) not in (named if isinstance(named, list) else [named]):
        raise _refused(
            ErrorCode.ASSERTION_WRONG_TENANT, f"the assertion is not for {audience(tenant)!r}"
        )
    key = await _key(tenant, header.get("kid"), now)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience(tenant),
            leeway=LEEWAY,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise _refused(ErrorCode.ASSERTION_EXPIRED, "the assertion has expired") from error
    except jwt.PyJWTError as error:
        raise _refused(ErrorCode.ASSERTION_INVALID, f"invalid assertion: {error}") from error
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(issued, int | float) or issued > (now + LEEWAY).timestamp():
        raise _refused(ErrorCode.ASSERTION_INVALID, "iat is in the future")
    if expires - issued > MAX_LIFETIME.total_seconds():
        raise _refused(
            ErrorCode.ASSERTION_INVALID,
            f"an assertion lives at most {int(MAX_LIFETIME.total_seconds())} seconds",
        )
    subject, jti = claims["sub"], claims["jti"]
    # The one rule for a subject id (validation.subject_id): trimmed, as every entry point
    # stores it. "dave " kept as sent named nobody: an ERASURE it proved completed with
    # dave's consent, flags and contact left in place.
    subject = (
        validation.living_subject_id(Problems(), subject, "sub")
        if isinstance(subject, str)
        else None
    )
    if subject is None:
        raise _refused(
            ErrorCode.ASSERTION_INVALID, f"sub is the subject id (1-{MAX_SUBJECT_ID} characters)"
        )
    if subject_id is not None and subject != subject_id:
        raise _refused(ErrorCode.ASSERTION_WRONG_SUBJECT, "the assertion is about another subject")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 255:
        raise _refused(ErrorCode.ASSERTION_INVALID, "jti is a unique id of 8-255 characters")
    await _spend(tenant, jti, datetime.fromtimestamp(expires, UTC) + LEEWAY, now)
    return Asserted(subject_id=subject, key_id=header["kid"])


async def _key(tenant: Tenant, kid: object, now: datetime) -> bytes:
    row = None
    if isinstance(kid, str):
        try:
            row = await owned(SubjectAssertionKey, tenant=tenant).get_or_none(id=kid)
        except (ValueError, TypeError):  # not a UUID: no key of ours
            row = None
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        raise _refused(ErrorCode.ASSERTION_INVALID, "kid names no current key of this tenant")
    return crypto.decrypt(
        row.secret, purpose=SECRET_PURPOSE, tenant_id=row.tenant_id, row_id=row.id
    ).encode()


async def _spend(tenant: Tenant, jti: str, until: datetime, now: datetime) -> None:
    await owned(SubjectAssertionUse, tenant=tenant).filter(expires_at__lt=now).delete()
    digest = crypto.keyed_hash(jti, purpose=JTI_PURPOSE)
    if await owned(SubjectAssertionUse, tenant=tenant).filter(jti_hash=digest).exists():
        raise _refused(ErrorCode.ASSERTION_REPLAYED, "this assertion was used before")
    try:
        await SubjectAssertionUse.create(tenant_id=tenant.id, jti_hash=digest, expires_at=until)
    except IntegrityError as error:  # the same assertion, spent at this very moment
        raise _refused(ErrorCode.ASSERTION_REPLAYED, "this assertion was used before") from error
