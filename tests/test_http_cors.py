"""CORS as browsers use it (server.cors): preflights as Chromium sends them, anonymous
reads from anywhere, keys only from their tenant's https origin, refusals readable."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.cors import origin_allowed
from server.settings import Rate
from tenants.tenancy.principal import Principal
from tests.factories import create_draft, create_key, create_tenant, error_codes, publish
from tests.test_consent import grant, publish_policy

RECORD = """mutation($i: ConsentInput!) {
  recordConsent(input: $i) { receipt { id } userErrors { code } } }"""
# What Apollo Client 4, OpenTelemetry's fetch instrumentation and Sentry add to a request.
CLIENT_HEADERS = [
    "content-type",
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "apollographql-client-name",
    "apollographql-client-version",
]


async def preflight(client, origin: str, headers: list[str]):
    return await client.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": ",".join(headers),
        },
    )


def reflected(answer) -> set[str]:
    value = answer.headers.get("Access-Control-Allow-Headers", "")
    return {name.strip() for name in value.split(",") if name.strip()}


@pytest.fixture
def production(app):
    """The origin rule as production applies it (CHARTER_ENV=production)."""
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(normal, env="production")
    yield
    pipeline.settings = normal


async def test_an_anonymous_json_post_passes_its_preflight_from_any_origin(client, api):
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner))["id"])
    answer = await preflight(client, "https://blog.elsewhere.example", CLIENT_HEADERS)
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert reflected(answer) == set(CLIENT_HEADERS)
    assert set(answer.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST"}
    # ... and the request itself is answered, readable
    post = await client.post(
        "/graphql",
        json={"query": '{ publishedPolicy(site: "acme") { version } }'},
        headers={"Origin": "https://blog.elsewhere.example", "traceparent": "00-" + "1" * 32},
    )
    assert post.json() == {"data": {"publishedPolicy": {"version": 1}}}
    assert post.headers["Access-Control-Allow-Origin"] == "*"


async def test_only_safe_request_headers_are_reflected(client):
    answer = await preflight(client, "https://x.example", ["content-type", "x-evil", "cookie"])
    assert reflected(answer) == {"content-type"}  # the browser refuses the rest


async def test_a_keyed_preflight_passes_only_from_a_tenants_site(client, api):
    await create_tenant(api, slug="acme", domains=["acme.example"])
    keyed = ["authorization", "content-type", "traceparent"]
    ours = await preflight(client, "https://www.acme.example", keyed)
    assert ours.headers["Access-Control-Allow-Origin"] == "https://www.acme.example"
    assert reflected(ours) == set(keyed)
    assert "Origin" in ours.headers["Vary"]
    theirs = await preflight(client, "https://evil.example", keyed)
    assert theirs.status_code == 204
    assert "Access-Control-Allow-Origin" not in theirs.headers


@pytest.mark.parametrize(
    ("origin", "trusted"),
    [
        ("https://acme.example", True),
        ("https://www.acme.example", True),
        ("https://acme.example:443", True),
        ("http://acme.example", False),  # another origin: anyone on the path can be it
        ("https://acme.example:8443", False),  # another port: maybe another program
        ("http://acme.example:8080", False),
        ("ftp://acme.example", False),
        ("https://acme.example.evil.example", False),
        ("null", False),
    ],
)
async def test_in_production_a_key_trusts_only_https_on_the_default_port(
    client, api, production, origin, trusted
):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    _, site_key = await create_key(api, owner, name="site", publishable=True)
    consent = {"subjectId": "v1", "method": "BANNER", "decisions": grant("analytics.reporting")}
    answer = await client.post(
        "/graphql",
        json={"query": RECORD, "variables": {"i": consent}},
        headers={"Authorization": f"Bearer {site_key}", "Origin": origin},
    )
    if trusted:
        assert answer.status_code == 200, answer.text
        assert answer.headers["Access-Control-Allow-Origin"] == origin
        assert "RateLimit" in answer.headers["Access-Control-Expose-Headers"]
    else:
        assert answer.status_code == 403 and error_codes(answer.json()) == ["FORBIDDEN"]
        assert "Access-Control-Allow-Origin" not in answer.headers
    ask = await preflight(client, origin, ["authorization", "content-type"])
    assert ("Access-Control-Allow-Origin" in ask.headers) is trusted


async def test_outside_production_any_port_of_a_tenants_domain_is_trusted(client, api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    _, site_key = await create_key(api, owner, name="site", publishable=True)
    consent = {"subjectId": "v1", "method": "BANNER", "decisions": grant("analytics.reporting")}
    answer = await client.post(
        "/graphql",
        json={"query": RECORD, "variables": {"i": consent}},
        headers={"Authorization": f"Bearer {site_key}", "Origin": "http://acme.example:8080"},
    )
    assert answer.status_code == 200, answer.text


async def test_refusals_carry_cors_headers_when_the_origin_is_allowed(app, client, api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    _, site_key = await create_key(api, owner, name="site", publishable=True)
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(
        normal, edge=dataclasses.replace(normal.edge, public_rate=Rate(0.01, 1))
    )
    consent = {"subjectId": "v1", "method": "BANNER", "decisions": grant("analytics.reporting")}
    body = {"query": RECORD, "variables": {"i": consent}}
    keyed = {"Authorization": f"Bearer {site_key}", "Origin": "https://acme.example"}
    try:
        first = await client.post("/graphql", json=body, headers=keyed)
        refused = await client.post("/graphql", json=body, headers=keyed)
        anonymous = [
            await client.get(
                "/graphql",
                params={
                    "query": "query($s: String!) { publishedPolicy(site: $s) { version } }",
                    "variables": json.dumps({"s": "acme"}),
                },
                headers={"Origin": "https://anyone.example"},
            )
            for _ in range(2)
        ]
    finally:
        pipeline.settings = normal
    assert first.status_code == 200 and refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == "https://acme.example"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert [a.status_code for a in anonymous] == [200, 429]
    assert anonymous[1].headers["Access-Control-Allow-Origin"] == "*"
    assert error_codes(anonymous[1].json()) == ["RATE_LIMITED"]
    # A secret key gets no CORS headers, refused or not; a key from a stranger's origin
    # is refused without them (the browser shows nothing to that page).
    stranger = await client.post(
        "/graphql",
        json=body,
        headers={"Authorization": f"Bearer {site_key}", "Origin": "https://evil.example"},
    )
    assert stranger.status_code == 403 and "Access-Control-Allow-Origin" not in stranger.headers
    unsupported = await client.post(
        "/graphql", content="x", headers={"Content-Type": "text/plain", **keyed}
    )
    assert unsupported.status_code == 415
    assert unsupported.headers["Access-Control-Allow-Origin"] == "https://acme.example"


@given(
    scheme=st.sampled_from(["https", "http", "HTTPS", "ftp", "wss"]),
    host=st.sampled_from(["acme.example", "www.acme.example", "ACME.example", "evil.example"]),
    port=st.sampled_from([None, 443, 80, 8080, 8443]),
    strict=st.booleans(),
)
def test_which_origins_a_key_trusts(scheme, host, port, strict):
    """The origin rule generated (server.cors.trusted_site): in production a tenant's
    domain is trusted over https on the default port only; outside it, any http(s)."""
    origin = f"{scheme}://{host}" + (f":{port}" if port else "")
    lowered = scheme.lower()
    secure_default = lowered == "https" and port in (None, 443)
    web = lowered in ("http", "https")
    expected = (secure_default if strict else web) and host != "evil.example"
    principal = Principal(key=SimpleNamespace(publishable=True))  # what the gate reads
    assert origin_allowed(principal, origin, ["acme.example"], strict=strict) is expected
