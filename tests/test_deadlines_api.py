"""Deadlines through GraphQL, as a tenant's back office sends them: a request logged with
its real `receivedAt` and `verified: true`, its `dueAt`; EXTEND in time and too late; the
EU member state of the main establishment; a breach clock in DAYS.

The dates are the issue's and the hand-counted ones of tests/test_deadline_table.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import create_tenant
from tests.test_breaches import report
from tests.test_subject_requests import FIELDS, SUBMIT, UPDATE

TENANT = "{ tenant { mainEstablishment } userErrors { field code message } }"
UPDATE_TENANT = f"""mutation($input: UpdateTenantInput!) {{
  updateTenant(input: $input) {TENANT}
}}"""
CREATE_TENANT = f"""mutation($input: CreateTenantInput!) {{
  createTenant(input: $input) {TENANT}
}}"""
BRUSSELS = ZoneInfo("Europe/Brussels")


async def log_request(api, token, received: str, type: str = "ACCESS", **extra) -> dict:
    """A request that came by post, entered by staff who checked the identity themselves."""
    payload = {"type": type, "subjectId": "s-1", "receivedAt": received, "verified": True}
    body = await api(SUBMIT, {"input": {**payload, **extra}}, token=token)
    result = body["data"]["submitSubjectRequest"]
    assert result["userErrors"] == [], result
    return result["subjectRequest"]


async def act(api, token, request_id: str, action: str, note: str | None = None) -> dict:
    body = await api(UPDATE, {"id": request_id, "action": action, "note": note}, token=token)
    return body["data"]["updateSubjectRequest"]


@pytest.mark.parametrize(
    ("jurisdiction", "state", "received", "due"),
    [
        # The three: 1 Jan 2026 is a bank holiday; Sat 28 Feb; Sun 8 Nov.
        ("UK", None, "2025-12-01T10:00:00+00:00", "2026-01-02T23:59:59+00:00"),
        ("EU", None, "2026-01-31T10:00:00+01:00", "2026-03-02T22:59:59+00:00"),
        ("UZ", None, "2026-10-09T10:00:00+05:00", "2026-11-09T18:59:59+00:00"),
        # New Year's Day: a working day for weekends alone, Neujahr with Germany named.
        ("EU", None, "2025-12-01T09:00:00+01:00", "2026-01-01T22:59:59+00:00"),
        ("EU", "DE", "2025-12-01T09:00:00+01:00", "2026-01-02T22:59:59+00:00"),
        # St Patrick's Day, in Dublin's zone (GMT in March).
        ("EU", "IE", "2026-02-17T10:00:00+00:00", "2026-03-18T23:59:59+00:00"),
        # RU withdrawal, 30 days: Thu 31 Dec (moved day off) rolls past New Year to 11 Jan.
        ("RU", None, "2025-12-01T12:00:00+03:00", "2026-01-12T20:59:59+00:00"),
    ],
)
async def test_a_logged_request_is_due_on_a_working_day(api, jurisdiction, state, received, due):
    extra = {"mainEstablishment": state} if state else {}
    _, owner = await create_tenant(api, slug="site", jurisdictions=[jurisdiction], **extra)
    kind = "WITHDRAW_CONSENT" if jurisdiction == "RU" else "ACCESS"
    request = await log_request(api, owner, received, type=kind)
    assert request["status"] == "RECEIVED" and request["receivedAt"] == (
        datetime.fromisoformat(received).astimezone(UTC).isoformat()
    )
    assert request["dueAt"] == due


def _weekends_alone_monday(day: date) -> date:
    """The EU default calendar, by hand: Saturday and Sunday move to Monday."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _plus_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, day.day)  # only called with day <= 28


def _end_of(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), BRUSSELS).astimezone(UTC).isoformat()


