"""Domain errors: each carries a stable ``code`` the API hands to clients unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    NOT_FOUND = "NOT_FOUND"
    SLUG_TAKEN = "SLUG_TAKEN"
    DOMAIN_TAKEN = "DOMAIN_TAKEN"
    DUPLICATE = "DUPLICATE"
    INVALID_LOCALE = "INVALID_LOCALE"
    UNKNOWN_JURISDICTION = "UNKNOWN_JURISDICTION"
    INVALID_DOMAIN = "INVALID_DOMAIN"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PROMISE = "INVALID_PROMISE"
    ROLE_REQUIRED = "ROLE_REQUIRED"
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"
    ROLE_TOO_HIGH = "ROLE_TOO_HIGH"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    LAST_OWNER_KEY = "LAST_OWNER_KEY"
    UNKNOWN_TAXONOMY_KEY = "UNKNOWN_TAXONOMY_KEY"
    INVALID_DURATION = "INVALID_DURATION"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    VERSION_FROZEN = "VERSION_FROZEN"
    MISSING_DEFAULT_TRANSLATION = "MISSING_DEFAULT_TRANSLATION"
    INVALID_EFFECTIVE_AT = "INVALID_EFFECTIVE_AT"
    KIND_MISMATCH = "KIND_MISMATCH"
    UNDISCLOSED_PURPOSE = "UNDISCLOSED_PURPOSE"
    NO_PUBLISHED_POLICY = "NO_PUBLISHED_POLICY"
    # No longer raised: consent negotiates the locale as publishedPolicy does. Kept so a
    # stored or matched code keeps its meaning.
    LOCALE_NOT_AVAILABLE = "LOCALE_NOT_AVAILABLE"
    INVALID_URL = "INVALID_URL"
    TOO_MANY = "TOO_MANY"
    FORBIDDEN_FIELD = "FORBIDDEN_FIELD"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    INVALID_TOKEN = "INVALID_TOKEN"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_LOCKED = "TOKEN_LOCKED"
    EXTENSION_NOT_ALLOWED = "EXTENSION_NOT_ALLOWED"
    EXTENSION_TOO_LATE = "EXTENSION_TOO_LATE"
    NOT_EU_MEMBER_STATE = "NOT_EU_MEMBER_STATE"
    ALREADY_SATISFIED = "ALREADY_SATISFIED"
    UNKNOWN_EVENT = "UNKNOWN_EVENT"
    INVALID_TEMPLATE = "INVALID_TEMPLATE"
    ASSERTION_INVALID = "ASSERTION_INVALID"
    ASSERTION_EXPIRED = "ASSERTION_EXPIRED"
    ASSERTION_WRONG_TENANT = "ASSERTION_WRONG_TENANT"
    ASSERTION_WRONG_SUBJECT = "ASSERTION_WRONG_SUBJECT"
    ASSERTION_REPLAYED = "ASSERTION_REPLAYED"
    CLIENT_EVENT_ID_REUSED = "CLIENT_EVENT_ID_REUSED"
    NOT_RESTRICTED = "NOT_RESTRICTED"
    INCOMPLETE_CONTROLLER = "INCOMPLETE_CONTROLLER"
    TOO_COMPLEX = "TOO_COMPLEX"  # input that would take longer than its time budget
    INVALID_COLOR = "INVALID_COLOR"
    LOW_CONTRAST = "LOW_CONTRAST"
    IMPLIED_CONSENT_NOT_ALLOWED = "IMPLIED_CONSENT_NOT_ALLOWED"
    # startLedgerVerification: one full walk per tenant at a time (tenants/consent/jobs.py)
    VERIFICATION_IN_PROGRESS = "VERIFICATION_IN_PROGRESS"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (a path into it), what, and why."""

    field: tuple[str, ...] | None
    code: ErrorCode
    message: str


class DomainError(Exception):
    """Raised by services for failures the caller can fix; carries one or more problems."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    @classmethod
    def one(cls, code: ErrorCode, message: str, *field: str) -> DomainError:
        return cls(Problem(field or None, code, message))


class Problems:
    """Collects every problem in an input before raising, so a client fixes them in one go."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: ErrorCode, message: str, *field: str) -> None:
        self.items.append(Problem(field or None, code, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise DomainError(*self.items)
