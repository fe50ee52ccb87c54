"""Breaches through GraphQL: clocks per jurisdiction, timeline, notices, isolation."""

from __future__ import annotations

import pytest

from tenants.outbound.models import OutboxMessage
from tenants.outbound.outbox import opened
from tests.factories import create_key, create_tenant, error_codes
from tests.test_consent import grant, publish_policy

FIELDS = """id status risk detectedAt awareAt jurisdictions noticesSent approxSubjects
  clocks { jurisdiction kind startedAt dueAt satisfiedAt overdue reference }
  updates { at note actor }"""
REPORT = f"""mutation($input: BreachInput!) {{
  reportBreach(input: $input) {{ breach {{ {FIELDS} }} userErrors {{ field code message }} }}
}}"""
UPDATE = f"""mutation($id: ID!, $input: BreachUpdateInput!) {{
  updateBreach(id: $id, input: $input) {{ breach {{ {FIELDS} }} userErrors {{ field code message }} }}
}}"""
AUTHORITY = f"""mutation($id: ID!, $j: String!, $kind: ClockKind!, $at: DateTime!, $ref: String) {{
  recordAuthorityNotification(breachId: $id, jurisdiction: $j, kind: $kind, notifiedAt: $at, reference: $ref) {{
    breach {{ {FIELDS} }} userErrors {{ field code message }}
  }}
}}"""
NOTIFY = f"""mutation($id: ID!, $input: BreachNoticeInput!) {{
  notifyBreachSubjects(breachId: $id, input: $input) {{
    breach {{ {FIELDS} }} queued userErrors {{ field code message }}
  }}
}}"""
RECORD = "mutation($input: ConsentInput!) { recordConsent(input: $input) { userErrors { code } } }"


async def report(api, token, **fields):
    payload = {
        "title": "Leaked CRM export",
        "risk": "RISK",
        "detectedAt": "2026-11-20T13:00:00+00:00",
        **fields,
    }
    body = await api(REPORT, {"input": payload}, token=token)
    return body["data"]["reportBreach"]


def clocks(breach):
    return {(c["jurisdiction"], c["kind"]): c for c in breach["clocks"]}


@pytest.mark.parametrize(
    ("detected", "due"),
    [
        # Friday 18:00 Almaty (UTC+5): one working day -> Monday 18:00.
        ("2026-11-20T18:00:00+05:00", "2026-11-23T13:00:00+00:00"),
        # Monday 10 March 2025 is a holiday (Women's Day, moved): Tuesday 18:00.
        ("2025-03-07T18:00:00+05:00", "2025-03-11T13:00:00+00:00"),
    ],
)
async def test_kazakhstan_one_working_day(api, detected, due):
    _, owner = await create_tenant(api, slug="kz", jurisdictions=["KZ"])
    breach = (await report(api, owner, detectedAt=detected))["breach"]
    assert clocks(breach)[("KZ", "AUTHORITY_INITIAL")]["dueAt"] == due


async def test_russia_24_then_72_hours_from_detection(api):
    _, owner = await create_tenant(api, slug="ru", jurisdictions=["RU"])
    breach = (await report(api, owner, risk="LOW", detectedAt="2026-11-19T09:30:00+03:00"))[
        "breach"
    ]
    found = clocks(breach)
    assert found[("RU", "AUTHORITY_INITIAL")]["dueAt"] == "2026-11-20T06:30:00+00:00"
    assert found[("RU", "AUTHORITY_FOLLOWUP")]["dueAt"] == "2026-11-22T06:30:00+00:00"
    assert ("RU", "SUBJECTS") not in found  # the statute names none


async def test_gdpr_72_hours_from_awareness_not_detection(api):
    _, owner = await create_tenant(api, slug="eu", jurisdictions=["EU"])
    breach = (
        await report(
            api, owner, detectedAt="2026-11-10T08:00:00+00:00", awareAt="2026-11-12T16:00:00+00:00"
        )
    )["breach"]
    assert clocks(breach)[("EU", "AUTHORITY_INITIAL")]["dueAt"] == "2026-11-15T16:00:00+00:00"
    assert ("EU", "SUBJECTS") not in clocks(breach)  # RISK, not HIGH


