"""The edge through real clients against a real `charter serve`: Apollo Client 4 with
its persisted queries link over GET (tests/js/http_apollo.mjs), and a page on a tenant's
domain in Chromium reading RateLimit and a 429's Retry-After through fetch
(tests/js/http_browser.mjs)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests import node
from tests.conftest import Api
from tests.factories import create_draft, create_key, create_tenant, publish
from tests.servers import serve

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
async def charter(settings):
    """A server whose public bucket holds 6 units and refills one a minute and more:
    a client sees it run out."""
    async with serve(settings, CHARTER_PUBLIC_RATE="0.01:6") as http:
        api = Api(http)
        # One tenant for Apollo, one for the page: a bucket each. Names of their own: on
        # PostgreSQL the server shares the database with the in-process tests.
        sites = {}
        for use in ("apollo", "page", "keyed"):
            slug = f"{use}{uuid.uuid4().hex[:8]}"
            _, owner = await create_tenant(api, slug=slug, domains=[f"{slug}.example"])
            await publish(api, owner, (await create_draft(api, owner))["id"])
            sites[use] = slug
            if use == "keyed":
                _, http.publishable = await create_key(api, owner, name="site", publishable=True)
        http.sites = sites
        yield http


async def test_apollo_persisted_queries_over_get_register_hit_revalidate_and_429(charter):
    node.installed()
    steps = {
        line["step"]: line
        for line in await node.run(
            "http_apollo.mjs",
            str(charter.base_url).rstrip("/") + "/graphql",
            charter.sites["apollo"],
        )
    }
    register, hit, revalidate = steps["register"], steps["hit"], steps["revalidate"]
    assert "error" not in register, register
    # (Apollo adds __typename to the document it sends)
    policy = {
        "publishedPolicy": {"__typename": "PublishedPolicy", "version": 1, "title": "Privacy"}
    }
    assert register["data"] == hit["data"] == revalidate["data"] == policy

    miss, posted = register["exchanges"]
    assert (miss["method"], miss["hashed"], miss["hasQuery"]) == ("GET", True, False)
    assert miss["operationName"] == "PublishedPolicy"  # as Apollo always sends it
    assert miss["status"] == 400 and miss["contentType"].startswith(GRAPHQL_RESPONSE)
    assert posted["method"] == "POST" and posted["status"] == 200

    (answered,) = hit["exchanges"]
    assert (answered["method"], answered["hashed"], answered["status"]) == ("GET", True, 200)
    assert answered["operationName"] == "PublishedPolicy" and answered["etag"]
    (unchanged,) = revalidate["exchanges"]
    assert unchanged["status"] == 304 and unchanged["etag"] == answered["etag"]

    refused = [line for name, line in steps.items() if "error" in line]
    assert len(refused) == 1, steps
    (last,) = refused
    assert last["error"]["kind"] == "CombinedGraphQLErrors", last
    assert last["error"]["codes"] == ["RATE_LIMITED"]
    assert last["exchanges"][-1]["status"] == 429
    assert last["exchanges"][-1]["rateLimit"].startswith('"public";r=0;t=')


async def test_a_page_on_a_tenants_domain_reads_ratelimit_and_retry_after(charter):
    node.installed(browser=True)
    port = charter.base_url.port
    lines = await node.run(
        "http_browser.mjs",
        json.dumps(
            {
                "hostRules": "MAP *.example 127.0.0.1",
                "page": f"http://{charter.sites['keyed']}.example:{port}/healthz",
                "stranger": f"http://stranger.example:{port}/healthz",
                "graphql": f"http://charter.example:{port}/graphql",
                "site": charter.sites["page"],  # its bucket: drained by this page
                "otherSite": charter.sites["keyed"],
                "key": charter.publishable,
            }
        ),
    )
    (seen,) = lines
    assert seen["preflighted"]["status"] == 200, seen  # a JSON POST: preflight first
    assert seen["preflighted"]["data"] == {"publishedPolicy": {"version": 1}}
    assert seen["preflighted"]["rateLimit"].startswith('"public";r=')
    assert 'qu="cost-units"' in seen["preflighted"]["rateLimitPolicy"]
    statuses = [answer["status"] for answer in seen["answers"]]
    assert 429 in statuses, statuses
    refused = seen["answers"][statuses.index(429)]
    assert int(refused["retryAfter"]) >= 1
    assert refused["code"] == "RATE_LIMITED"
    assert refused["rateLimit"].startswith('"public";r=0')
    ok = seen["answers"][0]
    assert ok["status"] == 200 and ok["etag"], seen
    # The publishable key works from its tenant's page (its Authorization preflight
    # passes there) and not from a stranger's (the preflight fails: fetch rejects).
    assert seen["ownSite"]["withKey"] == {"status": 200, "code": None}, seen["ownSite"]
    assert "failed" in seen["stranger"]["withKey"], seen["stranger"]
    assert seen["stranger"]["anonymous"] == {"status": 200, "code": None}  # origin-free
