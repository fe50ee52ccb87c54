"""Persisted queries and the response cache for public reads."""

from __future__ import annotations

import hashlib
import json

from tests.factories import create_draft, create_tenant, publish

POLICY = "query($site: String!) { publishedPolicy(site: $site) { version title locale } }"
HASH = hashlib.sha256(POLICY.encode()).hexdigest()


def apq(query_hash: str) -> str:
    return json.dumps({"persistedQuery": {"version": 1, "sha256Hash": query_hash}})


async def get(client, params, headers=None):
    return await client.get("/graphql", params=params, headers=headers or {})


async def test_persisted_query_miss_register_hit(client, api):
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner))["id"])
    variables = json.dumps({"site": "acme"})
    miss = await get(client, {"extensions": apq(HASH), "variables": variables})
    assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = await client.post(
        "/graphql",
        json={"query": POLICY, "variables": {"site": "acme"}, "extensions": json.loads(apq(HASH))},
    )
    assert registered.json()["data"]["publishedPolicy"]["version"] == 1
    hit = await get(client, {"extensions": apq(HASH), "variables": variables})
    assert hit.json() == {
        "data": {"publishedPolicy": {"version": 1, "title": "Privacy", "locale": "en"}}
    }


async def test_a_hash_that_does_not_match_is_400_and_invalid_documents_are_not_kept(client):
    wrong = await client.post(
        "/graphql",
        json={"query": POLICY, "variables": {"site": "x"}, "extensions": json.loads(apq("0" * 64))},
    )
    assert wrong.status_code == 400
    invalid = "{ noSuchField }"
    digest = hashlib.sha256(invalid.encode()).hexdigest()
    await client.post("/graphql", json={"query": invalid, "extensions": json.loads(apq(digest))})
    again = await get(client, {"extensions": apq(digest)})
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_public_reads_come_from_the_response_cache(client, api, queries):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"])
    translations = [
        {"locale": "en", "title": "One", "body": "1"},
        {"locale": "ru", "title": "Один", "body": "1"},
    ]
    await publish(api, owner, (await create_draft(api, owner, translations=translations))["id"])
    params = {"query": POLICY, "variables": json.dumps({"site": "acme"})}
    first = await get(client, params, {"Accept-Language": "ru"})
    assert first.json()["data"]["publishedPolicy"]["title"] == "Один"
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    assert first.headers["Vary"] == "Accept, Accept-Language"

    queries.reset()
    second = await get(client, params, {"Accept-Language": "ru"})
    assert second.content == first.content and second.headers["ETag"] == etag
    assert queries.count == 0  # not even the cache loaders ran
    unchanged = await get(client, params, {"Accept-Language": "ru", "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    english = await get(client, params, {"Accept-Language": "en"})
    assert english.json()["data"]["publishedPolicy"]["title"] == "One"

    await publish(api, owner, (await create_draft(api, owner, translations=translations))["id"])
    after = await get(client, params, {"Accept-Language": "ru", "If-None-Match": etag})
    assert after.status_code == 200 and after.json()["data"]["publishedPolicy"]["version"] == 2


async def test_unknown_sites_and_private_reads_are_not_cached(client, api):
    nobody = await get(client, {"query": POLICY, "variables": json.dumps({"site": "nobody"})})
    assert nobody.json() == {"data": {"publishedPolicy": None}} and "ETag" not in nobody.headers
    _, owner = await create_tenant(api, slug="acme")
    viewer = await get(
        client, {"query": "{ viewer { tenant { slug } } }"}, {"Authorization": f"Bearer {owner}"}
    )
    assert "ETag" not in viewer.headers and viewer.headers["RateLimit"].startswith('"key"')


async def test_cached_anonymous_reads_skip_the_whole_stack(app, client, api, monkeypatch):
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner))["id"])
    pipeline = app.state.pipeline
    handled = []
    original = pipeline.handle

    async def counting(request, run):
        handled.append(request.url.path)
        return await original(request, run)

    monkeypatch.setattr(pipeline, "handle", counting)
    register = {"query": POLICY, "variables": {"site": "acme"}, "extensions": json.loads(apq(HASH))}
    await client.post("/graphql", json=register)  # the usual road, which fills the cache
    assert len(handled) == 1
    params = {"extensions": apq(HASH), "variables": json.dumps({"site": "acme"})}
    first = await get(client, params)
    second = await get(client, params, {"Origin": "https://anyone.example"})
    assert len(handled) == 1  # both answered before Starlette's router
    assert second.content == first.content and second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert second.headers["RateLimit"].startswith('"public";r=')
    assert second.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_fast_path_refuses_over_the_limit_too(app, client, api):
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner))["id"])
    settings = app.state.pipeline.settings
    import dataclasses

    from server.settings import Rate

    tight = dataclasses.replace(
        settings, edge=dataclasses.replace(settings.edge, public_rate=Rate(0.1, 3))
    )
    app.state.pipeline.settings = tight
    try:
        params = {"query": POLICY, "variables": json.dumps({"site": "acme"})}
        statuses = [(await get(client, params)).status_code for _ in range(4)]
    finally:
        app.state.pipeline.settings = settings
    assert statuses == [200, 200, 200, 429]
