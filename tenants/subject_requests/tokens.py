"""One-time verification codes: short enough to type, useless after 5 wrong tries."""

from __future__ import annotations

import secrets
from datetime import timedelta

from tenants import crypto

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
LENGTH = 10  # 50 bits: with 5 tries, guessing is hopeless
LIFETIME = timedelta(hours=24)
MAX_ATTEMPTS = 5


def mint() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def digest(token: str) -> str:
    return crypto.keyed_hash(token.strip().upper(), purpose="request-verification")
