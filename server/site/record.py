"""The banner's first-party record of a visitor's choice, as the privacy center reads and
writes it: the cookie `charter_consent`, URL-encoded JSON, the same shape consent.js keeps.

  s   the subject id the banner minted ("cb_" + 32 hex digits): pseudonymous, random
  v   the policy version the person chose under;  l  its locale
  m   the method of the latest event;  c  true once the person chose (not only a signal)
  g   purposes granted;  r  purposes refused;  t  when (Unix seconds);  id  the receipt
  e   a clientEventId still to be sent (consent.js retries it);  ev  its version

The record is what the visitor's own browser holds; the privacy center shows it and
changes it through recordConsent, and never reads the ledger for it: a cookie anyone can
write must not open anyone else's consent history.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from tenants import untrusted_json

NAME = "charter_consent"
KEEP_SECONDS = 34_128_000  # 13 months, the longest a consent cookie should live
SUBJECT = re.compile(r"^cb_[0-9a-f]{32}$")
PURPOSE = re.compile(r"^[a-z_.]{1,128}$")
MAX_PURPOSES = 200


@dataclass(frozen=True)
class Record:
    subject: str
    version: int
    locale: str
    granted: frozenset[str]
    refused: frozenset[str]
    chosen: bool
    method: str = "FORM"
    receipt: str | None = None
    at: int = field(default_factory=lambda: int(time.time()))

    def json(self) -> str:
        return json.dumps(
            {
                "s": self.subject,
                "v": self.version,
                "l": self.locale,
                "m": self.method,
                "c": self.chosen,
                "g": sorted(self.granted),
                "r": sorted(self.refused),
                "t": self.at,
                **({"id": self.receipt} if self.receipt else {}),
            },
            separators=(",", ":"),
        )


def new_subject() -> str:
    return "cb_" + secrets.token_hex(16)


def read(request: Request) -> Record | None:
    """The visitor's record, or None when absent or not in the banner's shape."""
    raw = request.cookies.get(NAME)
    if not raw or len(raw) > 4096:
        return None
    try:
        value = untrusted_json.loads(unquote(raw))
        granted, refused = value["g"], value["r"]
        ok = (
            isinstance(value, dict)
            and isinstance(value["s"], str)
            and SUBJECT.match(value["s"])
            and isinstance(value["v"], int)
            and isinstance(value.get("l"), str)
            and isinstance(granted, list)
            and isinstance(refused, list)
            and len(granted) + len(refused) <= MAX_PURPOSES
            and all(isinstance(p, str) and PURPOSE.match(p) for p in granted + refused)
        )
    except (ValueError, KeyError, TypeError):
        return None
    if not ok:
        return None
    return Record(
        subject=value["s"],
        version=value["v"],
        locale=value["l"][:35],
        granted=frozenset(granted),
        refused=frozenset(refused),
        chosen=bool(value.get("c")),
        method=str(value.get("m", "BANNER"))[:16],
        receipt=value.get("id") if isinstance(value.get("id"), str) else None,
    )


def write(response: Response, record: Record, *, path: str, secure: bool) -> None:
    """Readable by consent.js (so not HttpOnly): it holds no secret, only the choice."""
    response.set_cookie(
        NAME,
        quote(record.json(), safe=""),
        max_age=KEEP_SECONDS,
        path=path,
        secure=secure,
        httponly=False,
        samesite="lax",
    )