async def test_extend_in_time_counts_from_the_saturday_the_first_month_ended(api):
    """A request whose first month ends on a Saturday is due the Monday after; extended
    before then, it is due two months after the Saturday, itself rolled."""
    today = datetime.now(BRUSSELS).date()
    received = next(
        day
        for day in (today - timedelta(days=n) for n in range(1, 32))
        if day.day <= 28 and _plus_months(day, 1).weekday() == 5 and _plus_months(day, 1) > today
    )
    saturday = _plus_months(received, 1)
    _, owner = await create_tenant(api, slug="eu", jurisdictions=["EU"])
    logged = datetime.combine(received, time(12), BRUSSELS).isoformat()
    request = await log_request(api, owner, logged)
    assert request["dueAt"] == _end_of(saturday + timedelta(days=2))

    done = await act(api, owner, request["id"], "EXTEND", "We need two more months: ...")
    assert done["userErrors"] == []
    extended = done["subjectRequest"]
    assert extended["status"] == "EXTENDED" and extended["extended"] is True
    assert extended["dueAt"] == _end_of(_weekends_alone_monday(_plus_months(saturday, 2)))


async def test_a_late_extension_is_refused_and_changes_nothing(api):
    _, owner = await create_tenant(api, slug="eu", jurisdictions=["EU"])
    request = await log_request(api, owner, "2026-01-31T10:00:00+01:00")
    refused = await act(api, owner, request["id"], "EXTEND", "sorry, we are busy")
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("EXTENSION_TOO_LATE", ["action"])
    ]
    assert "2026-03-02T22:59:59+00:00" in refused["userErrors"][0]["message"]
    body = await api(
        f"query($id: ID!) {{ subjectRequest(id: $id) {{ {FIELDS} }} }}",
        {"id": request["id"]},
        token=owner,
    )
    after = body["data"]["subjectRequest"]
    assert (after["status"], after["extended"], after["dueAt"]) == (
        "RECEIVED",
        False,
        "2026-03-02T22:59:59+00:00",
    )
    assert after["timeline"] == request["timeline"]


async def test_main_establishment_is_set_changed_cleared_and_checked(api, platform_token):
    created = await api(
        CREATE_TENANT,
        {
            "input": {
                "slug": "gmbh",
                "name": "GmbH",
                "defaultLocale": "de",
                "jurisdictions": ["EU"],
                "mainEstablishment": " de ",
            }
        },
        token=platform_token,
    )
    assert created["data"]["createTenant"]["tenant"] == {"mainEstablishment": "DE"}

    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    # Thu 1 Jan 2026 is a weekday, so with weekends alone nothing rolls ...
    first = await log_request(api, owner, "2025-12-01T09:00:00+01:00")
    assert first["dueAt"] == "2026-01-01T22:59:59+00:00"

    async def update(value):
        body = await api(UPDATE_TENANT, {"input": {"mainEstablishment": value}}, token=owner)
        return body["data"]["updateTenant"]

    assert (await update("AT"))["tenant"] == {"mainEstablishment": "AT"}
    # ... and in Austria it is Neujahr: the same receipt now ends Fri 2 Jan.
    second = await log_request(api, owner, "2025-12-01T09:00:00+01:00")
    assert second["dueAt"] == "2026-01-02T22:59:59+00:00"

    for value, code in [
        ("GB", "NOT_EU_MEMBER_STATE"),
        ("US", "NOT_EU_MEMBER_STATE"),
        ("EL", "NOT_EU_MEMBER_STATE"),  # the EU's own abbreviation; ISO 3166 says GR
        ("Germany", "INVALID_COUNTRY"),
        ("D", "INVALID_COUNTRY"),
    ]:
        result = await update(value)
        assert result["tenant"] is None
        assert [(e["code"], e["field"]) for e in result["userErrors"]] == [
            (code, ["input", "mainEstablishment"])
        ], value
    assert (await update(None))["tenant"] == {"mainEstablishment": None}

    refused = await api(
        CREATE_TENANT,
        {
            "input": {
                "slug": "ltd",
                "name": "Ltd",
                "defaultLocale": "en",
                "jurisdictions": ["UK"],
                "mainEstablishment": "GB",
            }
        },
        token=platform_token,
    )
    assert [e["code"] for e in refused["data"]["createTenant"]["userErrors"]] == [
        "NOT_EU_MEMBER_STATE"
    ]


