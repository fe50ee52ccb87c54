"""Which days are working days, and in which time zone a day begins and ends.

A jurisdiction counts in its country's public calendar (the `holidays` package, moved
days off included). The EU has no calendar of its own: Reg. 1182/71 Art. 2(1) takes the
public holidays of the member state where the act is done, which Charter reads as the
member state of the controller's main establishment when the tenant names one
(`Tenant.main_establishment`); without one, weekends alone and Europe/Brussels
(shared/jurisdictions.md, "Which calendar").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from tenants.rules.table import Jurisdiction

# Nothing is closed for longer than this (the longest run of RU/KZ/KG days off is under
# two weeks); a calendar that says otherwise is broken, and a loop must not hang on it.
MAX_DAYS_OFF_IN_A_ROW = 60


@dataclass(frozen=True)
class Calendar:
    """A country's working days (None: Monday-Friday only) and the zone days count in."""

    country: str | None
    subdiv: str | None
    zone: ZoneInfo

    def is_working_day(self, day: date) -> bool:
        """Monday-Friday minus public holidays, plus weekend days decreed working days."""
        if self.country is None:
            return day.weekday() < 5
        table = _holidays(self.country, self.subdiv)
        # A transfer can be decreed in the next year's table (KZ's 2014 list works
        # 2013-12-28), so that year must be loaded before this year's Saturdays are judged.
        for year in (day.year, day.year + 1):
            if year not in table.years:
                table.get(date(year, 1, 1))  # populates the year (expand=True)
        return table.is_working_day(day)

    def add_working_days(self, day: date, amount: int) -> date:
        """The `amount`-th working day after `day` (`day` itself when amount is 0)."""
        while amount > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                amount -= 1
        return day

    def next_working_day(self, day: date) -> date:
        """`day` when it is a working day, else the first working day after it."""
        for _ in range(MAX_DAYS_OFF_IN_A_ROW):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within {MAX_DAYS_OFF_IN_A_ROW} days of {day}")


@cache
def _holidays(country: str, subdiv: str | None) -> holidays.HolidayBase:
    # Default category (PUBLIC) only: the WORKDAY category lists observances that are
    # working days (e.g. KG's 23 February), so asking for it would wrongly close them.
    # Moved working Saturdays live in `weekend_workdays`, which is_working_day() honours.
    return holidays.country_holidays(country, subdiv=subdiv)


class NotAMemberState(ValueError):
    """A main establishment outside the jurisdiction's member states."""


def calendar_for(jurisdiction: Jurisdiction, establishment: str | None = None) -> Calendar:
    """The calendar a jurisdiction's day-based periods count in for one tenant.

    ``establishment`` (ISO 3166-1 alpha-2) matters only where the table lists member
    states (EU): its holidays and time zone replace the weekends-only default. Elsewhere
    the jurisdiction's own country decides and the establishment is ignored.
    """
    if establishment is not None and jurisdiction.member_states:
        zone = jurisdiction.member_states.get(establishment)
        if zone is None:
            raise NotAMemberState(f"{establishment!r} is not a member state of {jurisdiction.code}")
        return Calendar(country=establishment, subdiv=None, zone=ZoneInfo(zone))
    return Calendar(
        country=jurisdiction.calendar,
        subdiv=jurisdiction.calendar_subdiv,
        zone=ZoneInfo(jurisdiction.timezone),
    )
