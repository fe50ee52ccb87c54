"""Re-sealing every encrypted field with the current encryption key, a chunk at a time.

Until it has run, old keys (CHARTER_OLD_ENCRYPTION_KEYS) still open old values; after it,
they can be dropped. Running it twice does nothing the second time.
"""

from __future__ import annotations

from tortoise.models import Model

from tenants import crypto
from tenants.outbound.models import OutboxMessage, WebhookEndpoint
from tenants.outbound.outbox import PAYLOAD_PURPOSE, RECIPIENT_PURPOSE
from tenants.outbound.webhooks import SECRET_PURPOSE
from tenants.subject_requests import export
from tenants.subject_requests.models import SubjectRequest
from tenants.subject_requests.service import EMAIL_PURPOSE as REQUEST_EMAIL
from tenants.subjects.assertions import SECRET_PURPOSE as ASSERTION_SECRET
from tenants.subjects.contacts import EMAIL_PURPOSE as CONTACT_EMAIL
from tenants.subjects.models import SubjectAssertionKey, SubjectContact

CHUNK = 500

# (model, column, purpose, the column naming the row it is bound to): every encrypted
# column Charter has. Contacts are bound to their unique key, the subject id: an upsert
# keeps the old row's id.
SEALED: tuple[tuple[type[Model], str, str, str], ...] = (
    (SubjectContact, "email", CONTACT_EMAIL, "subject_id"),
    (SubjectRequest, "email", REQUEST_EMAIL, "id"),
    (SubjectRequest, "export", export.EXPORT_PURPOSE, "id"),
    (OutboxMessage, "recipient", RECIPIENT_PURPOSE, "id"),
    (OutboxMessage, "payload", PAYLOAD_PURPOSE, "id"),
    (WebhookEndpoint, "secret", SECRET_PURPOSE, "id"),
    (SubjectAssertionKey, "secret", ASSERTION_SECRET, "id"),
)


async def rotate() -> dict[str, int]:
    """How many values each column had re-sealed."""
    counts = {"subject_request.export (was plain)": await export.seal_legacy()}
    for model, column, purpose, bound in SEALED:
        counts[f"{model._meta.db_table}.{column}"] = await _rotate(model, column, purpose, bound)
    return counts


async def _rotate(model: type[Model], column: str, purpose: str, bound: str) -> int:
    """Re-seal what an older key sealed, and what was sealed before values were bound to
    their tenant and row (v1/v2 tokens): those are read the old way, then bound."""
    done, last = 0, None
    while True:
        query = model.filter(**{f"{column}__isnull": False}).order_by("id").limit(CHUNK)
        if last is not None:
            query = query.filter(id__gt=last)
        rows = await query.values_list("id", column, "tenant_id", bound)
        for row_id, token, tenant_id, key in rows:
            if not crypto.sealed_with_current(token):
                at = {"purpose": purpose, "tenant_id": tenant_id, "row_id": key}
                fresh = crypto.encrypt(crypto.decrypt(token, **at), **at)
                await model.filter(id=row_id, **{column: token}).update(**{column: fresh})
                done += 1
        if len(rows) < CHUNK:
            return done
        last = rows[-1][0]
