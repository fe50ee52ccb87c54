"""The vocabulary of breaches."""

from enum import StrEnum


class BreachStatus(StrEnum):
    OPEN = "OPEN"
    CONTAINED = "CONTAINED"
    CLOSED = "CLOSED"


class RiskLevel(StrEnum):
    LOW = "LOW"
    RISK = "RISK"  # GDPR: notify the authority
    HIGH = "HIGH"  # GDPR: notify the people too


class ClockKind(StrEnum):
    AUTHORITY_INITIAL = "AUTHORITY_INITIAL"
    AUTHORITY_FOLLOWUP = "AUTHORITY_FOLLOWUP"
    SUBJECTS = "SUBJECTS"


RISK_ORDER = {RiskLevel.LOW: 0, RiskLevel.RISK: 1, RiskLevel.HIGH: 2}

# Status moves forward only: what happened stays happened.
NEXT_STATUSES = {
    BreachStatus.OPEN: {BreachStatus.CONTAINED, BreachStatus.CLOSED},
    BreachStatus.CONTAINED: {BreachStatus.CLOSED},
    BreachStatus.CLOSED: set(),
}
