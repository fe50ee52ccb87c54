"""Keyed hashing of secrets. The process-wide key is set once at start-up by ``configure``.

API keys and tokens are long random strings, so a keyed SHA-256 (HMAC) is the right
store: a slow password hash would only cost time on every request. Each use derives
its own subkey, so a hash made for one purpose is useless for another.
"""

from __future__ import annotations

import hashlib
import hmac

_master: bytes | None = None


def configure(secret_key: str) -> None:
    global _master
    _master = secret_key.encode()


def _subkey(purpose: str) -> bytes:
    if _master is None:
        raise RuntimeError("tenants.crypto.configure() was not called at start-up")
    return hmac.new(_master, purpose.encode(), hashlib.sha256).digest()


def keyed_hash(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 of ``value`` under the subkey for ``purpose``."""
    return hmac.new(_subkey(purpose), value.encode(), hashlib.sha256).hexdigest()
