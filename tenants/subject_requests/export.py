"""Everything Charter holds on a subject, as one structured JSON document (ACCESS and
PORTABILITY): on the subjects the request proves, and on what is linked to the verified
address (the contact rows carrying it, the requests made with it)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from tenants import crypto
from tenants.chunks import CHUNK, fetch_in, paced
from tenants.consent.models import ConsentEvent, ConsentState
from tenants.policies.models import PolicyTranslation, PolicyVersion
from tenants.scoping import owned
from tenants.subject_requests.identity import Scope
from tenants.subject_requests.models import RequestEvent, SubjectRequest
from tenants.subjects import contacts as contact_book
from tenants.subjects.models import SubjectContact, SubjectFlags
from tenants.tenancy.models import Tenant

FORMAT = "charter.subject-export/1"
# The stored copy is personal data like the addresses it holds: sealed at rest.
EXPORT_PURPOSE = "subject-export"

REQUEST_EMAIL = "request-email"


def seal(document: dict[str, Any], *, request: SubjectRequest) -> str:
    """The export as stored (``request.export``): AES-256-GCM under the current encryption
    key, bound to its purpose, tenant and request, re-sealed by ``charter keys rotate``."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return crypto.encrypt(
        text, purpose=EXPORT_PURPOSE, tenant_id=request.tenant_id, row_id=request.id
    )


def opened(request: SubjectRequest) -> dict[str, Any] | None:
    """The export document of ``request`` from its stored form. A copy written before
    exports were sealed is plain JSON text until `charter keys rotate` seals it
    (``seal_legacy``). One sealed for another request or tenant does not open: InvalidTag."""
    stored = request.export
    if stored is None:
        return None
    if stored.startswith("{"):
        return json.loads(stored)
    at = {"tenant_id": request.tenant_id, "row_id": request.id}
    return json.loads(crypto.decrypt(stored, purpose=EXPORT_PURPOSE, **at))


async def seal_legacy() -> int:
    """Seal every export still stored in the clear; returns how many."""
    done = 0
    for request in await SubjectRequest.filter(export__startswith="{"):
        sealed = seal(json.loads(request.export), request=request)
        done += await SubjectRequest.filter(id=request.id, export=request.export).update(
            export=sealed
        )
    return done


async def build(*, tenant: Tenant, scope: Scope, proof: str, now: datetime) -> dict[str, Any]:
    ids, email = sorted(scope.subjects), scope.email
    events = await _history(tenant, ids)
    states = (
        await owned(ConsentState, tenant=tenant)
        .filter(subject_id__in=ids)
        .order_by("subject_id", "purpose")
    )
    contacts = {
        row.id: row for row in await owned(SubjectContact, tenant=tenant).filter(subject_id__in=ids)
    }
    if email:
        contacts.update(
            {row.id: row for row in await contact_book.with_address(tenant=tenant, email=email)}
        )
    flags = await owned(SubjectFlags, tenant=tenant).filter(subject_id__in=ids)
    mine = Q(subject_id__in=ids)
    if email:
        mine |= Q(email_index=crypto.blind_index(email, purpose=REQUEST_EMAIL))
    requests = await owned(SubjectRequest, tenant=tenant).filter(mine).order_by("submitted_at")
    # A subject's requests grow without bound (anyone may submit one): read in chunks.
    timelines = await fetch_in(
        [r.id for r in requests],
        lambda part: owned(RequestEvent, tenant=tenant).filter(request_id__in=part),
    )
    timelines.sort(key=lambda event: event.at)
    by_request: dict[Any, list[RequestEvent]] = {}
    for event in timelines:  # grouped once: a subject may have thousands of requests
        by_request.setdefault(event.request_id, []).append(event)
    return {
        "format": FORMAT,
        "generated_at": now.isoformat(),
        "controller": {"name": tenant.name, "dpo_email": tenant.dpo_email},
        "subject": {"ids": ids, "email": email, "identity_proof": proof},
        "contacts": [
            {
                # An address given for a subject the request does not prove is the
                # person's; whose id it was given for is not.
                "subject_id": c.subject_id if c.subject_id in scope.subjects else None,
                "email": contact_book.contact_email(c),
                "locale": c.locale,
                "verified": c.verified,
            }
            for c in sorted(contacts.values(), key=lambda c: (c.subject_id, str(c.id)))
        ],
        "processing": [
            {"subject_id": f.subject_id, "restricted": f.restricted, "objected": f.objected}
            for f in flags
        ],
        "consent": {
            "state": [
                {
                    "subject_id": s.subject_id,
                    "purpose": s.purpose,
                    "granted": s.granted,
                    "method": s.method,
                    "policy": {"kind": s.policy_kind, "version": s.policy_version},
                    "decided_at": s.decided_at.isoformat(),
                }
                for s in states
            ],
            "history": [_event(e) async for e in paced(events)],
        },
        "policies": await _policies(tenant, events),
        "requests": [
            {
                "id": str(r.id),
                "type": r.type,
                "subject_id": r.subject_id if r.subject_id in scope.subjects else None,
                "status": r.status,
                "jurisdiction": r.jurisdiction,
                "submitted_at": r.submitted_at.isoformat(),
                "received_at": r.received_at.isoformat(),
                "due_at": r.due_at.isoformat(),
                "details": r.details,
                "timeline": [
                    {"at": t.at.isoformat(), "status": t.status, "note": t.note}
                    for t in by_request.get(r.id, [])
                ],
            }
            for r in requests
        ],
    }


