"""The principal cache (server.principals) against real servers: a key held in memory is
refused the moment it is revoked, over HTTP and over sockets, in the process that revoked
it and in another; a revocation whose message was lost is honoured within the stated
bound; a tenant's change reaches requests that authenticate from memory."""

from __future__ import annotations

import asyncio
import copy
import time
from datetime import UTC, datetime

from server.principals import TRUST_SECONDS
from tenants.tenancy import keys
from tenants.tenancy.models import ApiKey
from tenants.tenancy.revocations import GENERATION
from tests.factories import create_key, create_tenant, error_codes
from tests.servers import serve
from tests.test_gate_websocket import REQUESTS, Socket

VIEWER = {"query": "{ viewer { tenant { name } key { role } } }"}
REVOKE = "mutation($id: ID!) { revokeApiKey(id: $id) { userErrors { code } } }"
SLACK_SECONDS = 1.5  # two busy cores and two servers: scheduling, not staleness


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def viewer(http, token: str) -> dict:
    return (await http.post("/graphql", json=VIEWER, headers=bearer(token))).json()


async def revoke(http, owner: str, key_id: str) -> None:
    answer = await http.post(
        "/graphql", json={"query": REVOKE, "variables": {"id": key_id}}, headers=bearer(owner)
    )
    assert answer.json()["data"]["revokeApiKey"]["userErrors"] == [], answer.text


async def test_a_cached_key_is_refused_at_once_in_the_process_that_revoked_it(app, client, api):
    _, owner = await create_tenant(api, slug="acme")
    admin_key, admin = await create_key(api, owner, name="admin", role="ADMIN")
    for _ in range(3):
        assert (await viewer(client, admin))["data"]["viewer"]["key"]["role"] == "ADMIN"
    principals = app.state.principals
    assert len(principals) == 2 and principals.size_bytes > 0  # owner's and admin's
    await revoke(client, owner, admin_key["id"])
    assert error_codes(await viewer(client, admin)) == ["UNAUTHENTICATED"]
    assert len(principals) == 1


async def test_a_tenants_change_reaches_a_cached_key_at_once(app, client, api):
    _, owner = await create_tenant(api, slug="acme")
    assert (await viewer(client, owner))["data"]["viewer"]["tenant"]["name"] == "acme Ltd"
    renamed = await api(
        'mutation { updateTenant(input: {name: "Acme Two"}) { userErrors { code } } }',
        token=owner,
    )
    assert renamed["data"]["updateTenant"]["userErrors"] == []
    assert (await viewer(client, owner))["data"]["viewer"]["tenant"]["name"] == "Acme Two"


async def test_revocation_in_one_process_is_honoured_at_once_by_another(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    admin_key, admin = await create_key(api, owner, name="admin", role="ADMIN")
    async with serve(settings) as a, serve(settings) as b:
        for _ in range(3):  # B now holds the key in memory
            assert (await viewer(b, admin))["data"]["viewer"]["key"]["role"] == "ADMIN"
        await revoke(a, owner, admin_key["id"])
        assert error_codes(await viewer(b, admin)) == ["UNAUTHENTICATED"]
        assert error_codes(await viewer(a, admin)) == ["UNAUTHENTICATED"]


async def test_a_revocation_whose_message_was_lost_is_honoured_within_the_bound(app, api, settings):
    _, owner = await create_tenant(api, slug="acme")
    admin_key, admin = await create_key(api, owner, name="admin", role="ADMIN")
    async with serve(settings) as b:
        assert (await viewer(b, admin))["data"]["viewer"]["key"]["role"] == "ADMIN"
        # Revoked in the database with no message at all: the cached key still answers,
        # which shows B authenticates from memory...
        await ApiKey.filter(id=admin_key["id"]).update(revoked_at=datetime.now(UTC))
        assert (await viewer(b, admin))["data"]["viewer"]["key"]["role"] == "ADMIN"
        # ...until the generation a revocation raises is seen, message or none.
        await app.state.redis.incr(GENERATION)
        raised = time.monotonic()
        while error_codes(await viewer(b, admin)) != ["UNAUTHENTICATED"]:
            assert time.monotonic() - raised < TRUST_SECONDS + SLACK_SECONDS
            await asyncio.sleep(0.05)


async def test_a_socket_on_another_process_is_refused_and_its_subscriptions_end(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    admin_key, admin = await create_key(api, owner, name="admin", role="ADMIN")
    async with (
        serve(settings) as a,
        serve(settings) as b,
        Socket.open(b.base_url.port, admin) as socket,
    ):
        live = await socket.start(REQUESTS)
        await asyncio.sleep(0.3)
        for _ in range(2):  # the socket's operations authenticate from B's memory
            answer = await socket.run("{ viewer { key { role } } }")
            assert answer["data"]["viewer"]["key"]["role"] == "ADMIN"
        await revoke(a, owner, admin_key["id"])
        started = time.monotonic()
        ended = await socket.receive(seconds=5)
        assert ended["id"] == live and ended["type"] == "error"
        assert [e["extensions"]["code"] for e in ended["payload"]] == ["UNAUTHENTICATED"]
        assert time.monotonic() - started < 5
        refused = await socket.run("{ viewer { key { role } } }")
        assert error_codes(refused) == ["UNAUTHENTICATED"]


async def test_a_cache_hit_is_a_copy_as_copy_copy_would_make_it(app, api):
    _, owner = await create_tenant(api)
    principals = app.state.principals
    key_hash = keys.digest(owner)
    cached = principals.put(
        key_hash, await keys.authenticate_hash(key_hash), epoch=principals.epoch
    )
    held = principals._entries[key_hash].principal
    for twin, model in ((cached.key, held.key), (cached.tenant, held.tenant)):
        assert type(twin) is type(model) and twin is not model
        assert twin.__dict__.keys() == copy.copy(model).__dict__.keys()
    assert cached.key._tenant is cached.tenant  # the key names its own copy of the tenant
    cached.tenant.name = "changed by a request"
    cached.key.name = "changed too"
    assert (held.tenant.name, held.key.name) == ("acme Ltd", "owner")
