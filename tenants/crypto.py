"""Keyed hashing and field encryption; ``configure`` sets the process-wide key at start-up.

API keys and tokens are long random strings, so a keyed SHA-256 (HMAC) is the right
store: a slow password hash would only cost time on every request. Each use derives
its own subkey, so a hash made for one purpose is useless for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_master: bytes | None = None


_subkeys: dict[str, bytes] = {}


def configure(secret_key: str) -> None:
    global _master, _subkeys
    _master = secret_key.encode()
    _subkeys = {}


def _subkey(purpose: str) -> bytes:
    # Derived once per purpose: the ledger hashes thousands of values per batch.
    if purpose not in _subkeys:
        if _master is None:
            raise RuntimeError("tenants.crypto.configure() was not called at start-up")
        _subkeys[purpose] = hmac.new(_master, purpose.encode(), hashlib.sha256).digest()
    return _subkeys[purpose]


def keyed_hash(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 of ``value`` under the subkey for ``purpose``."""
    return hmac.new(_subkey(purpose), value.encode(), hashlib.sha256).hexdigest()


# Field encryption: AES-256-GCM (authenticated), key derived from the same master key.
# A token is "v1.<base64url(nonce | ciphertext)>"; the column's purpose is bound in as
# associated data, so a ciphertext copied into another column does not decrypt.
_TOKEN_VERSION = "v1"
_NONCE_BYTES = 12


def _cipher() -> AESGCM:
    return AESGCM(_subkey("field-encryption:v1"))


def encrypt(plaintext: str, *, purpose: str) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{_TOKEN_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, purpose: str) -> str:
    version, _, payload = token.partition(".")
    if version != _TOKEN_VERSION:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload)
    return _cipher().decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], purpose.encode()).decode()


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash to find an encrypted value by equality without decrypting every row."""
    return keyed_hash(value.strip().lower(), purpose=f"blind-index:{purpose}")


def mask_email(email: str) -> str:
    """ "aziza@example.com" -> "a***@example.com": enough to recognise, not to use."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
