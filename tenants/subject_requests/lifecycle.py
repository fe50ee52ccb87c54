"""Which action may move a request from which status, as one table."""

from __future__ import annotations

from enum import StrEnum

from tenants.subject_requests.models import RequestStatus


class RequestAction(StrEnum):
    START = "START"
    EXTEND = "EXTEND"
    COMPLETE = "COMPLETE"
    REJECT = "REJECT"


OPEN = (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS, RequestStatus.EXTENDED)

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[RequestAction, tuple[tuple[RequestStatus, ...], RequestStatus]] = {
    RequestAction.START: ((RequestStatus.RECEIVED,), RequestStatus.IN_PROGRESS),
    RequestAction.EXTEND: (
        (RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS),
        RequestStatus.EXTENDED,
    ),
    RequestAction.COMPLETE: (OPEN, RequestStatus.COMPLETED),
    RequestAction.REJECT: ((RequestStatus.UNVERIFIED, *OPEN), RequestStatus.REJECTED),
}

# The person must be told why their request is refused or delayed.
NOTE_REQUIRED = frozenset({RequestAction.EXTEND, RequestAction.REJECT})


def next_status(status: RequestStatus, action: RequestAction) -> RequestStatus | None:
    sources, target = TRANSITIONS[action]
    return target if status in sources else None
