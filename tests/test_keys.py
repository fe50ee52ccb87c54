"""API keys: creation per role, secrets shown once and stored hashed, revocation."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tortoise import connections

from tenants import crypto
from tenants.tenancy.models import ApiKey
from tests.factories import CREATE_KEY, create_key, create_tenant, error_codes

REVOKE = """
mutation($id: ID!) {
  revokeApiKey(id: $id) { apiKey { id revokedAt } userErrors { field code message } }
}"""
VIEWER = "{ viewer { key { id role lastUsedAt } } }"


async def test_keys_of_each_kind(api):
    _, owner = await create_tenant(api)
    for role in ("OWNER", "ADMIN", "EDITOR", "AUDITOR"):
        key, secret = await create_key(api, owner, name=f"{role} key", role=role)
        assert key["role"] == role and key["publishable"] is False
        assert secret.startswith("sk_") and key["prefix"] == secret[:11]
    key, secret = await create_key(api, owner, name="site", publishable=True)
    assert key["role"] is None and key["publishable"] is True
    assert secret.startswith("pk_")


async def test_secrets_are_shown_once_and_stored_only_as_hashes(api):
    _, owner = await create_tenant(api)
    _, secret = await create_key(api, owner, name="ci", role="EDITOR")
    listed = await api("{ apiKeys { name prefix } }", token=owner)
    assert secret not in str(listed)
    rows = await connections.get("default").execute_query_dict("SELECT * FROM api_key")
    assert secret not in str(rows) and owner not in str(rows)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"name": "x"}, "ROLE_REQUIRED"),
        ({"name": "x", "role": "EDITOR", "publishable": True}, "ROLE_NOT_ALLOWED"),
        ({"name": "  ", "role": "EDITOR"}, "REQUIRED"),
        ({"name": "x" * 101, "role": "EDITOR"}, "TOO_LONG"),
    ],
)
async def test_create_key_rejects_bad_input(api, payload, code):
    _, owner = await create_tenant(api)
    body = await api(CREATE_KEY, {"input": payload}, token=owner)
    result = body["data"]["createApiKey"]
    assert result["apiKey"] is None and result["secret"] is None
    assert [e["code"] for e in result["userErrors"]] == [code]
    assert len((await api("{ apiKeys { id } }", token=owner))["data"]["apiKeys"]) == 1


async def test_admin_cannot_mint_or_revoke_owner_keys(api):
    _, owner = await create_tenant(api)
    owner_key = (await api("{ viewer { key { id } } }", token=owner))["data"]["viewer"]["key"]
    _, admin = await create_key(api, owner, name="admin", role="ADMIN")
    body = await api(CREATE_KEY, {"input": {"name": "x", "role": "OWNER"}}, token=admin)
    assert [e["code"] for e in body["data"]["createApiKey"]["userErrors"]] == ["ROLE_TOO_HIGH"]
    body = await api(REVOKE, {"id": owner_key["id"]}, token=admin)
    assert [e["code"] for e in body["data"]["revokeApiKey"]["userErrors"]] == ["ROLE_TOO_HIGH"]
    _, editor = await create_key(api, admin, name="editor", role="EDITOR")
    assert editor.startswith("sk_")


async def test_revoked_key_is_refused_at_once(api):
    _, owner = await create_tenant(api)
    key, editor = await create_key(api, owner, name="editor", role="EDITOR")
    assert (await api(VIEWER, token=editor))["data"]["viewer"]["key"]["role"] == "EDITOR"

    body = await api(REVOKE, {"id": key["id"]}, token=owner)
    assert body["data"]["revokeApiKey"]["apiKey"]["revokedAt"] is not None

    refused = await api(VIEWER, token=editor)
    assert refused.get("data") is None  # refused by the gate: nothing ran
    assert error_codes(refused) == ["UNAUTHENTICATED"]
    again = await api(REVOKE, {"id": key["id"]}, token=owner)
    assert [e["code"] for e in again["data"]["revokeApiKey"]["userErrors"]] == ["ALREADY_REVOKED"]


async def test_last_owner_key_cannot_be_revoked(api):
    _, owner = await create_tenant(api)
    own = (await api(VIEWER, token=owner))["data"]["viewer"]["key"]
    body = await api(REVOKE, {"id": own["id"]}, token=owner)
    assert [e["code"] for e in body["data"]["revokeApiKey"]["userErrors"]] == ["LAST_OWNER_KEY"]
    second, _ = await create_key(api, owner, name="second owner", role="OWNER")
    body = await api(REVOKE, {"id": own["id"]}, token=owner)
    assert body["data"]["revokeApiKey"]["userErrors"] == []
    assert second["role"] == "OWNER"


@pytest.mark.parametrize("key_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
async def test_revoking_an_unknown_key_is_not_found(api, key_id):
    _, owner = await create_tenant(api)
    body = await api(REVOKE, {"id": key_id}, token=owner)
    assert [e["code"] for e in body["data"]["revokeApiKey"]["userErrors"]] == ["NOT_FOUND"]


async def test_last_used_at_is_written_at_most_once_a_minute(api):
    _, owner = await create_tenant(api)
    first = (await api(VIEWER, token=owner))["data"]["viewer"]["key"]
    assert first["lastUsedAt"] is not None
    second = (await api(VIEWER, token=owner))["data"]["viewer"]["key"]
    assert second["lastUsedAt"] == first["lastUsedAt"]  # no write for the second request

    stale = datetime.now(UTC) - timedelta(minutes=5)
    await ApiKey.filter(id=first["id"]).update(last_used_at=stale)
    third = (await api(VIEWER, token=owner))["data"]["viewer"]["key"]
    assert datetime.fromisoformat(third["lastUsedAt"]) > stale + timedelta(minutes=4)


@pytest.mark.parametrize(
    "header", ["Bearer sk_unknown", "Bearer", "Basic abc", "Bearer pk_" + "x" * 300, "Token x"]
)
async def test_unusable_authorization_headers_are_unauthenticated(client, header):
    response = await client.post(
        "/graphql", json={"query": "{ viewer { key { id } } }"}, headers={"Authorization": header}
    )
    assert response.status_code == 200
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


@settings(max_examples=100, deadline=None)
@given(
    value=st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
    purpose=st.sampled_from(["api-key", "subject", "other"]),
)
def test_a_keyed_hash_is_hmac_sha256_under_its_purposes_subkey(value, purpose):
    # configure() also rebuilds the encryption keyring from the secret: restore it too, or
    # this process seals with a key no worker or CLI process of the same test run holds.
    saved = crypto._master, crypto._subkeys, crypto._keyring, crypto._current
    try:
        for secret in ("a" * 40, "b" * 40):  # the hash follows the configured key
            crypto.configure(secret)
            subkey = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
            expected = hmac.new(subkey, value.encode(), hashlib.sha256).hexdigest()
            assert crypto.keyed_hash(value, purpose=purpose) == expected
            assert crypto.keyed_hash(value, purpose=purpose) == expected  # the copy, again
    finally:
        crypto._master, crypto._subkeys, crypto._keyring, crypto._current = saved