async def test_a_californian_breach_notice_clock_rolls_to_monday(api):
    # Discovered Thu 22 Oct 2026 15:00 PDT + 30 days = Sat 21 Nov -> Mon 23 Nov, 23:59:59
    # PST = 24 Nov 07:59:59 UTC (Cal. Civ. Code 10; Code Civ. Proc. 12a).
    _, owner = await create_tenant(api, slug="ca", jurisdictions=["US-CA"])
    breach = (await report(api, owner, risk="HIGH", detectedAt="2026-10-22T15:00:00-07:00"))[
        "breach"
    ]
    clocks = {c["kind"]: c["dueAt"] for c in breach["clocks"]}
    assert clocks["SUBJECTS"] == "2026-11-24T07:59:59+00:00"


def test_helpers_count_like_the_calendar() -> None:
    assert date(2026, 2, 28).weekday() == 5  # the Saturday
    assert _weekends_alone_monday(date(2026, 2, 28)) == date(2026, 3, 2)
    assert _weekends_alone_monday(date(2026, 3, 4)) == date(2026, 3, 4)


async def test_the_rule_table_says_which_periods_roll_and_under_which_article(api):
    body = await api(
        """{ jurisdictions { code memberStates
               access { unit rollsUnder } breachAuthority { unit rollsUnder } } }"""
    )
    table = {row["code"]: row for row in body["data"]["jurisdictions"]}
    assert "1182/71 Art. 3(4)" in table["EU"]["access"]["rollsUnder"]
    assert "Art. 193" in (await _ru_withdrawal(api))
    assert table["EU"]["breachAuthority"] == {"unit": "HOURS", "rollsUnder": None}
    assert table["RU"]["access"] == {"unit": "WORKING_DAYS", "rollsUnder": None}
    assert "unconfirmed" in table["UZ"]["access"]["rollsUnder"]
    assert "DE" in table["EU"]["memberStates"] and table["UK"]["memberStates"] == []


async def _ru_withdrawal(api) -> str:
    body = await api("{ jurisdictions { code obligations { name deadline { rollsUnder } } } }")
    ru = next(row for row in body["data"]["jurisdictions"] if row["code"] == "RU")
    return next(o for o in ru["obligations"] if o["name"] == "withdraw_consent")["deadline"][
        "rollsUnder"
    ]


async def test_californias_attorney_general_clock_starts_when_residents_are_told(api):
    """Cal. Civ. Code 1798.82(f): more than 500 residents -> the Attorney General within
    15 days after they are notified. The clock waits for the first notice, then runs as
    a DAYS clock: it ends with its day, in Los Angeles, on a working day."""
    _, owner = await create_tenant(api, slug="ca", jurisdictions=["US-CA"])
    reported = await report(
        api, owner, risk="HIGH", detectedAt="2026-10-22T15:00:00-07:00", approxSubjects=600
    )
    breach = reported["breach"]
    assert {c["kind"] for c in breach["clocks"]} == {"SUBJECTS"}  # nobody told yet

    body = await api(
        """mutation($id: ID!, $input: BreachNoticeInput!) {
          notifyBreachSubjects(breachId: $id, input: $input) {
            queued breach { clocks { kind startedAt dueAt satisfiedAt } }
            userErrors { code } } }""",
        {
            "id": breach["id"],
            "input": {
                "subjectIds": ["c-1", "c-2"],
                "message": [{"locale": "en", "title": "About your data", "body": "..."}],
            },
        },
        token=owner,
    )
    result = body["data"]["notifyBreachSubjects"]
    assert result["userErrors"] == [] and result["queued"] == 2
    clocks = {c["kind"]: c for c in result["breach"]["clocks"]}
    assert clocks["SUBJECTS"]["satisfiedAt"] is not None
    authority = clocks["AUTHORITY_INITIAL"]
    los_angeles = ZoneInfo("America/Los_Angeles")
    told = datetime.fromisoformat(authority["startedAt"]).astimezone(los_angeles).date()
    due = datetime.fromisoformat(authority["dueAt"]).astimezone(los_angeles)
    assert due.time() == time(23, 59, 59)
    assert 15 <= (due.date() - told).days <= 15 + 4 and due.weekday() < 5
