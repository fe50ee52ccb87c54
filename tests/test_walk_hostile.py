"""The walk's new surfaces under a hostile caller: the lifting's note over WebSocket
(NUL, lone surrogates, size), another tenant reaching a sealed export or a restriction,
and nothing changed or queued by a refused call."""

from __future__ import annotations

import pytest

from tenants.outbound.models import OutboxMessage
from tests.factories import create_tenant, error_codes
from tests.servers import serve
from tests.test_gate_websocket import Socket
from tests.test_walk_restriction import (
    LIFT,
    STATE,
    restricted_by_request,
    shop,  # noqa: F401 (a fixture)
)

READ = "query($id: ID!) { subjectRequest(id: $id) { id export } }"
REQUESTS = "{ subjectRequests(first: 50) { edges { node { id export } } } }"


@pytest.mark.parametrize("bad", ["x\x00y", "x\ud800y"], ids=["NUL", "surrogate"])
async def test_a_bad_note_over_a_socket_changes_nothing(api, shop, settings, bad):  # noqa: F811
    await restricted_by_request(api, shop, "p-1", "person@example.kg", "ru-RU")
    async with serve(settings) as http, Socket.open(http.base_url.port, shop["owner"]) as socket:
        answer = await socket.run(LIFT, {"s": "p-1", "note": bad})
        assert error_codes(answer) == ["BAD_USER_INPUT"]
        answer = await socket.run(LIFT, {"s": bad, "note": "fine"})
        assert error_codes(answer) == ["BAD_USER_INPUT"]
        state = (await socket.run(STATE, {"s": "p-1"}))["data"]["consentState"]
    assert state and all(d["restricted"] for d in state)
    assert await OutboxMessage.filter(kind="subject.restriction_lifted").count() == 0


async def test_a_huge_note_is_refused_before_anything_is_written(api, shop):  # noqa: F811
    await restricted_by_request(api, shop, "p-1", "person@example.kg", "ru-RU")
    body = await api(LIFT, {"s": "p-1", "note": "x" * 200_000}, token=shop["owner"])
    assert [e["code"] for e in body["data"]["liftRestriction"]["userErrors"]] == ["TOO_LONG"]
    state = (await api(STATE, {"s": "p-1"}, token=shop["owner"]))["data"]["consentState"]
    assert all(d["restricted"] for d in state)
    assert await OutboxMessage.filter(kind="subject.restriction_lifted").count() == 0


async def test_another_tenant_reaches_neither_the_export_nor_the_restriction(api, shop):  # noqa: F811
    await restricted_by_request(api, shop, "p-1", "person@example.kg", "ru-RU")
    mine = (await api(REQUESTS, token=shop["owner"]))["data"]["subjectRequests"]["edges"]
    request_id = mine[0]["node"]["id"]
    _, other = await create_tenant(api, slug="other")
    body = await api(READ, {"id": request_id}, token=other)
    assert body["data"]["subjectRequest"] is None or error_codes(body) == ["NOT_FOUND"]
    theirs = (await api(REQUESTS, token=other))["data"]["subjectRequests"]["edges"]
    assert theirs == []
    lifted = (await api(LIFT, {"s": "p-1", "note": "gotcha"}, token=other))["data"]
    assert [e["code"] for e in lifted["liftRestriction"]["userErrors"]] == ["NOT_RESTRICTED"]
    assert (await api(STATE, {"s": "p-1"}, token=other))["data"]["consentState"] == []
    state = (await api(STATE, {"s": "p-1"}, token=shop["owner"]))["data"]["consentState"]
    assert all(d["restricted"] for d in state)
    assert await OutboxMessage.filter(kind="subject.restriction_lifted").count() == 0
