"""A sealed value opens only where it was sealed: its column's purpose, its tenant, its
row (tenants/crypto.py). Copied anywhere else (another tenant's row, another row of the
same tenant, another column), it does not decrypt. Tokens sealed before the binding (v2:
purpose alone) still open, and `charter keys rotate` re-seals them bound."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenants import crypto, rotation

ids = st.one_of(st.uuids(), st.text(min_size=1, max_size=20).filter(lambda s: "\0" not in s))
places = st.tuples(st.sampled_from([p for _, _, p, _ in rotation.SEALED]), ids, ids)


@pytest.fixture
def keys(monkeypatch):
    # Restored after the test: the key is process-wide and app tests set their own.
    for name in ("_master", "_subkeys", "_keyring", "_current"):
        monkeypatch.setattr(crypto, name, getattr(crypto, name))
    crypto.configure("s" * 40)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=50), here=places, there=places)
def test_a_token_opens_only_where_it_was_sealed(keys, text, here, there):
    purpose, tenant_id, row_id = here
    token = crypto.encrypt(text, purpose=purpose, tenant_id=tenant_id, row_id=row_id)
    assert crypto.decrypt(token, purpose=purpose, tenant_id=tenant_id, row_id=row_id) == text
    if tuple(map(str, there)) != tuple(map(str, here)):
        with pytest.raises(InvalidTag):
            crypto.decrypt(token, purpose=there[0], tenant_id=there[1], row_id=there[2])
    # Relabelled as an unbound (v2) token, it opens nowhere either.
    with pytest.raises(InvalidTag):
        crypto.decrypt("v2" + token[2:], purpose=purpose, tenant_id=tenant_id, row_id=row_id)


def _legacy(text: str, purpose: str) -> str:
    """A v2 token as Charter sealed it before binding rows: the purpose alone."""
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key_id = crypto.current_key_id()
    nonce = os.urandom(12)
    sealed = AESGCM(crypto._ring()[key_id]).encrypt(nonce, text.encode(), purpose.encode())
    return f"v2.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def test_a_token_sealed_before_binding_opens_and_is_due_for_rotation(keys):
    token = _legacy("aziza@example.uz", "request-email")
    at = {"tenant_id": uuid.uuid4(), "row_id": uuid.uuid4()}
    assert crypto.decrypt(token, purpose="request-email", **at) == "aziza@example.uz"
    assert not crypto.sealed_with_current(token)  # `charter keys rotate` re-seals it, bound


async def test_rotation_binds_what_was_sealed_the_old_way(api):
    from tests.factories import create_tenant
    from tests.test_key_rotation import SUBMIT

    _, owner = await create_tenant(api, slug="acme")
    await api(
        SUBMIT,
        {"input": {"type": "ACCESS", "email": "aziza@example.uz", "subjectId": "v"}},
        token=owner,
    )
    from tenants.subject_requests.models import SubjectRequest
    from tenants.subject_requests.records import email_of

    request = await SubjectRequest.get(subject_id="v")
    await SubjectRequest.filter(id=request.id).update(
        email=_legacy("aziza@example.uz", "request-email")
    )
    counts = await rotation.rotate()
    assert counts["subject_request.email"] == 1
    request = await SubjectRequest.get(id=request.id)
    assert request.email.startswith(f"v3.{crypto.current_key_id()}.")
    assert email_of(request) == "aziza@example.uz"
    assert (await rotation.rotate())["subject_request.email"] == 0
