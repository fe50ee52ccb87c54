"""Subject requests through GraphQL: submit, verify, work, fulfil; every wrong move refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from tenants.outbound.models import OutboxMessage
from tenants.outbound.outbox import opened
from tests.factories import create_key, create_tenant, error_codes
from tests.test_consent import grant, publish_policy

FIELDS = """id type status subjectId email jurisdiction receivedAt dueAt overdue daysLeft extended
            identityProof timeline { status note actor } export"""
SUBMIT = f"""mutation($input: SubjectRequestInput!) {{
  submitSubjectRequest(input: $input) {{
    subjectRequest {{ {FIELDS} }} verificationToken userErrors {{ field code message }}
  }}
}}"""
VERIFY = f"""mutation($id: ID!, $token: String!) {{
  verifySubjectRequest(id: $id, token: $token) {{
    subjectRequest {{ {FIELDS} }} userErrors {{ field code message }}
  }}
}}"""
UPDATE = f"""mutation($id: ID!, $action: RequestAction!, $note: String) {{
  updateSubjectRequest(id: $id, action: $action, note: $note) {{
    subjectRequest {{ {FIELDS} }} userErrors {{ field code message }}
  }}
}}"""
RECORD = """mutation($input: ConsentInput!) { recordConsent(input: $input) { receipt { id } userErrors { code } } }"""


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["UZ"], domains=["acme.example"])
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def submit(api, token, **fields):
    body = await api(SUBMIT, {"input": {"type": "ACCESS", **fields}}, token=token)
    return body["data"]["submitSubjectRequest"]


async def update(api, token, request_id, action, note=None):
    body = await api(UPDATE, {"id": request_id, "action": action, "note": note}, token=token)
    return body["data"]["updateSubjectRequest"]


async def mailed_token(request_id: str) -> str:
    """What the person finds in their inbox: the token, from the outbox message."""
    message = await OutboxMessage.get(kind="subject_request.verification")
    recipient, payload = opened(message)
    assert payload["request_id"] == request_id and recipient
    return payload["token"]


async def test_access_request_end_to_end(api, acme):
    # The tenant's backend (a secret key) knows visitor-1's address: a verified contact,
    # which is what lets the verified e-mail prove the subject (CONTACT).
    await api(
        RECORD,
        {
            "input": {
                "subjectId": "visitor-1",
                "method": "BANNER",
                "decisions": grant("analytics.reporting"),
                "email": "Aziza@example.uz",
            }
        },
        token=acme["owner"],
    )
    submitted = await submit(api, acme["site"], subjectId="visitor-1", email="aziza@example.uz")
    request = submitted["subjectRequest"]
    assert submitted["verificationToken"] is None  # a publishable key never sees it
    assert request["status"] == "UNVERIFIED" and request["email"] == "a***@example.uz"
    assert request["jurisdiction"] == "UZ"

    token = await mailed_token(request["id"])
    verified = (await api(VERIFY, {"id": request["id"], "token": token}, token=acme["site"]))[
        "data"
    ]
    request = verified["verifySubjectRequest"]["subjectRequest"]
    assert request["status"] == "RECEIVED" and request["overdue"] is False
    assert 29 <= request["daysLeft"] <= 30  # UZ: 30 days (unconfirmed; conservative default)
    assert request["identityProof"] == "CONTACT"
    assert "(CONTACT)" in request["timeline"][-1]["note"]

    started = await update(api, acme["owner"], request["id"], "START")
    assert started["subjectRequest"]["status"] == "IN_PROGRESS"
    done = (await update(api, acme["owner"], request["id"], "COMPLETE"))["subjectRequest"]
    assert done["status"] == "COMPLETED"
    export = done["export"]
    assert export["subject"]["ids"] == ["visitor-1"]
    history = export["consent"]["history"]
    assert len(history) == 1 and history[0]["decisions"] == [
        {"granted": True, "purpose": "analytics.reporting"}
    ]
    assert export["policies"][0]["version"] == 1 and export["policies"][0]["body"] == "Text."
    statuses = [event["status"] for event in done["timeline"]]
    assert statuses == ["UNVERIFIED", "RECEIVED", "IN_PROGRESS", "COMPLETED"]
    assert all(event["actor"] for event in done["timeline"])


async def test_a_secret_key_sees_the_token_and_may_log_verified_requests(api, acme):
    submitted = await submit(api, acme["owner"], subjectId="v-2", email="v2@example.uz")
    assert submitted["verificationToken"]
    earlier = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    logged = await submit(api, acme["owner"], subjectId="v-3", receivedAt=earlier, verified=True)
    request = logged["subjectRequest"]
    assert request["status"] == "RECEIVED" and logged["verificationToken"] is None
    assert request["receivedAt"].startswith(earlier[:19])
    assert "verified by the tenant" in request["timeline"][0]["note"]
    refused = await submit(api, acme["site"], email="x@example.uz", verified=True)
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN_FIELD"]


async def test_wrong_expired_and_locked_tokens(api, acme):
    request = (await submit(api, acme["site"], email="a@example.uz"))["subjectRequest"]
    for left in (4, 3, 2, 1, 0):
        body = await api(VERIFY, {"id": request["id"], "token": "WRONGTOKEN"}, token=acme["site"])
        errors = body["data"]["verifySubjectRequest"]["userErrors"]
        assert [e["code"] for e in errors] == ["INVALID_TOKEN"] and f"{left} tries" in errors[0][
            "message"
        ]
    token = await mailed_token(request["id"])
    body = await api(VERIFY, {"id": request["id"], "token": token}, token=acme["site"])
    assert [e["code"] for e in body["data"]["verifySubjectRequest"]["userErrors"]] == [
        "TOKEN_LOCKED"
    ]

    other = await submit(api, acme["owner"], email="b@example.uz")
    await connections.get("default").execute_script(
        "UPDATE subject_request SET token_expires_at = '2000-01-01 00:00:00+00:00' "
        f"WHERE id = '{other['subjectRequest']['id']}'"
    )
    body = await api(
        VERIFY,
        {"id": other["subjectRequest"]["id"], "token": other["verificationToken"]},
        token=acme["owner"],
    )
    assert [e["code"] for e in body["data"]["verifySubjectRequest"]["userErrors"]] == [
        "TOKEN_EXPIRED"
    ]
    state = await api(
        "query($id: ID!) { subjectRequest(id: $id) { status } }",
        {"id": other["subjectRequest"]["id"]},
        token=acme["owner"],
    )
    assert state["data"]["subjectRequest"]["status"] == "UNVERIFIED"


async def test_illegal_moves_change_nothing(api, acme):
    request = (await submit(api, acme["site"], email="a@example.uz"))["subjectRequest"]
    result = await update(api, acme["owner"], request["id"], "START")
    assert [e["code"] for e in result["userErrors"]] == ["INVALID_TRANSITION"]
    verified = (await submit(api, acme["owner"], subjectId="s", verified=True))["subjectRequest"]
    assert [
        e["code"]
        for e in (await update(api, acme["owner"], verified["id"], "REJECT"))["userErrors"]
    ] == ["REQUIRED"]
    assert [
        e["code"]
        for e in (await update(api, acme["owner"], verified["id"], "EXTEND"))["userErrors"]
    ] == ["REQUIRED"]
    assert (await update(api, acme["owner"], verified["id"], "REJECT", "no such customer"))[
        "subjectRequest"
    ]["status"] == "REJECTED"
    again = await update(api, acme["owner"], verified["id"], "COMPLETE")
    assert [e["code"] for e in again["userErrors"]] == ["INVALID_TRANSITION"]


async def test_extend_once_by_the_law_that_applies(api):
    _, owner = await create_tenant(api, slug="brit", jurisdictions=["UK", "KZ"])
    received = "2026-01-31T10:00:00+00:00"
    late = (await submit(api, owner, subjectId="s", receivedAt=received, verified=True))[
        "subjectRequest"
    ]
    # One month, clamped to Sat 28 February, ends on the next working day (ICO).
    assert late["dueAt"] == "2026-03-02T23:59:59+00:00"
    refused = await update(api, owner, late["id"], "EXTEND", "complex request")
    assert [e["code"] for e in refused["userErrors"]] == ["EXTENSION_TOO_LATE"]

    recent = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    request = (await submit(api, owner, subjectId="s", receivedAt=recent, verified=True))[
        "subjectRequest"
    ]
    extended = (await update(api, owner, request["id"], "EXTEND", "complex request"))[
        "subjectRequest"
    ]
    assert extended["status"] == "EXTENDED" and extended["extended"] is True
    assert extended["dueAt"] > request["dueAt"]  # exact dates: tests/test_deadline_table.py
    twice = await update(api, owner, request["id"], "EXTEND", "again")
    assert [e["code"] for e in twice["userErrors"]] == ["INVALID_TRANSITION"]

    kz = (await submit(api, owner, subjectId="s", jurisdiction="KZ", verified=True))[
        "subjectRequest"
    ]
    refused = await update(api, owner, kz["id"], "EXTEND", "please")
    assert [e["code"] for e in refused["userErrors"]] == ["EXTENSION_NOT_ALLOWED"]


async def test_the_tenants_promise_beats_a_longer_law(api, acme):
    await api(
        "mutation { updateTenant(input: {promises: [{requestType: ERASURE, days: 14}]}) { tenant { id } } }",
        token=acme["owner"],
    )
    received = "2026-03-02T09:00:00+05:00"
    erasure = await submit(
        api, acme["owner"], type="ERASURE", subjectId="s", receivedAt=received, verified=True
    )
    access = await submit(
        api, acme["owner"], type="ACCESS", subjectId="s", receivedAt=received, verified=True
    )
    # Tashkent is UTC+5: day 14 ends 2026-03-16 23:59:59 local. ACCESS keeps UZ's 30 days.
    assert erasure["subjectRequest"]["dueAt"] == "2026-03-16T18:59:59+00:00"
    assert access["subjectRequest"]["dueAt"] == "2026-04-01T18:59:59+00:00"


async def test_another_tenants_request_is_not_found(api, acme):
    request = (await submit(api, acme["owner"], subjectId="s", verified=True))["subjectRequest"]
    _, other = await create_tenant(api, slug="other")
    result = await update(api, other, request["id"], "COMPLETE")
    assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"]
    body = await api(
        "query($id: ID!) { subjectRequest(id: $id) { id } }", {"id": request["id"]}, token=other
    )
    assert body["data"]["subjectRequest"] is None
    mine = await api(
        "query($id: ID!) { subjectRequest(id: $id) { status } }",
        {"id": request["id"]},
        token=acme["owner"],
    )
    assert mine["data"]["subjectRequest"]["status"] == "RECEIVED"


async def test_lists_filter_and_order_by_due_date(api, acme):
    past = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    late = (await submit(api, acme["owner"], subjectId="a", receivedAt=past, verified=True))[
        "subjectRequest"
    ]
    fresh = (await submit(api, acme["owner"], subjectId="b", type="ERASURE", verified=True))[
        "subjectRequest"
    ]
    await submit(api, acme["site"], email="c@example.uz")
    listing = """query($status: RequestStatus, $type: RequestType, $overdue: Boolean) {
      subjectRequests(status: $status, type: $type, overdue: $overdue) { edges { node { id overdue } } }
    }"""

    async def ids(**filters):
        body = await api(listing, filters, token=acme["owner"])
        return [edge["node"]["id"] for edge in body["data"]["subjectRequests"]["edges"]]

    assert (await ids(overdue=True)) == [late["id"]]
    assert (await ids(type="ERASURE")) == [fresh["id"]]
    assert len(await ids(status="UNVERIFIED")) == 1
    everything = await ids()
    assert everything[0] == late["id"] and len(everything) == 3


async def test_withdraw_restrict_and_object_show_in_consent_state(api, acme):
    decisions = grant("analytics.reporting", "marketing.communications.email", "essential.service")
    await api(
        RECORD,
        {"input": {"subjectId": "v", "method": "FORM", "decisions": decisions}},
        token=acme["site"],
    )
    state_query = (
        'query { consentState(subjectId: "v") { purpose granted method restricted objected } }'
    )

    objection = (await submit(api, acme["owner"], type="OBJECTION", subjectId="v", verified=True))[
        "subjectRequest"
    ]
    await update(api, acme["owner"], objection["id"], "COMPLETE")
    state = {
        d["purpose"]: d
        for d in (await api(state_query, token=acme["owner"]))["data"]["consentState"]
    }
    assert state["marketing.communications.email"]["granted"] is False
    assert state["analytics.reporting"]["granted"] is True
    assert all(d["objected"] and not d["restricted"] for d in state.values())

    restriction = (
        await submit(api, acme["owner"], type="RESTRICTION", subjectId="v", verified=True)
    )["subjectRequest"]
    await update(api, acme["owner"], restriction["id"], "COMPLETE")
    state = {
        d["purpose"]: d
        for d in (await api(state_query, token=acme["owner"]))["data"]["consentState"]
    }
    # Storage only, on every decision; the person's own choices stay as they made them
    # (lifting it: tests/test_restriction.py).
    assert all(d["restricted"] for d in state.values())
    assert state["analytics.reporting"]["granted"] is True
    assert state["essential.service"]["granted"] is True

    withdrawal = (
        await submit(api, acme["owner"], type="WITHDRAW_CONSENT", subjectId="v", verified=True)
    )["subjectRequest"]
    await update(api, acme["owner"], withdrawal["id"], "COMPLETE")
    state = (await api(state_query, token=acme["owner"]))["data"]["consentState"]
    assert all(not d["granted"] for d in state) and {d["method"] for d in state} == {"API"}
    verified = await api("{ verifyConsentLedger { ok checked } }", token=acme["owner"])
    # record, objection + its withdrawal, restriction, withdrawal: each a chained event.
    assert verified["data"]["verifyConsentLedger"] == {"ok": True, "checked": 5}


async def test_rectification_needs_its_resolution_note(api, acme):
    request = (
        await submit(
            api,
            acme["owner"],
            type="RECTIFICATION",
            subjectId="v",
            details="my name is wrong",
            verified=True,
        )
    )["subjectRequest"]
    assert [
        e["code"]
        for e in (await update(api, acme["owner"], request["id"], "COMPLETE"))["userErrors"]
    ] == ["REQUIRED"]
    done = await update(api, acme["owner"], request["id"], "COMPLETE", "name corrected in the CRM")
    assert done["subjectRequest"]["timeline"][-1]["note"] == "name corrected in the CRM"


async def test_bad_submissions(api, acme):
    assert [e["code"] for e in (await submit(api, acme["site"], subjectId="s"))["userErrors"]] == [
        "REQUIRED"
    ]
    assert [e["code"] for e in (await submit(api, acme["site"], email="x"))["userErrors"]] == [
        "INVALID_EMAIL"
    ]
    bad = await submit(api, acme["owner"], subjectId="s", jurisdiction="XX")
    assert [e["code"] for e in bad["userErrors"]] == ["UNKNOWN_JURISDICTION"]
    future = await submit(
        api, acme["owner"], subjectId="s", receivedAt="2999-01-01T00:00:00+00:00", verified=True
    )
    assert [e["code"] for e in future["userErrors"]] == ["INVALID"]
    body = await api("{ subjectRequests { edges { node { id } } } }", token=acme["owner"])
    assert body["data"]["subjectRequests"]["edges"] == []
    assert error_codes(
        await api("{ subjectRequests { edges { cursor } } }", token=acme["site"])
    ) == ["FORBIDDEN"]


async def test_one_address_gets_a_bounded_number_of_codes(api, acme):
    """Anyone holding the site's publishable key can type a stranger's address: without a
    bound, one client sent it a verification e-mail per request, four a second per IP,
    for ever. At most MAX_UNVERIFIED_PER_ADDRESS requests per address and hour wait for
    verification; past that, TOO_MANY and no e-mail, while other addresses go on."""
    from tenants.subject_requests.service import MAX_UNVERIFIED_PER_ADDRESS

    site = acme["site"]
    spellings = ["victim@example.org", "Victim@Example.org"]  # one address, two spellings
    for n in range(MAX_UNVERIFIED_PER_ADDRESS):
        body = await api(
            SUBMIT, {"input": {"type": "ACCESS", "email": spellings[n % 2]}}, token=site
        )
        assert body["data"]["submitSubjectRequest"]["userErrors"] == []
    body = await api(
        SUBMIT, {"input": {"type": "ERASURE", "email": "victim@example.org"}}, token=site
    )
    result = body["data"]["submitSubjectRequest"]
    assert result["subjectRequest"] is None
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["input", "email"], "TOO_MANY")
    ]
    codes = await OutboxMessage.filter(kind="subject_request.verification").count()
    assert codes == MAX_UNVERIFIED_PER_ADDRESS
    other = await api(
        SUBMIT, {"input": {"type": "ACCESS", "email": "other@example.org"}}, token=site
    )
    assert other["data"]["submitSubjectRequest"]["userErrors"] == []
