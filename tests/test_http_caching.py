"""HTTP caching as real clients meet it: every request shape Apollo, urql and Relay send
on the cached path, and conditional requests per RFC 9110 §13.1.2."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.http_spec import none_match
from tests.factories import create_draft, create_tenant, error_codes, publish
from tests.servers import serve
from tests.test_gate_websocket import Socket

NAMED = "query ReadPolicy($site: String!) { publishedPolicy(site: $site) { version title } }"
HASH = hashlib.sha256(NAMED.encode()).hexdigest()
APQ = {"persistedQuery": {"version": 1, "sha256Hash": HASH}}
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def published(api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish(api, owner, (await create_draft(api, owner))["id"])
    return owner


@pytest.fixture
def usual_road(app):
    """The requests that reached the usual road (server.edge), past the fast path."""
    pipeline = app.state.pipeline
    handle, seen = pipeline.handle, []

    async def counted(request, run):
        seen.append(request)
        return await handle(request, run)

    pipeline.handle = counted
    yield seen
    pipeline.handle = handle


def apollo_get(operation_name: str | None = "ReadPolicy", *, hashed: bool) -> dict:
    """The query string Apollo Client 4's HttpLink (useGETForQueries) and its persisted
    queries link (useGETForHashedQueries) send: operationName always, the document only
    when not hashed."""
    params = {"variables": json.dumps({"site": "acme"})}
    if operation_name is not None:
        params["operationName"] = operation_name
    if hashed:
        params["extensions"] = json.dumps({**APQ, **LIBRARY})
    else:
        params["query"] = NAMED
        params["extensions"] = json.dumps(LIBRARY)
    return params


# Apollo Client 4's HttpLink adds this to every request (enhanced client awareness).
LIBRARY = {"clientLibrary": {"name": "@apollo/client", "version": "4.3.8"}}


async def test_every_client_shape_is_answered_from_the_cache_with_one_etag(
    client, published, usual_road
):
    register = {"query": NAMED, "variables": {"site": "acme"}, "operationName": "ReadPolicy"}
    await client.post("/graphql", json={**register, "extensions": APQ})
    first = await client.get("/graphql", params=apollo_get(None, hashed=False))
    assert first.status_code == 200 and "ETag" in first.headers
    shapes = [
        apollo_get(None, hashed=False),
        apollo_get(hashed=False),  # Apollo without APQ
        {"query": NAMED, "variables": json.dumps({"site": "acme"})},  # no extensions
        apollo_get(hashed=True),  # Apollo's persisted queries link
        apollo_get(None, hashed=True),
    ]
    reached = len(usual_road)
    for params in shapes:
        for _ in range(2):  # once to fill the caches, once to be answered from them
            answer = await client.get("/graphql", params=params)
            assert answer.status_code == 200, (params, answer.text)
            assert answer.content == first.content
            for header in ("ETag", "Cache-Control", "Vary", "Content-Type"):
                assert answer.headers[header] == first.headers[header], (params, header)
            assert answer.headers["RateLimit"].startswith('"public";r=')
    assert len(usual_road) == reached  # every one of them answered by the fast path
    posted = await client.post("/graphql", json=register)
    assert posted.content == first.content and "ETag" not in posted.headers  # POST: no ETag


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "usual-road"])
async def test_a_wrong_operation_name_gets_the_gates_error_on_either_road(
    app, client, published, fast
):
    for params in (apollo_get(hashed=False), apollo_get(hashed=True)):
        await client.get("/graphql", params=params)  # cached now
    app.middleware_stack.enabled = fast
    try:
        for hashed in (False, True):
            for wrong in ("Other", ""):
                answer = await client.get("/graphql", params=apollo_get(wrong, hashed=hashed))
                # the gate's refusal (schema.documents), application/json's legacy 200
                assert answer.status_code == 200, answer.text
                assert "data" not in answer.json() and "ETag" not in answer.headers
                assert error_codes(answer.json()) == ["OPERATION_RESOLUTION_FAILURE"], answer.text
            strict = await client.get(
                "/graphql",
                params=apollo_get("Other", hashed=hashed),
                headers={"Accept": GRAPHQL_RESPONSE},
            )
            assert strict.status_code == 400 and "ETag" not in strict.headers
            assert error_codes(strict.json()) == ["OPERATION_RESOLUTION_FAILURE"]
    finally:
        app.middleware_stack.enabled = True


async def test_a_wrong_operation_name_is_one_error_on_every_transport(settings):
    """HTTP GET, POST and graphql-transport-ws: the same code from the gate."""
    document = "query Read { __typename }"
    async with serve(settings) as http, Socket.open(http.base_url.port) as socket:
        for name, code in (("Other", "OPERATION_RESOLUTION_FAILURE"), ("Read", None)):
            got = await http.get("/graphql", params={"query": document, "operationName": name})
            posted = await http.post("/graphql", json={"query": document, "operationName": name})
            operation = await socket.start(document)
            await socket.ws.send(  # the same subscribe again, naming the operation
                json.dumps(
                    {
                        "id": "named-" + name,
                        "type": "subscribe",
                        "payload": {"query": document, "operationName": name},
                    }
                )
            )
            answers = [got.json(), posted.json()]
            seen = {}
            while len(seen) < 2:
                message = await socket.receive()
                if message["type"] == "error":
                    seen[message["id"]] = {"errors": message["payload"]}
                elif message["type"] == "next":
                    seen[message["id"]] = message["payload"]
            assert seen[operation] == {"data": {"__typename": "Query"}}  # no name: fine
            answers.append(seen["named-" + name])
            for answer in answers:
                if code is None:
                    assert answer == {"data": {"__typename": "Query"}}
                else:
                    assert error_codes(answer) == [code], answer


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "usual-road"])
async def test_if_none_match_uses_weak_comparison(app, client, published, fast):
    params = apollo_get(hashed=False)
    await client.get("/graphql", params=params)
    etag = (await client.get("/graphql", params=params)).headers["ETag"]
    app.middleware_stack.enabled = fast
    try:
        matching = [etag, f"W/{etag}", f'"other", W/{etag}', f'W/"x",{etag} ', "*"]
        for header in matching:
            answer = await client.get("/graphql", params=params, headers={"If-None-Match": header})
            assert answer.status_code == 304, header
            assert answer.content == b"" and answer.headers["ETag"] == etag
            assert answer.headers["Vary"] == "Accept, Accept-Language"
        for header in ('"other"', 'W/"other"', etag.strip('"'), f'{etag[:-2]}"', ""):
            answer = await client.get("/graphql", params=params, headers={"If-None-Match": header})
            assert answer.status_code == 200 and answer.headers["ETag"] == etag, header
    finally:
        app.middleware_stack.enabled = True


async def test_each_representation_has_its_own_etag(client, published):
    params = apollo_get(hashed=False)
    tags = {}
    for media in ("application/json", GRAPHQL_RESPONSE):
        for _ in range(2):  # filled, then from the cache: the same tag
            answer = await client.get("/graphql", params=params, headers={"Accept": media})
            assert answer.headers["Content-Type"].startswith(media)
            assert "Accept" in answer.headers["Vary"]
            assert tags.setdefault(media, answer.headers["ETag"]) == answer.headers["ETag"]
    assert tags["application/json"] != tags[GRAPHQL_RESPONSE]
    # A tag of one representation does not validate the other (a cache would serve the
    # wrong Content-Type).
    crossed = await client.get(
        "/graphql",
        params=params,
        headers={"Accept": GRAPHQL_RESPONSE, "If-None-Match": tags["application/json"]},
    )
    assert crossed.status_code == 200


async def test_every_get_answer_varies_on_accept(client, api):
    _, owner = await create_tenant(api, slug="acme")
    for headers in ({}, {"Authorization": f"Bearer {owner}"}):
        answer = await client.get("/graphql", params={"query": "{ __typename }"}, headers=headers)
        assert answer.status_code == 200 and answer.headers["Vary"] == "Accept", headers
    # uncached, and an error, and a cached read: all say so
    error = await client.get("/graphql", params={"query": "{ nope }"})
    assert "Accept" in error.headers["Vary"]


TAGS = st.text(alphabet="abcdef0123456789", min_size=1, max_size=12)


@given(
    etag=TAGS,
    others=st.lists(TAGS, max_size=4),
    weak=st.lists(st.booleans(), min_size=5, max_size=5),
    spaces=st.sampled_from(["", " ", "  "]),
    include=st.booleans(),
    position=st.integers(min_value=0, max_value=4),
)
def test_if_none_match_is_weak_comparison_over_a_list(
    etag, others, weak, spaces, include, position
):
    """RFC 9110 §13.1.2 generated: a list matches when any member's opaque tag is the
    current one, W/ or not, wherever it stands and however it is spaced."""
    others = [tag for tag in others if tag != etag]
    members = list(others)
    if include:
        members.insert(min(position, len(members)), etag)
    rendered = [f'{"W/" if weak[i] else ""}"{tag}"' for i, tag in enumerate(members)]
    header = f"{spaces},{spaces}".join(rendered)
    assert none_match(header, etag) is (include and bool(members))
    # a malformed tail: what came before still counts, nothing after it does
    assert none_match(header + ', "', etag) is (include and bool(members))
    assert none_match("*", etag) is True
