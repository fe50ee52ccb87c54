"""Deadline arithmetic pinned against hand-counted dates (shared/jurisdictions.md rules).

Pure domain tests: no app, no database. Expected values are literal UTC instants; the
comment above each shows the count in local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.rights import RequestType
from tenants.rules import JURISDICTIONS, RuleTableError, Unit
from tenants.rules.calendar import NotAMemberState, calendar_for
from tenants.rules.deadlines import (
    OBLIGATIONS,
    NoExtension,
    due_at,
    due_for,
    due_for_request,
    extend,
    is_working_day,
    period_end,
)
from tenants.rules.table import parse

EU, UK, US_CA, RU, KZ, UZ, BR = (
    JURISDICTIONS[code] for code in ("EU", "UK", "US-CA", "RU", "KZ", "UZ", "BR")
)
MOSCOW = ZoneInfo("Europe/Moscow")
BRUSSELS = ZoneInfo("Europe/Brussels")


def test_ru_ten_working_days_across_new_year_holidays() -> None:
    # Received Mon 2026-12-28 (MSK = UTC+3). Working days after day 0:
    # Tue 29 (1), Wed 30 (2); Thu 31 is a day off moved from Sun 2026-01-04;
    # 1-8 Jan New Year holidays, Sat 9 / Sun 10 weekend;
    # Mon 11 (3), 12 (4), 13 (5), 14 (6), Fri 15 (7), Mon 18 (8), 19 (9), Wed 20 (10).
    # -> 2027-01-20 23:59:59 MSK = 20:59:59 UTC
    due = due_for_request(
        received_at=datetime(2026, 12, 28, 10, 0, tzinfo=MOSCOW),
        request_type=RequestType.ACCESS,
        jurisdiction=RU,
    )
    assert due == datetime(2027, 1, 20, 20, 59, 59, tzinfo=UTC)


def test_ru_moved_working_saturday_counts() -> None:
    # 2024: Sat 27 April was worked in exchange for Mon 29 April off (decree of 2023).
    # Stop unlawful processing, 3 working days from Wed 2024-04-24:
    # Thu 25 (1), Fri 26 (2), Sat 27 (3, a working day by transfer).
    # -> 2024-04-27 23:59:59 MSK = 20:59:59 UTC (it would be Thu 2 May without the transfer)
    assert is_working_day(date(2024, 4, 27), RU)
    assert not is_working_day(date(2024, 4, 29), RU)
    due = due_for_request(
        received_at=datetime(2024, 4, 24, 10, 0, tzinfo=MOSCOW),
        request_type=RequestType.RESTRICTION,
        jurisdiction=RU,
    )
    assert due == datetime(2024, 4, 27, 20, 59, 59, tzinfo=UTC)


def test_ru_rectification_across_may_holidays() -> None:
    # 7 working days from Wed 2024-04-24: Thu 25 (1), Fri 26 (2), Sat 27 (3, transfer);
    # Sun 28; Mon 29 and Tue 30 off (moved), Wed 1 May holiday;
    # Thu 2 (4), Fri 3 (5); weekend; Mon 6 (6), Tue 7 (7).
    # -> 2024-05-07 23:59:59 MSK = 20:59:59 UTC
    due = due_for_request(
        received_at=datetime(2024, 4, 24, 10, 0, tzinfo=MOSCOW),
        request_type=RequestType.RECTIFICATION,
        jurisdiction=RU,
    )
    assert due == datetime(2024, 5, 7, 20, 59, 59, tzinfo=UTC)


def test_transfer_listed_under_next_year_is_seen() -> None:
    # KZ's 2014 transfers work Sat 2013-12-28 (for Thu 2014-01-02 off).
    assert is_working_day(date(2013, 12, 28), KZ)


def test_kz_three_working_days_over_a_weekend() -> None:
    # Received Thu 2026-02-12 (Almaty = UTC+5): Fri 13 (1); Sat 14, Sun 15; Mon 16 (2), Tue 17 (3).
    # -> 2026-02-17 23:59:59 +05 = 18:59:59 UTC
    due = due_for_request(
        received_at=datetime(2026, 2, 12, 9, 30, tzinfo=ZoneInfo("Asia/Almaty")),
        request_type=RequestType.ACCESS,
        jurisdiction=KZ,
    )
    assert due == datetime(2026, 2, 17, 18, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        # 31 Jan + 1 month: February has no 31st -> Sat 28 Feb, which rolls (Reg. 1182/71
        # Art. 3(4)) to Mon 2 Mar 23:59:59 CET = 22:59:59 UTC
        (
            datetime(2026, 1, 31, 10, 0, tzinfo=BRUSSELS),
            datetime(2026, 3, 2, 22, 59, 59, tzinfo=UTC),
        ),
        # leap year -> Tue 29 Feb 2028 23:59:59 CET, a working day
        (
            datetime(2028, 1, 31, 10, 0, tzinfo=BRUSSELS),
            datetime(2028, 2, 29, 22, 59, 59, tzinfo=UTC),
        ),
        # 2026-01-31 00:30 in Brussels is still 30 Jan 23:30 UTC: the local date (31) counts
        (datetime(2026, 1, 30, 23, 30, tzinfo=UTC), datetime(2026, 3, 2, 22, 59, 59, tzinfo=UTC)),
    ],
)
def test_eu_one_month_from_31_january(received: datetime, expected: datetime) -> None:
    due = due_for_request(received_at=received, request_type=RequestType.ERASURE, jurisdiction=EU)
    assert due == expected


def test_tenant_promise_beats_a_longer_law() -> None:
    # UZ: 30 DAYS (unconfirmed default); the tenant promises 14 days.
    # Received Mon 2026-05-04 (Tashkent = UTC+5): 4 May + 14 = 18 May 23:59:59 +05 = 18:59:59 UTC
    # (the law alone: 4 May + 30 = 3 June).
    received = datetime(2026, 5, 4, 10, 0, tzinfo=ZoneInfo("Asia/Tashkent"))
    law = due_for_request(received_at=received, request_type=RequestType.ERASURE, jurisdiction=UZ)
    assert law == datetime(2026, 6, 3, 18, 59, 59, tzinfo=UTC)
    due = due_for_request(
        received_at=received,
        request_type=RequestType.ERASURE,
        jurisdiction=UZ,
        promise=(14, False),
    )
    assert due == datetime(2026, 5, 18, 18, 59, 59, tzinfo=UTC)


def test_law_beats_a_longer_promise() -> None:
    # KZ: 3 working days from Thu 2026-02-12 (-> Tue 17) beats a 10-day promise (-> 22 Feb).
    due = due_for_request(
        received_at=datetime(2026, 2, 12, 9, 30, tzinfo=ZoneInfo("Asia/Almaty")),
        request_type=RequestType.ACCESS,
        jurisdiction=KZ,
        promise=(10, False),
    )
    assert due == datetime(2026, 2, 17, 18, 59, 59, tzinfo=UTC)


def test_uk_request_extended_by_two_months() -> None:
    # Received Tue 2026-03-10 in London: 1 month -> Fri 10 April 23:59:59 BST = 22:59:59 UTC.
    # Extension +2 months counted from that day -> Wed 10 June 23:59:59 BST = 22:59:59 UTC.
    received = datetime(2026, 3, 10, 11, 0, tzinfo=ZoneInfo("Europe/London"))
    due = due_for_request(received_at=received, request_type=RequestType.ACCESS, jurisdiction=UK)
    assert due == datetime(2026, 4, 10, 22, 59, 59, tzinfo=UTC)
    end = period_end(start=received, deadline=UK.deadlines["access"], jurisdiction=UK)
    extended = extend(end=end, deadline=UK.deadlines["access"], jurisdiction=UK)
    assert extended == datetime(2026, 6, 10, 22, 59, 59, tzinfo=UTC)


def test_extension_refused_where_the_law_allows_none() -> None:
    end = datetime(2024, 5, 7, 20, 59, 59, tzinfo=UTC)
    with pytest.raises(NoExtension):
        extend(end=end, deadline=RU.deadlines["rectification"], jurisdiction=RU)


def test_hours_are_elapsed_time_even_across_dst() -> None:
    # Aware of a breach Sat 2026-03-28 12:00 CET (11:00 UTC); clocks go forward on the 29th.
    # 72 elapsed hours -> 2026-03-31 11:00 UTC (13:00 CEST on the wall clock).
    due = due_for(
        start=datetime(2026, 3, 28, 12, 0, tzinfo=BRUSSELS),
        deadline=EU.deadlines["breach_authority"],
        jurisdiction=EU,
    )
    assert due == datetime(2026, 3, 31, 11, 0, tzinfo=UTC)


def test_ru_breach_clocks_from_one_instant() -> None:
    # Detected 2026-07-01 14:15 UTC: +24 h and +72 h, to the second.
    detected = datetime(2026, 7, 1, 14, 15, 7, tzinfo=UTC)
    first = due_for(start=detected, deadline=RU.deadlines["breach_authority"], jurisdiction=RU)
    followup = due_for(
        start=detected, deadline=RU.deadlines["breach_authority_followup"], jurisdiction=RU
    )
    assert first == datetime(2026, 7, 2, 14, 15, 7, tzinfo=UTC)
    assert followup == datetime(2026, 7, 4, 14, 15, 7, tzinfo=UTC)


def test_days_across_the_march_dst_switch_end_at_local_midnight() -> None:
    # Wed 2026-03-25 09:00 CET + 10 DAYS = Sat 4 April (CEST since 29 March)
    # -> 23:59:59 CEST = 21:59:59 UTC
    due = due_at(
        start=datetime(2026, 3, 25, 9, 0, tzinfo=BRUSSELS),
        amount=10,
        unit=Unit.DAYS,
        jurisdiction=EU,
    )
    assert due == datetime(2026, 4, 4, 21, 59, 59, tzinfo=UTC)
    local = due.astimezone(BRUSSELS)
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    assert local.utcoffset().total_seconds() == 7200


def test_us_ca_confirmation_skips_thanksgiving() -> None:
    # Received Fri 2026-11-20 in Los Angeles: Mon 23 (1), Tue 24 (2), Wed 25 (3);
    # Thu 26 Thanksgiving, Fri 27 Day After Thanksgiving (CA); Mon 30 (4), 1 Dec (5),
    # 2 (6), 3 (7), Fri 4 (8), Mon 7 (9), Tue 8 (10) -> 23:59:59 PST = 9 Dec 07:59:59 UTC
    due = due_for(
        start=datetime(2026, 11, 20, 16, 0, tzinfo=ZoneInfo("America/Los_Angeles")),
        deadline=US_CA.deadlines["confirm"],
        jurisdiction=US_CA,
    )
    assert due == datetime(2026, 12, 9, 7, 59, 59, tzinfo=UTC)


def test_br_breach_working_days_skip_tiradentes() -> None:
    # Knowledge Fri 2026-04-17 (Sao Paulo = UTC-3): Mon 20 (1); Tue 21 Tiradentes;
    # Wed 22 (2), Thu 23 (3) -> 23:59:59 -03 = 24 April 02:59:59 UTC
    due = due_for(
        start=datetime(2026, 4, 17, 15, 0, tzinfo=ZoneInfo("America/Sao_Paulo")),
        deadline=BR.deadlines["breach_authority"],
        jurisdiction=BR,
    )
    assert due == datetime(2026, 4, 24, 2, 59, 59, tzinfo=UTC)


def test_without_undue_delay_has_no_due_instant() -> None:
    deadline = EU.deadlines["breach_subjects"]
    assert deadline.undue_delay and deadline.amount is None
    assert (
        due_for(start=datetime(2026, 1, 1, tzinfo=UTC), deadline=deadline, jurisdiction=EU) is None
    )


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(start=datetime(2026, 1, 1), amount=1, unit=Unit.DAYS, jurisdiction=EU)


def test_every_request_type_finds_a_deadline_everywhere() -> None:
    assert set(OBLIGATIONS) == set(RequestType)
    for code, row in JURISDICTIONS.items():
        for request_type in RequestType:
            due = due_for_request(
                received_at=datetime(2026, 6, 1, 12, tzinfo=UTC),
                request_type=request_type,
                jurisdiction=row,
            )
            assert due is not None, (code, request_type)


def test_table_is_complete_and_sourced() -> None:
    assert set(JURISDICTIONS) == {"EU", "UK", "US-CA", "RU", "KZ", "UZ", "KG", "BR"}
    for code, row in JURISDICTIONS.items():
        assert row.source.strip(), code
        assert {"access", "erasure", "breach_authority"} <= set(row.deadlines), code
        for key, deadline in row.deadlines.items():
            assert deadline.source.strip(), (code, key)
            assert deadline.start.strip(), (code, key)
            assert deadline.undue_delay or deadline.amount, (code, key)
            if "unconfirmed" in deadline.source:
                assert "conservative default" in deadline.source, (code, key)


def test_unknown_unit_is_a_clear_load_error() -> None:
    table = {
        "XX": {
            "name": "Nowhere",
            "timezone": "UTC",
            "source": "test",
            "deadlines": {
                "access": {"amount": 2, "unit": "WEEKS", "from": "receipt", "source": "test"}
            },
        }
    }
    with pytest.raises(RuleTableError, match=r"XX\.deadlines\.access\.unit: unknown unit 'WEEKS'"):
        parse(table)


def test_figure_next_to_undue_delay_is_refused() -> None:
    table = {
        "XX": {
            "name": "Nowhere",
            "timezone": "UTC",
            "source": "test",
            "deadlines": {
                "breach_subjects": {
                    "undue_delay": True,
                    "amount": 3,
                    "unit": "DAYS",
                    "from": "awareness",
                    "source": "test",
                }
            },
        }
    }
    with pytest.raises(RuleTableError, match="undue_delay rows carry no amount"):
        parse(table)


_STATES = sorted(JURISDICTIONS["EU"].member_states)


@settings(max_examples=150, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
    code=st.sampled_from(sorted(JURISDICTIONS)),
    state=st.sampled_from([None, *_STATES]),
)
def test_every_period_ends_on_the_first_working_day_at_or_after_its_own_end(
    instant: datetime, code: str, state: str | None
) -> None:
    """The kind, not the instances: for every deadline of the table, from any instant."""
    rules = JURISDICTIONS[code]
    state = state if rules.member_states else None
    calendar = calendar_for(rules, state)
    for key, deadline in rules.deadlines.items():
        if deadline.amount is None or deadline.unit is None:
            continue
        due = due_for(start=instant, deadline=deadline, jurisdiction=rules, establishment=state)
        end = period_end(start=instant, deadline=deadline, jurisdiction=rules, establishment=state)
        if deadline.unit is Unit.HOURS:
            assert due == end == instant + timedelta(hours=deadline.amount), key
            assert deadline.rolls_under is None, key
            continue
        local_due, local_end = due.astimezone(calendar.zone), end.astimezone(calendar.zone)
        assert local_due.time() == local_end.time() == time(23, 59, 59), key
        day = local_end.date()
        if deadline.rolls_under is None:
            assert due == end, key
            continue
        while day < local_due.date():  # everything skipped was a day off
            assert not calendar.is_working_day(day), (key, day)
            day += timedelta(days=1)
        assert calendar.is_working_day(local_due.date()), key


@settings(max_examples=60, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    ),
    days=st.integers(min_value=1, max_value=60),
    code=st.sampled_from(sorted(JURISDICTIONS)),
)
def test_a_promise_ends_where_it_falls(instant: datetime, days: int, code: str) -> None:
    """A tenant's own promise is its public commitment: it never moves to a working day."""
    rules = JURISDICTIONS[code]
    zone = calendar_for(rules).zone
    due = due_at(start=instant, amount=days, unit=Unit.DAYS, jurisdiction=rules)
    assert due.astimezone(zone).date() == instant.astimezone(zone).date() + timedelta(days=days)


