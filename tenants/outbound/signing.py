"""Standard Webhooks signatures (https://www.standardwebhooks.com/), symmetric scheme.

A receiver can check our deliveries with any Standard Webhooks library: the secret is
"whsec_" + base64 of the key, and the signature is "v1," + base64 of
HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping

__all__ = ["PREFIX", "headers", "new_secret", "sign", "verify"]

PREFIX = "whsec_"
VERSION = "v1"
# The spec asks for at least 24 random bytes and allows up to 64.
KEY_BYTES = 32
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64
DEFAULT_TOLERANCE = 300

# ASCII digits only: int() would also take " 12", "+12", "1_2" and non-ASCII digits, and
# the signed string must be exactly what the header carried.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def new_secret() -> str:
    """A fresh endpoint secret, shown to the tenant once."""
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(PREFIX)
    try:
        # Other producers hand out unpadded secrets; restore the padding before decoding.
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("the webhook secret is not valid base64") from error
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(f"a webhook secret has {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes")
    return key


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def _check_id(msg_id: str) -> None:
    # A "." in the id would let one signed string be split into id, timestamp and body
    # in more than one way; the spec forbids it.
    if not msg_id or "." in msg_id:
        raise ValueError("a webhook message id is non-empty and has no '.'")


def sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one delivery attempt."""
    _check_id(msg_id)
    if timestamp < 0:
        raise ValueError("the timestamp is seconds since the epoch")
    digest = _digest(_key(secret), msg_id, timestamp, body)
    return f"{VERSION},{base64.b64encode(digest).decode('ascii')}"


def headers(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt.

    The timestamp is the attempt's, not the event's: a retry is signed afresh, so a
    receiver's replay window does not reject a late but genuine retry.
    """
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }


def verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether the headers carry a valid signature of ``body`` made within ``tolerance``
    seconds of ``now`` (either side: a clock running ahead is as suspect as a replay).

    False for anything malformed, so a receiver needs one branch; a malformed *secret*
    is the caller's mistake and raises ValueError.
    """
    key = _key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    offered = lowered.get("webhook-signature", "")
    if not msg_id or "." in msg_id or not _TIMESTAMP.fullmatch(stamp) or not offered:
        return False
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = _digest(key, msg_id, timestamp, body)
    # Several signatures are sent while a secret is rotated; any one that matches will do.
    # Other versions (v1a is ed25519) are skipped, not failed: a later key may use them.
    for entry in offered.split(" "):
        version, _, encoded = entry.partition(",")
        if version != VERSION:
            continue
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(candidate, expected):
            return True
    return False
