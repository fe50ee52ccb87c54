"""The data-subject rights Charter handles; shared by tenants' promises, policies and requests."""

from enum import StrEnum


class RequestType(StrEnum):
    ACCESS = "ACCESS"
    RECTIFICATION = "RECTIFICATION"
    ERASURE = "ERASURE"
    RESTRICTION = "RESTRICTION"
    OBJECTION = "OBJECTION"
    PORTABILITY = "PORTABILITY"
    WITHDRAW_CONSENT = "WITHDRAW_CONSENT"
