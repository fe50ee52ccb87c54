"""Deadline arithmetic: statutory clocks per the counting rules in shared/jurisdictions.md.

Day-based units count in the jurisdiction's local calendar (the event's local date is
day 0; the period ends at 23:59:59 local on its last day); HOURS count elapsed time.
Every result is an aware UTC datetime, the form clocks are stored in.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from tenants.rights import RequestType
from tenants.rules.table import Deadline, Jurisdiction, Unit

# The md writes the end of a day as 23:59:59; sub-second precision would only leak
# ".999999" into every API response.
END_OF_DAY = time(23, 59, 59)

# Which obligation a request type is answered under, most specific first. Only RU has
# separate rectification/restriction/withdrawal figures; elsewhere "erasure" covers them.
OBLIGATIONS: dict[RequestType, tuple[str, ...]] = {
    RequestType.ACCESS: ("access",),
    RequestType.PORTABILITY: ("access",),
    RequestType.ERASURE: ("erasure",),
    RequestType.RECTIFICATION: ("rectification", "erasure"),
    RequestType.RESTRICTION: ("restriction", "erasure"),
    RequestType.OBJECTION: ("restriction", "erasure"),
    RequestType.WITHDRAW_CONSENT: ("withdraw_consent", "erasure"),
}

# A tenant's promise for a request type: (amount, counted in working days?).
Promise = tuple[int, bool]


class NoExtension(ValueError):
    """The law behind this deadline allows no extension."""


def obligation_for(request_type: RequestType, jurisdiction: Jurisdiction) -> str | None:
    """The deadline key a request of this type runs under in this jurisdiction."""
    for key in OBLIGATIONS[RequestType(request_type)]:
        if key in jurisdiction.deadlines:
            return key
    return None


def deadline_for(*, request_type: RequestType, jurisdiction: Jurisdiction) -> Deadline | None:
    key = obligation_for(request_type, jurisdiction)
    return None if key is None else jurisdiction.deadlines[key]


@cache
def _holiday_calendar(country: str, subdiv: str | None) -> holidays.HolidayBase:
    # Default category (PUBLIC) only: the WORKDAY category lists observances that are
    # working days (e.g. KG's 23 February), so asking for it would wrongly close them.
    # Moved working Saturdays live in `weekend_workdays`, which is_working_day() honours.
    return holidays.country_holidays(country, subdiv=subdiv)


def is_working_day(day: date, jurisdiction: Jurisdiction) -> bool:
    """Monday-Friday minus public holidays, plus weekend days officially made working days."""
    if jurisdiction.calendar is None:
        return day.weekday() < 5
    cal = _holiday_calendar(jurisdiction.calendar, jurisdiction.calendar_subdiv)
    # A transfer can be decreed in the next year's table (KZ's 2014 list works
    # 2013-12-28), so that year must be loaded before this year's Saturdays are judged.
    for year in (day.year, day.year + 1):
        if year not in cal.years:
            cal.get(date(year, 1, 1))  # populates the year (expand=True)
    return cal.is_working_day(day)


def add_working_days(day: date, amount: int, jurisdiction: Jurisdiction) -> date:
    """The `amount`-th working day after `day` (`day` itself when amount is 0)."""
    while amount > 0:
        day += timedelta(days=1)
        if is_working_day(day, jurisdiction):
            amount -= 1
    return day


def add_months(day: date, amount: int) -> date:
    """Same day of the month `amount` months later, clamped to that month's last day."""
    index = day.month - 1 + amount
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def zone_of(jurisdiction: Jurisdiction, tz: str | None = None) -> ZoneInfo:
    """The zone day-based clocks count in: the tenant's override, else the jurisdiction's."""
    return ZoneInfo(tz or jurisdiction.timezone)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    # fold=1 takes the later of two 23:59:59s should a zone ever repeat that hour
    # (Brazil ended DST at midnight until 2019): the day ends at its last instant.
    return datetime.combine(day, END_OF_DAY, tzinfo=zone).replace(fold=1).astimezone(UTC)


def due_at(
    *,
    start: datetime,
    amount: int,
    unit: Unit,
    jurisdiction: Jurisdiction,
    tz: str | None = None,
) -> datetime:
    """When a clock of `amount` `unit` started at `start` runs out, as an aware UTC datetime."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    unit = Unit(unit)
    if unit is Unit.HOURS:
        # Add in UTC: aware arithmetic in a local zone adds wall-clock time, which would
        # make "72 hours" 71 or 73 across a DST switch.
        return start.astimezone(UTC) + timedelta(hours=amount)
    zone = zone_of(jurisdiction, tz)
    day = start.astimezone(zone).date()
    if unit is Unit.DAYS:
        day += timedelta(days=amount)
    elif unit is Unit.WORKING_DAYS:
        day = add_working_days(day, amount, jurisdiction)
    else:
        day = add_months(day, amount)
    return end_of_day(day, zone)


def due_for(
    *,
    start: datetime,
    deadline: Deadline,
    jurisdiction: Jurisdiction,
    tz: str | None = None,
) -> datetime | None:
    """The statutory due instant, or None for "without undue delay" (no fixed figure)."""
    if deadline.amount is None or deadline.unit is None:
        return None
    return due_at(
        start=start, amount=deadline.amount, unit=deadline.unit, jurisdiction=jurisdiction, tz=tz
    )


def extend(
    *,
    due: datetime,
    deadline: Deadline,
    jurisdiction: Jurisdiction,
    tz: str | None = None,
) -> datetime:
    """Move `due` by the deadline's extension, counted from `due` by the same rules.

    Allowing it only once is the caller's job: this function has no memory.
    """
    if deadline.extension is None or deadline.unit is None:
        raise NoExtension(f"no extension allowed ({deadline.source})")
    return due_at(
        start=due, amount=deadline.extension, unit=deadline.unit, jurisdiction=jurisdiction, tz=tz
    )


def earliest(*dues: datetime | None) -> datetime | None:
    """The first of the given due instants; None entries (no fixed figure) are skipped."""
    known = [due for due in dues if due is not None]
    return min(known) if known else None


def due_for_request(
    *,
    received_at: datetime,
    request_type: RequestType,
    jurisdiction: Jurisdiction,
    promise: Promise | None = None,
    tz: str | None = None,
) -> datetime | None:
    """The earlier of the statutory deadline and the tenant's promise, in this jurisdiction.

    The promise counts in the jurisdiction's zone and calendar, like the statute. None
    only when there is neither a statutory figure nor a promise.
    """
    deadline = deadline_for(request_type=request_type, jurisdiction=jurisdiction)
    statutory = (
        None
        if deadline is None
        else due_for(start=received_at, deadline=deadline, jurisdiction=jurisdiction, tz=tz)
    )
    promised = None
    if promise is not None:
        days, working_days = promise
        promised = due_at(
            start=received_at,
            amount=days,
            unit=Unit.WORKING_DAYS if working_days else Unit.DAYS,
            jurisdiction=jurisdiction,
            tz=tz,
        )
    return earliest(statutory, promised)
