"""Rate limits, query limits and the body limit, through HTTP."""

from __future__ import annotations

import contextlib

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from server.client_ip import client_ip
from server.ratelimit import RateLimiter
from server.settings import MAX_BURST, MAX_RATE, Rate, parse_rate
from tests import backends as tb
from tests.backends import ADMIN_TOKEN
from tests.factories import create_tenant, error_codes, set_plan

VIEWER = {"query": "{ viewer { key { id } } }"}


async def post(client, body, token=None, headers=None):
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json=body, headers={**auth, **(headers or {})})


async def test_a_key_over_its_limit_gets_429_and_others_are_untouched(app, client, api):
    _, alpha = await create_tenant(api, slug="alpha")
    _, bravo = await create_tenant(api, slug="bravo")
    # 20 s a unit: no unit drips back however long a loaded machine takes between calls
    await set_plan(app, "alpha", {"key_rate": [0.05, 3]})
    statuses = [(await post(client, VIEWER, alpha)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]  # exactly the burst
    refused = await post(client, VIEWER, alpha)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    caller, ceiling = refused.headers["RateLimit-Policy"].split(", ")
    assert caller == '"key";q=3;qu="cost-units";w=60'  # the key's, then its tenant's
    assert ceiling.startswith('"tenant";q=') and ceiling.endswith(';qu="cost-units";w=2')
    assert refused.headers["RateLimit"].startswith('"key";r=0;t=')
    assert ', "tenant";r=' in refused.headers["RateLimit"]
    other = await post(client, VIEWER, bravo)
    assert other.status_code == 200 and other.headers["RateLimit"].startswith('"key";r=')


async def test_mutations_cost_more_than_reads(app, client, api):
    _, alpha = await create_tenant(api, slug="alpha")
    await set_plan(app, "alpha", {"key_rate": [0.1, 6]})
    mutation = {"query": 'mutation { updateTenant(input: {name: "x"}) { tenant { id } } }'}
    assert (await post(client, mutation, alpha)).status_code == 200  # costs 5 of 6
    assert (await post(client, VIEWER, alpha)).status_code == 200  # costs the last 1
    assert (await post(client, VIEWER, alpha)).status_code == 429


async def test_the_platform_token_fails_closed_when_the_limiter_cannot_answer(app, client, api):
    _, owner = await create_tenant(api, slug="alpha")
    pipeline = app.routes[0].endpoint.pipeline  # the /graphql route's view
    working = pipeline.gate.limiter
    dead = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    pipeline.gate.limiter = RateLimiter(dead, timeout=0.5)
    try:
        assert (await post(client, VIEWER, owner)).status_code == 200  # reads go on
        create = {
            "query": 'mutation { createTenant(input: {slug: "x", name: "X", defaultLocale: "en", jurisdictions: ["EU"]}) { tenant { id } } }'
        }
        refused = await post(client, create, ADMIN_TOKEN)
        assert refused.status_code == 429 and error_codes(refused.json()) == ["RATE_LIMITED"]
    finally:
        pipeline.gate.limiter = working
        with contextlib.suppress(Exception):
            await dead.aclose()


async def test_deep_and_wide_queries_are_refused_before_execution(app, client, api, queries):
    _, owner = await create_tenant(api, slug="alpha")
    deep = "{ " + "a { " * 20 + "b" + " }" * 20 + " }"
    aliases = "{ " + " ".join(f"a{i}: jurisdictions {{ code }}" for i in range(1000)) + " }"
    for document in (deep, aliases):
        queries.reset()
        response = await post(client, {"query": document}, owner)
        assert error_codes(response.json()) == ["QUERY_TOO_COMPLEX"], response.json()
    wide = "{ " + " ".join(f"a{i}: jurisdictions {{ code }}" for i in range(31)) + " }"
    assert error_codes((await post(client, {"query": wide}, owner)).json()) == ["QUERY_TOO_COMPLEX"]
    costly = "{ subjectRequests(first: 100) { edges { node { timeline { note } } } } breaches(first: 100) { edges { node { clocks { kind } updates { note } } } } }"
    assert "errors" not in (await post(client, {"query": costly}, owner)).json()  # ~2400
    await set_plan(app, "alpha", {"max_cost": 1000})  # a smaller plan
    body = (await post(client, {"query": costly}, owner)).json()
    assert error_codes(body) == ["QUERY_TOO_COMPLEX"] and "cost" in body["errors"][0]["message"]


async def test_oversized_bodies_are_refused(client, api):
    _, owner = await create_tenant(api, slug="alpha")
    huge = {"query": "{ viewer { key { id } } }", "variables": {"pad": "x" * (3 * 1024 * 1024)}}
    response = await post(client, huge, owner)
    assert response.status_code == 413


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_forwarded_for_counts_only_from_trusted_proxies():
    trusted = ("10.0.0.0/8",)
    assert client_ip(_request("203.0.113.9", "1.2.3.4"), trusted) == "203.0.113.9"
    assert client_ip(_request("10.0.0.5", "1.2.3.4, 10.0.0.7"), trusted) == "1.2.3.4"
    assert client_ip(_request("10.0.0.5", None), trusted) == "10.0.0.5"
    assert client_ip(_request("10.0.0.5", "1.2.3.4"), ()) == "10.0.0.5"


def test_a_trusted_proxy_is_trusted_in_every_spelling_of_its_address():
    """A dual-stack listener sees an IPv4 proxy as ::ffff:a.b.c.d (in the socket's peer
    and in the hops an earlier dual-stack proxy appends): its clients must not all share
    the proxy's one bucket. A hop with the port a proxy appended (Azure Application
    Gateway) is its address: a source port per bucket would be free to choose."""
    trusted = ("10.0.0.0/8",)
    assert client_ip(_request("::ffff:10.0.0.5", "203.0.113.7"), trusted) == "203.0.113.7"
    forwarded = "203.0.113.7, ::ffff:10.0.0.6"
    assert client_ip(_request("10.0.0.5", forwarded), trusted) == "203.0.113.7"
    assert client_ip(_request("10.0.0.5", "203.0.113.7:5555"), trusted) == "203.0.113.7"
    forwarded = "[2001:db8::1]:443"
    assert client_ip(_request("10.0.0.5", forwarded), trusted) == "2001:db8::1"
    assert client_ip(_request("10.0.0.5", "2001:db8::1"), trusted) == "2001:db8::1"
    assert client_ip(_request("::ffff:203.0.113.9", "1.2.3.4"), trusted) == "::ffff:203.0.113.9"


async def test_nul_characters_are_refused_up_front(client, api):
    _, owner = await create_tenant(api, slug="alpha")
    raw = {
        "query": "mutation($n: String!) { updateTenant(input: {name: $n}) { userErrors { code } } }",
        "variables": {"n": "a\x00b"},
    }
    escaped = {
        "query": 'mutation { updateTenant(input: {name: "a\\u0000b"}) { userErrors { code } } }'
    }
    braced = {  # the 2021 spec's variable-width escape, which graphql-core decodes too
        "query": 'mutation { updateTenant(input: {name: "a\\u{00}b"}) { userErrors { code } } }'
    }
    for body in (raw, escaped, braced):
        response = await post(client, body, owner)
        assert response.status_code == 400 and error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_datetimes_outside_any_meaningful_range_are_refused(client, api):
    _, owner = await create_tenant(api, slug="alpha")
    literal = {
        "query": 'mutation { reportBreach(input: {title: "t", risk: LOW, detectedAt: "0001-01-01T00:00:00+14:00"}) { breach { id } } }'
    }
    variable = {
        "query": 'mutation($d: DateTime!) { reportBreach(input: {title: "t", risk: LOW, detectedAt: $d}) { breach { id } } }',
        "variables": {"d": "9999-12-31T23:59:59-14:00"},
    }
    # A literal breaks validation; a variable fails coercion (Apollo: BAD_USER_INPUT).
    for body, code in ((literal, "GRAPHQL_VALIDATION_FAILED"), (variable, "BAD_USER_INPUT")):
        response = await post(client, body, owner)
        assert error_codes(response.json()) == [code], response.json()


# Spellings an operator may type for a rate: each is refused with one line, never a
# traceback, and none reaches a tenant's plan (0:0, 5:-1 and inf:5 were stored, and every
# request of the tenant's keys then answered 503).
NOT_A_RATE = ["nan", "inf", "inf:5", "1e400", "0:0", "0", "5:-1", "5:0", "5:1e9", "5:²", "²:5",
              "-1:5", "5:5:5", "", ":5", "5:" + "9" * 30,
              "١٢", "١٢:5", "5:١٢", "\uff12\uff10", "1_0", "5.5.5"]  # fmt: skip


@pytest.mark.parametrize("text", NOT_A_RATE)
def test_a_rate_is_a_positive_finite_rate_and_a_whole_burst(text):
    with pytest.raises(ValueError):
        parse_rate(text)


@given(st.text(max_size=12))
def test_whatever_is_typed_is_refused_or_a_usable_ascii_rate(text):
    """The kind behind the list above: anything accepted is ASCII and inside the limits
    (a rate another script's digits spell was read as that number)."""
    try:
        rate = parse_rate(text)
    except ValueError:
        return
    assert text.strip().isascii()
    assert 0 < rate.per_second <= MAX_RATE and 1 <= rate.burst <= MAX_BURST


def test_the_spellings_of_a_rate_that_are_rates():
    assert parse_rate("20") == Rate(20.0, 40)
    assert parse_rate("20:60") == Rate(20.0, 60)
    assert parse_rate("0.1:6") == Rate(0.1, 6)


@pytest.mark.parametrize("plan", [[0.0, 0], [5.0, -1], [float("inf"), 5], [float("nan"), 5]])
async def test_a_plan_stored_before_it_was_checked_never_breaks_the_tenant(app, client, api, plan):
    """Plans written before rates were checked hold such values: the tenant's keys then
    pay the default rate, rather than every request failing."""
    if tb.BACKEND == "postgres" and any(v != v or v == float("inf") for v in plan):
        pytest.skip("PostgreSQL's json refuses NaN and Infinity: such a plan was never stored")
    _, alpha = await create_tenant(api, slug="alpha")
    await set_plan(app, "alpha", {"key_rate": plan})
    answer = await post(client, VIEWER, alpha)
    assert answer.status_code == 200, answer.text
