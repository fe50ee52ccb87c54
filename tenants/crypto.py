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
# Per subkey, an HMAC that has absorbed it: each hash copies it. OpenSSL 3 sets up a fresh
# HMAC (hmac.digest) at about twice the cost of copying one, on every request's key.
_keyed: dict[bytes, hmac.HMAC] = {}


def configure(secret_key: str, encryption_keys: list[str] | None = None) -> None:
    """The secret key (hashes, blind indexes, commitments: never rotated, or every stored
    hash would break) and the encryption keys, newest first (rotated freely)."""
    global _master, _subkeys, _keyed
    _master = secret_key.encode()
    _subkeys, _keyed = {}, {}
    configure_encryption(list(encryption_keys or []))


def _subkey(purpose: str) -> bytes:
    # Derived once per purpose: the ledger hashes thousands of values per batch.
    if purpose not in _subkeys:
        if _master is None:
            raise RuntimeError("tenants.crypto.configure() was not called at start-up")
        _subkeys[purpose] = hmac.new(_master, purpose.encode(), hashlib.sha256).digest()
    return _subkeys[purpose]


def keyed_hash(value: str, *, purpose: str) -> str:
    """Hex HMAC-SHA256 of ``value`` under the subkey for ``purpose``."""
    subkey = _subkey(purpose)
    keyed = _keyed.get(subkey)
    if keyed is None:
        keyed = _keyed[subkey] = hmac.new(subkey, digestmod=hashlib.sha256)
    mac = keyed.copy()
    mac.update(value.encode())
    return mac.hexdigest()


# Field encryption: AES-256-GCM (authenticated). A token is
# "v3.<key id>.<base64url(nonce | ciphertext)>": the key id names which encryption key
# sealed it, so old keys keep opening old values until `charter keys rotate` has
# re-sealed them all. The associated data binds the column's purpose, the tenant and the
# row (its id, or its unique key) the value belongs to: a ciphertext copied into another
# column, another tenant's row or another row of the same tenant does not decrypt.
# v1/v2 tokens (sealed before v3) bound the purpose alone: they still open, and `charter
# keys rotate` re-seals them as v3; a v3 token relabelled v2 does not open.
_NONCE_BYTES = 12
_keyring: dict[str, bytes] = {}  # key id -> AES key; the first is the one that seals
_current: str | None = None


def configure_encryption(keys: list[str]) -> None:
    """Encryption keys, newest first. The key derived from the secret key (the default
    when none is set) always stays readable, so moving off it needs no old-key setting."""
    global _keyring, _current
    material = [hashlib.sha256(key.encode()).digest() for key in keys]
    material.append(_subkey("field-encryption:v1"))
    _keyring = {hashlib.sha256(key).hexdigest()[:8]: key for key in material}
    _current = next(iter(_keyring))


def _ring() -> dict[str, bytes]:
    if not _keyring:
        configure_encryption([])
    return _keyring


def current_key_id() -> str:
    _ring()
    return _current


def _bound(purpose: str, tenant_id: object, row_id: object) -> bytes:
    # NUL cannot occur in a purpose, a UUID or a subject id we store (PostgreSQL text
    # refuses it), so the three parts cannot run into each other.
    return f"{purpose}\0{tenant_id}\0{row_id}".encode()


def encrypt(plaintext: str, *, purpose: str, tenant_id: object, row_id: object) -> str:
    """A v3 token of ``plaintext`` that opens only for the same purpose, tenant and row."""
    key_id = current_key_id()
    nonce = os.urandom(_NONCE_BYTES)
    associated = _bound(purpose, tenant_id, row_id)
    sealed = AESGCM(_ring()[key_id]).encrypt(nonce, plaintext.encode(), associated)
    return f"v3.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str, *, purpose: str, tenant_id: object, row_id: object) -> str:
    """The plaintext of a token sealed for this purpose, tenant and row; raises
    ``cryptography.exceptions.InvalidTag`` for one sealed for anything else."""
    version, _, rest = token.partition(".")
    associated = _bound(purpose, tenant_id, row_id)
    if version == "v1":  # sealed before key ids: the key derived from the secret key
        key, payload, associated = _subkey("field-encryption:v1"), rest, purpose.encode()
    elif version in ("v2", "v3"):
        key_id, _, payload = rest.partition(".")
        if key_id not in _ring():
            raise ValueError(f"no encryption key {key_id!r}: add it to the old keys")
        key = _ring()[key_id]
        if version == "v2":  # sealed before rows were bound: the purpose alone
            associated = purpose.encode()
    else:
        raise ValueError(f"unknown ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(payload)
    return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated).decode()


def sealed_with_current(token: str) -> bool:
    """Sealed as v3 under the current key: nothing for `charter keys rotate` to do."""
    return token.startswith(f"v3.{current_key_id()}.")


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed hash to find an encrypted value by equality without decrypting every row."""
    return keyed_hash(value.strip().lower(), purpose=f"blind-index:{purpose}")


def mask_email(email: str) -> str:
    """ "aziza@example.com" -> "a***@example.com": enough to recognise, not to use."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
