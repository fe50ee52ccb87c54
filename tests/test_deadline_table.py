"""Deadlines counted by hand, one row per tricky date, each citing the rule it follows.

Every expected value below was worked out on paper from shared/jurisdictions.md's
counting rules and the public calendars (the `why` column shows the count), never by
calling the code under test. Times are local, with the offset in force that day; the
code answers in UTC, and the comparison is of instants.

Rules in play: the event's local day is day 0; DAYS add calendar days, MONTHS keep the
day of the month (clamped to the month's end), WORKING_DAYS skip days off (moved days
off and worked Saturdays included); a DAYS or MONTHS period whose last day is not a
working day ends on the next one (the jurisdiction's `roll`); a tenant's promise never
rolls; HOURS are exact and never roll; an extension counts from the first period's own
end, before rolling, and then rolls itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import pytest

from tenants.breaches.clocks import clock_due
from tenants.errors import DomainError
from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS
from tenants.rules.deadlines import deadline_for, due_for_request, extend, period_end
from tenants.subject_requests.deadlines import extended
from tenants.subject_requests.models import SubjectRequest
from tenants.tenancy.models import Tenant


class Row(NamedTuple):
    code: str  # jurisdiction
    state: str | None  # the tenant's main establishment (EU member state), if named
    kind: str  # "request": its due date; "extend": the extended due date; "breach": a clock
    key: str  # request type, or the breach obligation of the rule table
    start: str  # receipt (or detection/awareness) with its local offset
    expected: str  # the due instant, local
    cites: str  # words of the rule table's source (or roll source) this row rests on
    why: str  # the count, by hand
    promise: int | None = None  # the tenant's own promise, in calendar days


ROWS = [
    # ---------------------------------------------------------------- EU
    Row("EU", None, "request", "ACCESS", "2026-01-31T10:00:00+01:00", "2026-03-02T23:59:59+01:00",
        "1182/71 Art. 3(4)",
        "Sat 31 Jan + 1 month: no 31 Feb, clamped to Sat 28 Feb; a Saturday -> Mon 2 Mar"),
    Row("EU", None, "request", "ACCESS", "2025-12-01T09:00:00+01:00", "2026-01-01T23:59:59+01:00",
        "GDPR Art. 12(3)",
        "Mon 1 Dec + 1 month = Thu 1 Jan; no member state named: weekends alone, so New "
        "Year's Day counts as a working day and nothing rolls"),
    Row("EU", "DE", "request", "ACCESS", "2025-12-01T09:00:00+01:00", "2026-01-02T23:59:59+01:00",
        "1182/71 Art. 3(4)",
        "as above, but Thu 1 Jan is Neujahr in Germany -> Fri 2 Jan"),
    Row("EU", "DE", "request", "ERASURE", "2026-03-03T11:00:00+01:00", "2026-04-07T23:59:59+02:00",
        "1182/71 Art. 3(4)",
        "Tue 3 Mar + 1 month = Fri 3 Apr, Good Friday in DE; Sat 4, Sun 5, Mon 6 Easter "
        "Monday -> Tue 7 Apr; CEST (UTC+2) since 29 Mar"),
    Row("EU", None, "request", "ERASURE", "2026-03-03T11:00:00+01:00", "2026-04-03T23:59:59+02:00",
        "GDPR Art. 12(3)",
        "same request, no member state: Fri 3 Apr is a weekday, so it ends there"),
    Row("EU", "FR", "request", "ACCESS", "2026-02-28T16:00:00+01:00", "2026-03-30T23:59:59+02:00",
        "1182/71 Art. 3(4)",
        "Sat 28 Feb + 1 month = Sat 28 Mar; Sun 29 Mar (clocks go forward that night) -> "
        "Mon 30 Mar, which ends at 23:59:59 CEST, UTC+2"),
    Row("EU", "DE", "request", "ACCESS", "2026-09-25T10:00:00+02:00", "2026-10-26T23:59:59+01:00",
        "1182/71 Art. 3(4)",
        "Fri 25 Sep + 1 month = Sun 25 Oct, the night clocks go back -> Mon 26 Oct, 23:59:59 "
        "CET, UTC+1"),
    Row("EU", "IE", "request", "ACCESS", "2026-02-16T23:30:00+00:00", "2026-03-16T23:59:59+00:00",
        "GDPR Art. 12(3)",
        "23:30 UTC is still Mon 16 Feb in Dublin (day 0) -> Mon 16 Mar, a working day, "
        "23:59:59 GMT"),
    Row("EU", None, "request", "ACCESS", "2026-02-16T23:30:00+00:00", "2026-03-17T23:59:59+01:00",
        "GDPR Art. 12(3)",
        "same instant counted in Brussels, where it is Tue 17 Feb 00:30 -> Tue 17 Mar"),
    Row("EU", "IE", "request", "ACCESS", "2026-02-17T10:00:00+00:00", "2026-03-18T23:59:59+00:00",
        "1182/71 Art. 3(4)",
        "Tue 17 Feb + 1 month = Tue 17 Mar, St Patrick's Day in Ireland -> Wed 18 Mar"),
    Row("EU", None, "extend", "ACCESS", "2026-01-31T10:00:00+01:00", "2026-04-28T23:59:59+02:00",
        "GDPR Art. 12(3)",
        "the first period's own end is Sat 28 Feb (it rolled to Mon 2 Mar); 28 Feb + 2 months "
        "= Tue 28 Apr. Counting from the rolled 2 Mar would give Sat 2 May -> Mon 4 May"),
    Row("EU", None, "breach", "breach_authority", "2026-01-28T12:00:00+01:00",
        "2026-01-31T12:00:00+01:00", "GDPR Art. 33(1)",
        "72 hours from Wed 28 Jan 12:00 = Sat 31 Jan 12:00: an instant, HOURS never roll"),
    # ---------------------------------------------------------------- UK
    Row("UK", None, "request", "ACCESS", "2025-12-01T10:00:00+00:00", "2026-01-02T23:59:59+00:00",
        "ICO guidance",
        "Mon 1 Dec + 1 month = Thu 1 Jan, New Year's Day, a UK bank holiday -> Fri 2 Jan"),
    Row("UK", None, "request", "ERASURE", "2026-11-25T10:00:00+00:00", "2026-12-29T23:59:59+00:00",
        "ICO guidance",
        "Wed 25 Nov + 1 month = Fri 25 Dec, Christmas; Sat 26 Boxing Day, Sun 27, Mon 28 "
        "the substitute Boxing Day bank holiday -> Tue 29 Dec"),
    Row("UK", None, "extend", "ACCESS", "2025-12-01T10:00:00+00:00", "2026-03-02T23:59:59+00:00",
        "UK GDPR Arts. 12(3)",
        "first period's own end Thu 1 Jan (it rolled to Fri 2 Jan); 1 Jan + 2 months = "
        "Sun 1 Mar -> Mon 2 Mar"),
    Row("UK", None, "request", "ACCESS", "2026-03-06T10:00:00+00:00", "2026-04-06T23:59:59+01:00",
        "UK GDPR Arts. 12(3)",
        "Fri 6 Mar + 1 month = Mon 6 Apr, Easter Monday: a bank holiday in England, Wales "
        "and Northern Ireland but not Scotland; the UK calendar holds the UK-wide ones "
        "only, so it ends that day (never later than the law in any nation); BST"),
    # ---------------------------------------------------------------- US-CA
    Row("US-CA", None, "request", "ACCESS", "2026-10-12T09:00:00-07:00",
        "2026-11-30T23:59:59-08:00", "Civ. Code 10",
        "Mon 12 Oct + 45 days = Thu 26 Nov, Thanksgiving; Fri 27 (a California state "
        "holiday), Sat 28, Sun 29 -> Mon 30 Nov; PST (UTC-8) since 1 Nov"),
    Row("US-CA", None, "extend", "ACCESS", "2026-10-12T09:00:00-07:00",
        "2027-01-11T23:59:59-08:00", "1798.130(a)(2)",
        "first period's own end Thu 26 Nov (it rolled to Mon 30 Nov); 26 Nov + 45 days = "
        "Sun 10 Jan -> Mon 11 Jan (from the rolled 30 Nov it would be Thu 14 Jan)"),
    Row("US-CA", None, "breach", "breach_subjects", "2026-12-02T15:00:00-08:00",
        "2027-01-04T23:59:59-08:00", "Code Civ. Proc. 12a",
        "discovered Wed 2 Dec + 30 days = Fri 1 Jan, New Year's Day; Sat 2, Sun 3 -> Mon 4 "
        "Jan: a DAYS clock ends with its last day, and rolls"),
    # ---------------------------------------------------------------- RU
    Row("RU", None, "request", "WITHDRAW_CONSENT", "2026-12-01T12:00:00+03:00",
        "2027-01-11T23:59:59+03:00", "Civil Code Art. 193",
        "Tue 1 Dec + 30 days = Thu 31 Dec, a day off moved from Sun 4 Jan 2026; 1-8 Jan "
        "New Year holidays, Sat 9, Sun 10 -> Mon 11 Jan"),
    Row("RU", None, "request", "WITHDRAW_CONSENT", "2027-10-06T12:00:00+03:00",
        "2027-11-08T23:59:59+03:00", "Civil Code Art. 193",
        "Wed 6 Oct + 30 days = Fri 5 Nov, a day off moved from Sat 2 Jan 2027; Sat 6, "
        "Sun 7 -> Mon 8 Nov"),
    Row("RU", None, "request", "ACCESS", "2027-02-08T10:00:00+03:00", "2027-02-20T23:59:59+03:00",
        "152-FZ Art. 20(1)",
        "10 working days from Mon 8 Feb: 9-12 Feb (1-4), 15-19 Feb (5-9), Sat 20 Feb, worked "
        "in exchange for Mon 22 Feb off (10)"),
    Row("RU", None, "extend", "ACCESS", "2027-02-08T10:00:00+03:00", "2027-03-02T23:59:59+03:00",
        "extended by 5 working days",
        "+5 working days from Sat 20 Feb: Sun 21; Mon 22 moved day off; Tue 23 Defender of "
        "the Fatherland Day; Wed 24 (1), Thu 25 (2), Fri 26 (3), Mon 1 Mar (4), Tue 2 Mar (5)"),
    # ---------------------------------------------------------------- KZ
    Row("KZ", None, "request", "ACCESS", "2026-03-19T10:00:00+05:00", "2026-03-27T23:59:59+05:00",
        "within 3 working days",
        "from Thu 19 Mar: Fri 20 (1); Sat 21-Mon 23 Nauryz, Tue 24 and Wed 25 off in place "
        "of the Nauryz days that fell on the weekend; Thu 26 (2), Fri 27 (3)"),
    Row("KZ", None, "breach", "breach_authority", "2026-12-15T14:00:00+05:00",
        "2026-12-17T14:00:00+05:00", "1 working day",
        "detected Tue 15 Dec 14:00; Wed 16 Dec Independence Day -> Thu 17 Dec at the same "
        "local time (a breach counts from an instant)"),
    # ---------------------------------------------------------------- UZ
    Row("UZ", None, "request", "ACCESS", "2026-10-09T10:00:00+05:00", "2026-11-09T23:59:59+05:00",
        "UZ Civil Code",
        "Fri 9 Oct + 30 days = Sun 8 Nov -> Mon 9 Nov"),
    Row("UZ", None, "request", "ERASURE", "2025-12-02T10:00:00+05:00", "2026-01-05T23:59:59+05:00",
        "UZ Civil Code",
        "Tue 2 Dec + 30 days = Thu 1 Jan, New Year; Fri 2 Jan an extra day off by "
        "presidential decree; Sat 3, Sun 4 -> Mon 5 Jan"),
    Row("UZ", None, "request", "ACCESS", "2026-11-12T10:00:00+05:00", "2026-12-12T23:59:59+05:00",
        "UZ Civil Code",
        "Thu 12 Nov + 30 days = Sat 12 Dec, worked in exchange for Thu 31 Dec off: a "
        "working day, nothing rolls"),
    Row("UZ", None, "request", "ERASURE", "2026-10-25T10:00:00+05:00", "2026-11-08T23:59:59+05:00",
        "conservative default 30 DAYS",
        "the tenant promises 14 days: Sun 25 Oct + 14 = Sun 8 Nov, and its own promise does "
        "not roll; the law's 30 days end Tue 24 Nov, later",
        promise=14),
    # ---------------------------------------------------------------- KG
    Row("KG", None, "request", "ACCESS", "2025-12-25T10:00:00+06:00", "2026-01-08T23:59:59+06:00",
        "Law 58 Art. 17",
        "Thu 25 Dec + 7 days = Thu 1 Jan; 2-6 Jan New Year holidays, Wed 7 Jan Orthodox "
        "Christmas -> Thu 8 Jan"),
    Row("KG", None, "request", "ACCESS", "2026-04-24T10:00:00+06:00", "2026-05-11T23:59:59+06:00",
        "KG Civil Code",
        "Fri 24 Apr + 7 days = Fri 1 May, Labour Day; 2-4 May holidays, 5 May Constitution "
        "Day, 6-8 May holidays, Sat 9 May Victory Day, Sun 10 -> Mon 11 May"),
    # ---------------------------------------------------------------- BR
    Row("BR", None, "request", "ACCESS", "2026-04-06T10:00:00-03:00", "2026-04-22T23:59:59-03:00",
        "Art. 132",
        "Mon 6 Apr + 15 days = Tue 21 Apr, Tiradentes -> Wed 22 Apr"),
    Row("BR", None, "request", "ERASURE", "2026-03-19T10:00:00-03:00", "2026-04-06T23:59:59-03:00",
        "Art. 132",
        "Thu 19 Mar + 15 days = Fri 3 Apr, Good Friday; Sat 4, Sun 5 -> Mon 6 Apr"),
    Row("BR", None, "breach", "breach_authority", "2026-04-17T15:00:00-03:00",
        "2026-04-23T15:00:00-03:00", "3 working days",
        "knowledge Fri 17 Apr 15:00: Mon 20 (1); Tue 21 Tiradentes; Wed 22 (2), Thu 23 (3), "
        "at the same local time"),
]  # fmt: skip


def _deadline(row: Row):
    rules = JURISDICTIONS[row.code]
    if row.kind == "breach":
        return rules.deadlines[row.key]
    return deadline_for(request_type=RequestType(row.key), jurisdiction=rules)


def _computed(row: Row) -> datetime:
    rules = JURISDICTIONS[row.code]
    start = datetime.fromisoformat(row.start)
    deadline = _deadline(row)
    if row.kind == "breach":
        due = clock_due(deadline, start, rules, row.state)
    elif row.kind == "extend":
        end = period_end(
            start=start, deadline=deadline, jurisdiction=rules, establishment=row.state
        )
        due = extend(end=end, deadline=deadline, jurisdiction=rules, establishment=row.state)
    else:
        due = due_for_request(
            received_at=start,
            request_type=RequestType(row.key),
            jurisdiction=rules,
            promise=None if row.promise is None else (row.promise, False),
            establishment=row.state,
        )
    assert due is not None
    return due


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r.code}-{r.state or 'none'}-{r.kind}-{r.start[:10]}" for r in ROWS]
)
def test_hand_counted_date(row: Row) -> None:
    due = _computed(row)
    assert due == datetime.fromisoformat(row.expected), row.why
    assert due.utcoffset().total_seconds() == 0  # clocks are stored as UTC instants
    # The row's citation is the table's own: change the source, and the row must be read again.
    deadline = _deadline(row)
    assert row.cites in f"{deadline.source} {deadline.rolls_under or ''}", (row.cites, deadline)


def test_the_table_covers_what_the_issue_lists() -> None:
    assert len(ROWS) >= 20
    assert {r.code for r in ROWS} >= {"EU", "UK", "US-CA", "RU", "KZ", "UZ", "KG", "BR"}
    eu = [r for r in ROWS if r.code == "EU"]
    assert any(r.state for r in eu) and any(r.state is None for r in eu)
    assert {r.kind for r in ROWS} == {"request", "extend", "breach"}
    assert any(r.promise for r in ROWS)


# ---------------------------------------------------------------- late extensions
EU_LATE = "2026-01-31T10:00:00+01:00"  # due Mon 2 Mar 23:59:59 CET, its own end Sat 28 Feb


def _request(code: str, received: str, due: str, type: str = "ACCESS") -> SubjectRequest:
    return SubjectRequest(
        type=type,
        jurisdiction=code,
        received_at=datetime.fromisoformat(received),
        due_at=datetime.fromisoformat(due),
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Mon 2 Mar 23:00 CET: the rolled day still belongs to the first period, so the
        # person can be told in time -> 28 Feb + 2 months = Tue 28 Apr 23:59:59 CEST.
        ("2026-03-02T23:00:00+01:00", "2026-04-28T23:59:59+02:00"),
        # Tue 3 Mar 00:00:01 CET: the first period is over -> refused, whatever the reason.
        ("2026-03-03T00:00:01+01:00", "EXTENSION_TOO_LATE"),
        # Eight months on, as the issue found possible: refused.
        ("2026-11-02T10:00:00+01:00", "EXTENSION_TOO_LATE"),
    ],
)
def test_an_extension_is_decided_within_the_first_period(now: str, expected: str) -> None:
    tenant = Tenant(slug="t", name="T", default_locale="en", main_establishment=None)
    request = _request("EU", EU_LATE, "2026-03-02T23:59:59+01:00")
    at = datetime.fromisoformat(now)
    if expected == "EXTENSION_TOO_LATE":
        with pytest.raises(DomainError) as refused:
            extended(tenant=tenant, request=request, now=at)
        assert [p.code for p in refused.value.problems] == ["EXTENSION_TOO_LATE"]
    else:
        assert extended(tenant=tenant, request=request, now=at) == datetime.fromisoformat(expected)


def test_where_the_law_has_no_extension_lateness_is_not_the_reason() -> None:
    tenant = Tenant(slug="t", name="T", default_locale="en")
    request = _request("UZ", "2026-10-09T10:00:00+05:00", "2026-11-09T23:59:59+05:00")
    with pytest.raises(DomainError) as refused:
        extended(tenant=tenant, request=request, now=datetime.fromisoformat(EU_LATE))
    assert [p.code for p in refused.value.problems] == ["EXTENSION_NOT_ALLOWED"]
