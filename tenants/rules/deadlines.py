"""Deadline arithmetic: statutory clocks per the counting rules in shared/jurisdictions.md.

Day-based units count in the jurisdiction's local calendar (the event's local date is
day 0; the period ends at 23:59:59 local on its last day); HOURS count elapsed time. A
DAYS or MONTHS period whose last day is a weekend or public holiday ends on the next
working day where the rule table says so (`Deadline.rolls_under`: Reg. 1182/71 Art.
3(4), RU Civil Code Art. 193, ...); a tenant's own promise never rolls. Every result is
an aware UTC datetime, the form clocks are stored in.

``establishment`` is the tenant's main establishment (ISO 3166-1 alpha-2): for the EU it
picks the member state whose holidays and time zone count (`calendar.calendar_for`).
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenants.rights import RequestType
from tenants.rules.calendar import Calendar, calendar_for
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


def is_working_day(day: date, jurisdiction: Jurisdiction, establishment: str | None = None) -> bool:
    """Monday-Friday minus public holidays, plus weekend days officially made working days."""
    return calendar_for(jurisdiction, establishment).is_working_day(day)


def add_months(day: date, amount: int) -> date:
    """Same day of the month `amount` months later, clamped to that month's last day."""
    index = day.month - 1 + amount
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    # fold=1 takes the later of two 23:59:59s should a zone ever repeat that hour
    # (Brazil ended DST at midnight until 2019): the day ends at its last instant.
    return datetime.combine(day, END_OF_DAY, tzinfo=zone).replace(fold=1).astimezone(UTC)


def local_day(moment: datetime, jurisdiction: Jurisdiction, establishment: str | None) -> date:
    """The date ``moment`` falls on where the jurisdiction's periods count for a tenant (its
    main establishment's zone, in the EU). A period ends at 23:59:59 there, which is the
    next day in Brussels for an Irish or Portuguese tenant: name a due day with this."""
    return moment.astimezone(calendar_for(jurisdiction, establishment).zone).date()


def _last_day(*, start: datetime, amount: int, unit: Unit, calendar: Calendar) -> date:
    """The local date a day-based period of `amount` `unit` from `start` ends on, unrolled."""
    day = start.astimezone(calendar.zone).date()
    if unit is Unit.DAYS:
        return day + timedelta(days=amount)
    if unit is Unit.WORKING_DAYS:
        return calendar.add_working_days(day, amount)
    if unit is Unit.MONTHS:
        return add_months(day, amount)
    raise ValueError(f"{unit} is not a day-based unit")


def due_at(
    *,
    start: datetime,
    amount: int,
    unit: Unit,
    jurisdiction: Jurisdiction,
    establishment: str | None = None,
    rolls: bool = False,
) -> datetime:
    """When a clock of `amount` `unit` started at `start` runs out, as an aware UTC datetime.

    ``rolls``: a last day that is not a working day moves to the next working day (only
    meaningful for DAYS and MONTHS; callers pass ``Deadline.rolls_under is not None``).
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if amount < 0:
        raise ValueError(f"amount must not be negative, got {amount}")
    unit = Unit(unit)
    if unit is Unit.HOURS:
        # Add in UTC: aware arithmetic in a local zone adds wall-clock time, which would
        # make "72 hours" 71 or 73 across a DST switch. An instant never rolls.
        return start.astimezone(UTC) + timedelta(hours=amount)
    calendar = calendar_for(jurisdiction, establishment)
    day = _last_day(start=start, amount=amount, unit=unit, calendar=calendar)
    if rolls:
        day = calendar.next_working_day(day)
    return end_of_day(day, calendar.zone)


def due_for(
    *,
    start: datetime,
    deadline: Deadline,
    jurisdiction: Jurisdiction,
    establishment: str | None = None,
    rolled: bool = True,
) -> datetime | None:
    """The statutory due instant, rolled where the table says (``rolled=False``: the
    period's own end); None for "without undue delay" (no fixed figure)."""
    if deadline.amount is None or deadline.unit is None:
        return None
    return due_at(
        start=start,
        amount=deadline.amount,
        unit=deadline.unit,
        jurisdiction=jurisdiction,
        establishment=establishment,
        rolls=rolled and deadline.rolls_under is not None,
    )


def period_end(
    *,
    start: datetime,
    deadline: Deadline,
    jurisdiction: Jurisdiction,
    establishment: str | None = None,
) -> datetime:
    """The end of the period's own last day, before any roll (what an extension counts
    from). Raises ValueError for "without undue delay", which has no end."""
    end = due_for(
        start=start,
        deadline=deadline,
        jurisdiction=jurisdiction,
        establishment=establishment,
        rolled=False,
    )
    if end is None:
        raise ValueError(f"no fixed period ({deadline.source})")
    return end


def extend(
    *,
    end: datetime,
    deadline: Deadline,
    jurisdiction: Jurisdiction,
    establishment: str | None = None,
) -> datetime:
    """The extended due instant: the extension counted from `end`, the first period's own
    end before rolling (period_end), and then rolled itself
    (shared/jurisdictions.md, "Extensions").

    Allowing it only once, and only in time, is the caller's job: this has no memory.
    """
    if deadline.extension is None or deadline.unit is None:
        raise NoExtension(f"no extension allowed ({deadline.source})")
    return due_at(
        start=end,
        amount=deadline.extension,
        unit=deadline.unit,
        jurisdiction=jurisdiction,
        establishment=establishment,
        rolls=deadline.rolls_under is not None,
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
    establishment: str | None = None,
) -> datetime | None:
    """The earlier of the statutory deadline and the tenant's promise, in this jurisdiction.

    The promise counts in the jurisdiction's zone and calendar, like the statute, but
    never rolls: it is the tenant's own public commitment, not a statutory period. None
    only when there is neither a statutory figure nor a promise.
    """
    deadline = deadline_for(request_type=request_type, jurisdiction=jurisdiction)
    statutory = (
        None
        if deadline is None
        else due_for(
            start=received_at,
            deadline=deadline,
            jurisdiction=jurisdiction,
            establishment=establishment,
        )
    )
    promised = None
    if promise is not None:
        days, working_days = promise
        promised = due_at(
            start=received_at,
            amount=days,
            unit=Unit.WORKING_DAYS if working_days else Unit.DAYS,
            jurisdiction=jurisdiction,
            establishment=establishment,
        )
    return earliest(statutory, promised)
