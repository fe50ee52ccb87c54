"""HTTP details a client meets at the edge: every error a GraphQL response in the
media type it accepts, 405 with Allow, 415, and RateLimit headers per the IETF draft."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json

import pytest

from server.settings import Rate
from tests.factories import create_draft, create_key, create_tenant, error_codes, publish

GRAPHQL_RESPONSE = "application/graphql-response+json"
MEDIA = [None, "application/json", GRAPHQL_RESPONSE]
POLICY = "query Read($site: String!) { publishedPolicy(site: $site) { version } }"


def expect_graphql_error(answer, status: int, code: str, accept: str | None) -> dict:
    """The GraphQL over HTTP shape: {"errors": [{message, extensions: {code}}]}, no
    data, in the negotiated media type."""
    assert answer.status_code == status, (answer.status_code, answer.text)
    wanted = GRAPHQL_RESPONSE if accept == GRAPHQL_RESPONSE else "application/json"
    assert answer.headers["content-type"].split(";")[0] == wanted
    assert "Accept" in answer.headers["vary"]
    body = answer.json()
    assert set(body) == {"errors"} and error_codes(body) == [code], body
    assert all(isinstance(e["message"], str) and e["message"] for e in body["errors"])
    return body


@contextlib.contextmanager
def edge(app, **changes):
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(
        normal, edge=dataclasses.replace(normal.edge, **changes)
    )
    try:
        yield
    finally:
        pipeline.settings = normal


@pytest.mark.parametrize("accept", MEDIA)
async def test_methods_other_than_get_and_post_are_405_with_allow(client, api, accept):
    headers = {"Accept": accept} if accept else {}
    for method in ("PUT", "DELETE", "PATCH", "HEAD"):
        answer = await client.request(method, "/graphql", headers=headers)
        assert answer.status_code == 405 and answer.headers["Allow"] == "GET, POST, OPTIONS"
        if method != "HEAD":
            expect_graphql_error(answer, 405, "METHOD_NOT_ALLOWED", accept)
    _, owner = await create_tenant(api)
    mutation = 'mutation { updateTenant(input: {name: "x"}) { tenant { id } } }'
    answer = await client.get(
        "/graphql",
        params={"query": mutation},
        headers={**headers, "Authorization": f"Bearer {owner}"},
    )
    expect_graphql_error(answer, 405, "METHOD_NOT_ALLOWED", accept)
    assert answer.headers["Allow"] == "POST"  # GraphQL over HTTP §6.1.1: mutations POST


@pytest.mark.parametrize("accept", MEDIA)
async def test_a_body_that_is_not_json_is_415(client, accept):
    body = json.dumps({"query": "{ __typename }"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", ""):
        headers = {"Content-Type": content_type} if content_type else {}
        if accept:
            headers["Accept"] = accept
        answer = await client.post("/graphql", content=body, headers=headers)
        expect_graphql_error(answer, 415, "UNSUPPORTED_MEDIA_TYPE", accept)
        assert answer.headers["Accept-Post"] == "application/json"
    fine = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert fine.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", MEDIA)
async def test_edge_errors_are_graphql_responses_in_the_accepted_media_type(
    app, client, api, accept
):
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner))["id"])
    headers = {"Accept": accept} if accept else {}
    limit = app.state.pipeline.settings.edge.max_body_bytes
    huge = {"query": "{ __typename }", "variables": {"x": "y" * (limit + 1)}}
    answer = await client.post("/graphql", json=huge, headers=headers)
    expect_graphql_error(answer, 413, "PAYLOAD_TOO_LARGE", accept)

    digest = hashlib.sha256(POLICY.encode()).hexdigest()
    variables = {"site": "acme"}
    cases = [  # (extensions, query, status with json, status with graphql-response, code)
        ({"version": 1, "sha256Hash": "0" * 64}, POLICY, 400, 400, "BAD_REQUEST"),
        ({"version": 2, "sha256Hash": digest}, None, 400, 400, "BAD_REQUEST"),
        ({"version": 1, "sha256Hash": "x"}, None, 400, 400, "BAD_REQUEST"),
        ({"version": 1, "sha256Hash": digest}, None, 200, 400, "PERSISTED_QUERY_NOT_FOUND"),
    ]
    for persisted, query, json_status, strict_status, code in cases:
        status = strict_status if accept == GRAPHQL_RESPONSE else json_status
        params = {
            "extensions": json.dumps({"persistedQuery": persisted}),
            "variables": json.dumps(variables),
            "operationName": "Read",
        }
        if query:
            params["query"] = query
        answer = await client.get("/graphql", params=params, headers=headers)
        expect_graphql_error(answer, status, code, accept)
        body = {"extensions": {"persistedQuery": persisted}, "variables": variables}
        if query:
            body["query"] = query
        answer = await client.post("/graphql", json=body, headers=headers)
        expect_graphql_error(answer, status, code, accept)


@pytest.mark.parametrize("accept", MEDIA)
@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "usual-road"])
async def test_429_is_a_graphql_error_with_cors_on_either_road(app, client, api, accept, fast):
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner))["id"])
    headers = {"Origin": "https://anyone.example", **({"Accept": accept} if accept else {})}
    params = {"query": POLICY, "variables": json.dumps({"site": "acme"}), "operationName": "Read"}
    app.middleware_stack.enabled = fast
    try:
        with edge(app, public_rate=Rate(0.01, 2)):
            answers = [await client.get("/graphql", params=params, headers=headers) for _ in "123"]
    finally:
        app.middleware_stack.enabled = True
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    expect_graphql_error(refused, 429, "RATE_LIMITED", accept)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit"].startswith('"public";r=0;t=')
    assert refused.headers["RateLimit-Policy"] == '"public";q=2;qu="cost-units";w=200'
    for answer in answers:  # a page reads all of it (server.cors)
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        exposed = {h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"RateLimit", "RateLimit-Policy", "Retry-After", "ETag"} <= exposed


async def test_a_key_sees_its_own_policy_and_its_tenants_ceiling(client, api):
    _, owner = await create_tenant(api, slug="acme")
    answer = await client.post(
        "/graphql",
        json={"query": "{ viewer { tenant { slug } } }"},
        headers={"Authorization": f"Bearer {owner}"},
    )
    policies = answer.headers["RateLimit-Policy"].split(", ")
    remaining = answer.headers["RateLimit"].split(", ")
    assert [p.split(";")[0] for p in policies] == ['"key"', '"tenant"']
    assert [r.split(";")[0] for r in remaining] == ['"key"', '"tenant"']
    assert all(';qu="cost-units";' in p for p in policies)
    _, site = await create_key(api, owner, name="site", publishable=True)
    answer = await client.post(
        "/graphql",
        json={"query": '{ publishedPolicy(site: "acme") { version } }'},
        headers={"Authorization": f"Bearer {site}"},
    )
    assert [p.split(";")[0] for p in answer.headers["RateLimit-Policy"].split(", ")] == [
        '"public"',
        '"tenant"',
    ]
