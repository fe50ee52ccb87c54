"""DateTime as Charter accepts it: ISO 8601, read as UTC when no offset is given, and
within years a compliance record can mean (an instant near year 1 or 9999 would overflow
every deadline computed from it)."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

EARLIEST_YEAR = 1900
LATEST_YEAR = 9000  # room for any deadline counted from it


def parse(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("a DateTime is an ISO 8601 string")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not EARLIEST_YEAR < moment.year < LATEST_YEAR:
        raise ValueError(f"a DateTime must fall between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return moment


DateTime = strawberry.scalar(
    name="DateTime",
    description="Date with time (isoformat)",
    serialize=lambda value: value.isoformat(),
    parse_value=parse,
)
