"""E-mail addresses out of free text: an SMTP server's refusal, an exception, a log line.

The address a person gave is personal data. Error texts are shown to tenant admins
(an outbox message's ``lastError``) and written to logs, where no address belongs: each
address in them becomes ``a***@example.com``, as everywhere Charter shows one.
"""

from __future__ import annotations

import re

from tenants.crypto import mask_email

__all__ = ["mask_emails"]

# RFC 5321 lengths bound every part, so the search stays linear on long texts without
# an "@" (a log line is no place for a regex that can take quadratic time).
_EMAIL = re.compile(
    r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?:[\w-]{1,63}\.){1,8}[\w-]{1,63}",
)


def mask_emails(text: str) -> str:
    """``text`` with every e-mail address in it masked."""
    if "@" not in text:
        return text
    return _EMAIL.sub(lambda found: mask_email(found.group()), text)
