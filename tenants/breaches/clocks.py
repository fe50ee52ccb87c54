"""Which clocks a breach starts, and when each runs out, from the rule table.

A breach counts from an instant, not a day: HOURS are exact and never roll, and
WORKING_DAYS end at the same local time on the N-th working day (reported Friday 18:00 ->
Monday 18:00). DAYS and MONTHS end with their last day and roll to the next working day
where the rule table says so, as for requests (US-CA's 30 and 15 days: Cal. Civ. Code 10,
Code Civ. Proc. 12a).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

from tenants.breaches.kinds import RISK_ORDER, ClockKind, RiskLevel
from tenants.rules import JURISDICTIONS, Deadline, Jurisdiction
from tenants.rules.calendar import calendar_for
from tenants.rules.deadlines import due_for
from tenants.rules.table import Unit

OBLIGATIONS = (
    ("breach_authority", ClockKind.AUTHORITY_INITIAL),
    ("breach_authority_followup", ClockKind.AUTHORITY_FOLLOWUP),
    ("breach_subjects", ClockKind.SUBJECTS),
)
DEFAULT_MIN_RISK = {
    ClockKind.AUTHORITY_INITIAL: RiskLevel.LOW,
    ClockKind.AUTHORITY_FOLLOWUP: RiskLevel.LOW,
    ClockKind.SUBJECTS: RiskLevel.HIGH,
}
DETECTION = "detection"
SUBJECT_NOTICE = "subject_notice"


@dataclass(frozen=True)
class Moments:
    detected_at: datetime
    aware_at: datetime
    subjects_notified_at: datetime | None = None


@dataclass(frozen=True)
class Plan:
    jurisdiction: str
    kind: ClockKind
    started_at: datetime | None  # None: not started yet (waits for its start event)
    due_at: datetime | None
    opens: bool
    reason: str  # why it opens or not, for the timeline


def plans(
    *,
    code: str,
    risk: RiskLevel,
    moments: Moments,
    approx_subjects: int | None,
    establishment: str | None = None,
) -> list[Plan]:
    """Every clock the rule table names for this jurisdiction, and whether it opens now.

    ``establishment``: the tenant's main establishment (EU: whose calendar counts)."""
    rules = JURISDICTIONS[code]
    out = []
    for obligation, kind in OBLIGATIONS:
        deadline = rules.deadlines.get(obligation)
        if deadline is None:
            continue
        minimum = RiskLevel(deadline.min_risk or DEFAULT_MIN_RISK[kind])
        opens = RISK_ORDER[risk] >= RISK_ORDER[minimum]
        reason = f"{code} {kind}: opens at {minimum} risk ({deadline.source})"
        if opens and deadline.min_subjects and (approx_subjects or 0) < deadline.min_subjects:
            opens, reason = False, f"{code} {kind}: only from {deadline.min_subjects} people"
        start = _start(deadline, moments)
        out.append(
            Plan(
                jurisdiction=code,
                kind=kind,
                started_at=start,
                due_at=None if start is None else clock_due(deadline, start, rules, establishment),
                opens=opens and start is not None,
                reason=reason,
            )
        )
    return out


def _start(deadline: Deadline, moments: Moments) -> datetime | None:
    if deadline.start == DETECTION:
        return moments.detected_at
    if deadline.start == SUBJECT_NOTICE:
        return moments.subjects_notified_at
    return moments.aware_at  # awareness, knowledge, discovery


def clock_due(
    deadline: Deadline, start: datetime, rules: Jurisdiction, establishment: str | None = None
) -> datetime | None:
    if deadline.amount is None or deadline.unit is None:
        return None  # without undue delay: no figure to count
    if deadline.unit == Unit.WORKING_DAYS:
        calendar = calendar_for(rules, establishment)
        local = start.astimezone(calendar.zone)
        day = calendar.add_working_days(local.date(), deadline.amount)
        moment = time(local.hour, local.minute, local.second, local.microsecond)
        return datetime.combine(day, moment, tzinfo=calendar.zone).astimezone(UTC)
    return due_for(start=start, deadline=deadline, jurisdiction=rules, establishment=establishment)