async def test_low_risk_records_the_decision_and_an_upgrade_opens_clocks_from_awareness(api):
    _, owner = await create_tenant(api, slug="eu", jurisdictions=["EU"])
    aware = "2026-11-12T16:00:00+00:00"
    breach = (await report(api, owner, risk="LOW", detectedAt=aware))["breach"]
    assert breach["clocks"] == []
    assert any(
        "no clock" in u["note"] and "AUTHORITY_INITIAL" in u["note"] for u in breach["updates"]
    )

    raised = await api(
        UPDATE,
        {"id": breach["id"], "input": {"risk": "HIGH", "note": "passwords too"}},
        token=owner,
    )
    found = clocks(raised["data"]["updateBreach"]["breach"])
    assert found[("EU", "AUTHORITY_INITIAL")]["dueAt"] == "2026-11-15T16:00:00+00:00"
    subjects = found[("EU", "SUBJECTS")]
    assert subjects["startedAt"] == aware and subjects["dueAt"] is None  # without undue delay


async def test_end_to_end_with_notices_in_each_persons_locale(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"], locales=["ru", "uz"])
    await publish_policy(api, owner)
    subjects = {"ana": "ru", "bek": "en", "cho": None}
    for subject, locale in subjects.items():
        consent = {
            "subjectId": subject,
            "method": "BANNER",
            "decisions": grant("analytics.reporting"),
        }
        if locale == "ru":
            consent.update(locale="ru", email="ana@example.uz")
        await api(RECORD, {"input": consent}, token=owner)

    breach = (
        await report(
            api, owner, risk="HIGH", approxSubjects=3, dataCategories=["user.contact.email"]
        )
    )["breach"]
    for change in (
        {"status": "CONTAINED", "measures": "credentials rotated"},
        {"approxRecords": 3, "note": "scope known"},
    ):
        body = await api(UPDATE, {"id": breach["id"], "input": change}, token=owner)
        assert body["data"]["updateBreach"]["userErrors"] == []
    told = await api(
        AUTHORITY,
        {
            "id": breach["id"],
            "j": "EU",
            "kind": "AUTHORITY_INITIAL",
            "at": "2026-11-21T10:00:00+00:00",
            "ref": "DPA-2026-77",
        },
        token=owner,
    )
    clock = clocks(told["data"]["recordAuthorityNotification"]["breach"])[
        ("EU", "AUTHORITY_INITIAL")
    ]
    assert (
        clock["satisfiedAt"] == "2026-11-21T10:00:00+00:00" and clock["reference"] == "DPA-2026-77"
    )

    message = [
        {"locale": "en", "title": "Your data leaked", "body": "We are sorry."},
        {"locale": "ru", "title": "Утечка данных", "body": "Нам жаль."},
    ]
    first = await api(
        NOTIFY,
        {"id": breach["id"], "input": {"allAffected": True, "message": message}},
        token=owner,
    )
    result = first["data"]["notifyBreachSubjects"]
    assert result["queued"] == 3 and result["breach"]["noticesSent"] == 3
    assert clocks(result["breach"])[("EU", "SUBJECTS")]["satisfiedAt"] is not None
    rows = await OutboxMessage.filter(kind="breach.notice").order_by("subject_id")
    by_subject = {row.subject_id: (row.channel, row.locale, opened(row)) for row in rows}
    assert set(by_subject) == {"ana", "bek", "cho"}
    assert by_subject["ana"][0] == "email" and by_subject["ana"][1] == "ru"
    assert (
        by_subject["ana"][2][0] == "ana@example.uz"
        and by_subject["ana"][2][1]["title"] == "Утечка данных"
    )
    assert (
        by_subject["bek"][0] == "webhook" and by_subject["bek"][2][1]["title"] == "Your data leaked"
    )

    again = await api(
        NOTIFY,
        {"id": breach["id"], "input": {"allAffected": True, "message": message}},
        token=owner,
    )
    assert again["data"]["notifyBreachSubjects"]["queued"] == 0
    assert await OutboxMessage.filter(kind="breach.notice").count() == 3

    final = (
        await api(
            f"query($id: ID!) {{ breach(id: $id) {{ {FIELDS} }} }}",
            {"id": breach["id"]},
            token=owner,
        )
    )["data"]["breach"]
    notes = [u["note"] for u in final["updates"]]
    assert notes[0] == "breach reported" and "credentials rotated" not in notes[0]
    assert any("notification recorded" in n for n in notes) and any(
        "3 notice(s) queued" in n for n in notes
    )
    assert all(u["actor"].startswith("key:") for u in final["updates"])


async def test_bad_input_and_wrong_moves(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    bad = await report(
        api, owner, title=" ", dataCategories=["user.nope"], jurisdictions=["XX"], approxSubjects=-1
    )
    assert sorted(e["code"] for e in bad["userErrors"]) == [
        "INVALID",
        "REQUIRED",
        "UNKNOWN_JURISDICTION",
        "UNKNOWN_TAXONOMY_KEY",
    ]
    future = await report(api, owner, detectedAt="2999-01-01T00:00:00+00:00")
    assert [e["code"] for e in future["userErrors"]] == ["INVALID"]
    breach = (await report(api, owner))["breach"]
    closed = await api(UPDATE, {"id": breach["id"], "input": {"status": "CLOSED"}}, token=owner)
    assert closed["data"]["updateBreach"]["breach"]["status"] == "CLOSED"
    reopened = await api(UPDATE, {"id": breach["id"], "input": {"status": "OPEN"}}, token=owner)
    assert [e["code"] for e in reopened["data"]["updateBreach"]["userErrors"]] == [
        "INVALID_TRANSITION"
    ]
    empty = await api(UPDATE, {"id": breach["id"], "input": {}}, token=owner)
    assert [e["code"] for e in empty["data"]["updateBreach"]["userErrors"]] == ["REQUIRED"]
    no_clock = await api(
        AUTHORITY,
        {
            "id": breach["id"],
            "j": "RU",
            "kind": "AUTHORITY_INITIAL",
            "at": "2026-11-21T10:00:00+00:00",
        },
        token=owner,
    )
    assert [e["code"] for e in no_clock["data"]["recordAuthorityNotification"]["userErrors"]] == [
        "NOT_FOUND"
    ]
    both = await api(
        NOTIFY,
        {
            "id": breach["id"],
            "input": {
                "allAffected": True,
                "subjectIds": ["a"],
                "message": [{"locale": "en", "title": "t", "body": "b"}],
            },
        },
        token=owner,
    )
    assert [e["code"] for e in both["data"]["notifyBreachSubjects"]["userErrors"]] == ["INVALID"]


async def test_other_tenants_see_nothing_and_auditors_only_read(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    breach = (await report(api, owner))["breach"]
    _, other = await create_tenant(api, slug="other")
    assert (
        await api("query($id: ID!) { breach(id: $id) { id } }", {"id": breach["id"]}, token=other)
    )["data"]["breach"] is None
    assert (await api("{ breaches { edges { node { id } } } }", token=other))["data"]["breaches"][
        "edges"
    ] == []
    moved = await api(UPDATE, {"id": breach["id"], "input": {"note": "mine now"}}, token=other)
    assert [e["code"] for e in moved["data"]["updateBreach"]["userErrors"]] == ["NOT_FOUND"]

    _, auditor = await create_key(api, owner, name="audit", role="AUDITOR")
    listed = await api("{ breaches { edges { node { id clocks { kind } } } } }", token=auditor)
    assert [e["node"]["id"] for e in listed["data"]["breaches"]["edges"]] == [breach["id"]]
    refused = await api(UPDATE, {"id": breach["id"], "input": {"note": "x"}}, token=auditor)
    assert error_codes(refused) == ["FORBIDDEN"]


async def test_overdue_clocks_list_first(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    recent = (await report(api, owner, title="recent", detectedAt="2026-11-21T00:00:00+00:00"))[
        "breach"
    ]
    old = (await report(api, owner, title="old", detectedAt="2026-01-01T00:00:00+00:00"))["breach"]
    calm = (await report(api, owner, title="calm", risk="LOW"))["breach"]
    body = await api("{ breaches { edges { node { id clocks { overdue } } } } }", token=owner)
    order = [e["node"]["id"] for e in body["data"]["breaches"]["edges"]]
    assert order == [old["id"], recent["id"], calm["id"]]
    assert body["data"]["breaches"]["edges"][0]["node"]["clocks"][0]["overdue"] is True


async def test_cli_lists_running_clocks_and_prints_the_authority_report(api, settings):
    from tests.test_subject_requests_cli import charter

    _, owner = await create_tenant(
        api, slug="acme", jurisdictions=["EU", "RU"], dpoEmail="dpo@acme.example"
    )
    breach = (
        await report(
            api,
            owner,
            awareAt="2026-11-20T14:00:00+00:00",
            nature="CRM export on a public bucket",
            approxSubjects=120,
            consequences="phishing",
            measures="bucket closed",
        )
    )["breach"]
    code, out, _ = await charter(settings, "breaches", "clocks")
    lines = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and [(line[2], line[3]) for line in lines] == [
        ("RU", "AUTHORITY_INITIAL"),
        ("RU", "AUTHORITY_FOLLOWUP"),
        ("EU", "AUTHORITY_INITIAL"),
    ]
    code, out, _ = await charter(settings, "breach", "report", breach["id"])
    assert code == 0
    for expected in (
        "Nature of the breach",
        "CRM export on a public bucket",
        "120",
        "phishing",
        "bucket closed",
        "dpo@acme.example",
    ):
        assert expected in out
    code, out, _ = await charter(settings, "breach", "report", breach["id"], "--format", "json")
    assert code == 0 and '"approx_subjects": 120' in out