async def _history(tenant: Tenant, ids: list[str]) -> list[ConsentEvent]:
    """Every event of the subject in sequence order, a chunk at a time: anyone can record
    consent for a subject id, so its history has no bound, and the rows of one query are
    turned into objects in one stretch on the event loop."""
    events: list[ConsentEvent] = []
    last = 0
    while True:
        chunk = (
            await owned(ConsentEvent, tenant=tenant)
            .filter(subject_id__in=ids, sequence__gt=last)
            .order_by("sequence")
            .limit(CHUNK)
        )
        events.extend(chunk)
        if len(chunk) < CHUNK:
            return events
        last = chunk[-1].sequence


def _event(event: ConsentEvent) -> dict[str, Any]:
    return {
        "receipt_id": str(event.id),
        "sequence": event.sequence,
        "hash": event.hash,
        "previous_hash": event.previous_hash,
        "subject_id": event.subject_id,
        "policy": {
            "kind": event.policy_kind,
            "version": event.policy_version,
            "locale": event.locale,
        },
        "method": event.method,
        "decisions": event.decisions,
        "processing": event.processing,  # a restriction, its lifting, an objection
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "source_url": event.source_url,
        "ip": event.ip,
        "user_agent": event.user_agent,
    }


async def _policies(tenant: Tenant, events: list[ConsentEvent]) -> list[dict[str, Any]]:
    """The exact texts the person agreed to: each version and locale they were shown."""
    shown = {(e.policy_kind, e.policy_version, e.locale) for e in events}
    if not shown:
        return []
    versions = await fetch_in(
        {n for _, n, _ in shown},
        lambda part: owned(PolicyVersion, tenant=tenant).filter(number__in=part),
    )
    by_key = {(v.kind, v.number): v for v in versions}
    texts = await fetch_in(
        [v.id for v in versions],
        lambda part: owned(PolicyTranslation, tenant=tenant).filter(version_id__in=part),
    )
    out = []
    for kind, number, locale in sorted(shown, key=lambda k: (k[0], k[1], k[2] or "")):
        version = by_key.get((kind, number))
        if version is None:
            continue
        text = next((t for t in texts if t.version_id == version.id and t.locale == locale), None)
        out.append(
            {
                "kind": kind,
                "version": number,
                "locale": locale,
                "effective_at": version.effective_at.isoformat(),
                "title": text.title if text else None,
                "body": text.body if text else None,
                "content_hash": text.content_hash if text else None,
            }
        )
    return out
