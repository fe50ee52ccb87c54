"""Who a request is about. Verifying the e-mail proves an address, not a subject: anyone
can type another person's subject id next to their own address. So a request acts on the
subject it names only with proof that the requester is that subject:

- CONTACT: the verified address is the verified contact Charter holds for the subject;
- ASSERTION: a subject assertion signed by the tenant's backend (tenants.subjects.assertions);
- STAFF: the tenant's staff checked the identity (a secret key, with a note).

Without one (EMAIL), the request covers only what is linked to the verified address: the
subjects whose verified contact it is, the contact rows and messages carrying it, and the
requests made with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenants.subject_requests.models import SUBJECT_PROOFS, IdentityProof, SubjectRequest
from tenants.subjects import contacts
from tenants.tenancy.models import Tenant

__all__ = ["SUBJECT_PROOFS", "Scope", "describe", "on_verification", "scope"]


@dataclass(frozen=True)
class Scope:
    """What a request may act on: these subjects, and what is linked to this address."""

    subjects: frozenset[str]
    email: str | None


async def on_verification(
    *, tenant: Tenant, request: SubjectRequest, email: str | None
) -> IdentityProof:
    """The proof once the e-mail is verified: a proof given at submission stands."""
    if request.identity_proof in SUBJECT_PROOFS:
        return IdentityProof(request.identity_proof)
    if (
        request.subject_id
        and email
        and await contacts.is_verified_contact(
            tenant=tenant, subject_id=request.subject_id, email=email
        )
    ):
        return IdentityProof.CONTACT
    return IdentityProof.EMAIL


async def scope(*, tenant: Tenant, request: SubjectRequest, email: str | None) -> Scope:
    proof = IdentityProof(request.identity_proof)
    subjects: set[str] = set()
    if request.subject_id and proof in SUBJECT_PROOFS:
        subjects.add(request.subject_id)
    proven_email = email if proof != IdentityProof.NONE else None
    if proven_email:
        subjects |= await contacts.verified_subjects(tenant=tenant, email=proven_email)
    return Scope(subjects=frozenset(subjects), email=proven_email)


def describe(proof: IdentityProof, *, names_subject: bool, detail: str | None = None) -> str:
    """The timeline's words for a proof (no personal data: the timeline outlives erasure)."""
    if proof == IdentityProof.CONTACT:
        return "identity: the verified address is the subject's contact on record (CONTACT)"
    if proof == IdentityProof.ASSERTION:
        key = f", key {detail}" if detail else ""
        return f"identity: a subject assertion signed by the tenant's backend (ASSERTION{key})"
    if proof == IdentityProof.STAFF:
        return f"identity verified by the tenant (STAFF){': ' + detail if detail else ''}"
    if names_subject:
        return (
            "identity: only the e-mail address is proven (EMAIL); the request covers what is "
            "linked to it, not the subject it names"
        )
    return "identity: the e-mail address (EMAIL)"
