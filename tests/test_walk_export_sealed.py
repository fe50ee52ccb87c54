"""A subject-request export is personal data at rest like any other: sealed in the
database (tenants/crypto.py), opened only for whoever reads it through the API or the
CLI, re-sealed by `charter keys rotate`, and a copy written in the clear before sealing
existed is still read, then sealed by the rotation."""

from __future__ import annotations

import json

from tortoise import connections

from tenants import crypto, rotation
from tenants.subject_requests import export
from tenants.subject_requests.models import SubjectRequest
from tests.factories import create_key, create_tenant
from tests.test_consent import grant, publish_policy, record
from tests.test_people_told import act, verified

READ = "query($id: ID!) { subjectRequest(id: $id) { export } }"
ADDRESS = "aziza@example.uz"


async def raw_export(request_id: str) -> str:
    db = connections.get("default")
    placeholder = "$1" if db.capabilities.dialect == "postgres" else "?"
    [row] = await db.execute_query_dict(
        f"SELECT export FROM subject_request WHERE id = {placeholder}", [request_id]
    )
    return row["export"]


async def completed_access(api) -> tuple[str, str]:
    _, owner = await create_tenant(api, slug="shop", jurisdictions=["UZ"], domains=["shop.uz"])
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    headers = {"X-Forwarded-For": "203.0.113.77"}
    await record(
        api, owner, headers=headers, subjectId="visitor-1", method="FORM", email=ADDRESS,
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    request_id = await verified(api, site, ADDRESS, type="ACCESS", subjectId="visitor-1")
    await act(api, owner, request_id, "COMPLETE")
    return owner, request_id


async def test_the_export_is_sealed_at_rest_and_opened_through_the_api(api):
    owner, request_id = await completed_access(api)
    stored = await raw_export(request_id)
    assert stored.startswith("v3.")  # a sealed token, nothing else
    for trace in ("visitor-1", "aziza", "example.uz", "analytics.reporting", "203.0.113"):
        assert trace not in stored.lower()
    document = (await api(READ, {"id": request_id}, token=owner))["data"]["subjectRequest"][
        "export"
    ]
    assert document["format"] == export.FORMAT
    assert document["subject"]["ids"] == ["visitor-1"]
    assert ADDRESS in json.dumps(document)  # what the erasure scan opens and searches
    # Sealed under its own purpose: an outbox or contact key cannot open it.
    row = await SubjectRequest.get(id=request_id)
    at = {"tenant_id": row.tenant_id, "row_id": row.id}
    assert json.loads(crypto.decrypt(stored, purpose=export.EXPORT_PURPOSE, **at)) == document
    assert any(column == "export" for _, column, _, _ in rotation.SEALED)


async def test_a_copy_from_before_sealing_is_read_then_sealed_by_rotation(api):
    owner, request_id = await completed_access(api)
    document = export.opened(await SubjectRequest.get(id=request_id))
    db = connections.get("default")
    placeholder = ("$1", "$2") if db.capabilities.dialect == "postgres" else ("?", "?")
    await db.execute_query(
        f"UPDATE subject_request SET export = {placeholder[0]} WHERE id = {placeholder[1]}",
        [json.dumps(document), request_id],
    )
    shown = (await api(READ, {"id": request_id}, token=owner))["data"]["subjectRequest"]["export"]
    assert shown == document
    counts = await rotation.rotate()
    assert counts["subject_request.export (was plain)"] == 1
    stored = await raw_export(request_id)
    assert stored.startswith("v3.") and ADDRESS not in stored
    shown = (await api(READ, {"id": request_id}, token=owner))["data"]["subjectRequest"]["export"]
    assert shown == document
    assert (await rotation.rotate())["subject_request.export (was plain)"] == 0


async def test_opening_exports_is_priced_so_a_page_of_them_is_refused(api):
    owner, _ = await completed_access(api)
    one = "{ subjectRequests(first: 20) { edges { node { id export } } } }"
    body = await api(one, token=owner)
    assert "errors" not in body and body["data"]["subjectRequests"]["edges"]
    many = "{ subjectRequests(first: 100) { edges { node { id export } } } }"
    body = await api(many, token=owner)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_COMPLEX"]
    without = "{ subjectRequests(first: 100) { edges { node { id status } } } }"
    assert "errors" not in await api(without, token=owner)