def test_roll_rules_are_data_with_sources() -> None:
    for code, row in JURISDICTIONS.items():
        assert row.roll is not None, code  # shared/jurisdictions.md: every one rolls
        assert row.roll.units == {Unit.DAYS, Unit.MONTHS}, code
        for key, deadline in row.deadlines.items():
            rolls = deadline.unit in (Unit.DAYS, Unit.MONTHS)
            assert (deadline.rolls_under == row.roll.source) is rolls, (code, key)
        if "unconfirmed" in row.roll.source:
            assert "roll regardless" in row.roll.source, code


@pytest.mark.parametrize(
    ("roll", "message"),
    [
        ({"units": ["HOURS"], "source": "x"}, "HOURS periods never roll"),
        ({"units": ["WORKING_DAYS"], "source": "x"}, "WORKING_DAYS periods never roll"),
        ({"units": ["DAYS"]}, r"roll\.source"),
        ({"units": ["DAYS"], "source": "x", "why": "y"}, "unknown key"),
    ],
)
def test_a_bad_roll_rule_is_a_load_error(roll: dict, message: str) -> None:
    table = {"XX": {"name": "Nowhere", "timezone": "UTC", "source": "test", "roll": roll}}
    with pytest.raises(RuleTableError, match=message):
        parse(table)


def test_a_row_may_only_opt_out_of_the_roll() -> None:
    row = {"amount": 2, "unit": "DAYS", "from": "receipt", "source": "test"}
    base = {"name": "Nowhere", "timezone": "UTC", "source": "test"}
    roll = {"units": ["DAYS"], "source": "Art. 1"}
    table = parse(
        {"XX": {**base, "roll": roll, "deadlines": {"a": row, "b": {**row, "roll": False}}}}
    )
    assert table["XX"].deadlines["a"].rolls_under == "Art. 1"
    assert table["XX"].deadlines["b"].rolls_under is None
    with pytest.raises(RuleTableError, match="only `roll = false`"):
        parse({"XX": {**base, "roll": roll, "deadlines": {"a": {**row, "roll": True}}}})


def test_member_states_need_a_calendar_and_a_zone() -> None:
    base = {"name": "Nowhere", "timezone": "UTC", "source": "test"}
    with pytest.raises(RuleTableError, match=r"member_states\.XX"):
        parse({"EU": {**base, "member_states": {"XX": "Europe/Paris"}}})
    with pytest.raises(RuleTableError, match="unknown time zone"):
        parse({"EU": {**base, "member_states": {"FR": "Europe/Nowhere"}}})
    assert set(JURISDICTIONS["EU"].member_states) == {
        *[
            "AT",
            "BE",
            "BG",
            "CY",
            "CZ",
            "DE",
            "DK",
            "EE",
            "ES",
            "FI",
            "FR",
            "GR",
            "HR",
            "HU",
            "IE",
            "IT",
            "LT",
            "LU",
            "LV",
            "MT",
            "NL",
            "PL",
            "PT",
            "RO",
            "SE",
            "SI",
            "SK",
        ]
    }
    with pytest.raises(NotAMemberState):
        calendar_for(JURISDICTIONS["EU"], "GB")
    # Outside the EU a main establishment changes nothing: the country's own calendar counts.
    assert calendar_for(JURISDICTIONS["RU"], "DE") == calendar_for(JURISDICTIONS["RU"])
