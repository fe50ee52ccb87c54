"""The gate over HTTP: text, bodies, subscriptions, persisted queries, site identity,
the client IP, and the fast path answering exactly what the gate would."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests import backends as tb
from tests.factories import create_draft, create_key, create_tenant, error_codes, publish
from tests.test_consent import grant, publish_policy

CHARTER = str(Path(sys.executable).with_name("charter"))
POLICY = "query($site: String!) { publishedPolicy(site: $site) { version title } }"
UPDATE = "mutation($i: UpdateTenantInput!) { updateTenant(input: $i) { userErrors { code } } }"
RECORD = """mutation($i: ConsentInput!) {
  recordConsent(input: $i) { receipt { id } userErrors { code } } }"""


async def post(client, body, token=None, headers=None):
    """As clients send it: JSON with \\u escapes (httpx's own encoding cannot carry a
    lone surrogate at all)."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    headers = {"Content-Type": "application/json", **auth, **(headers or {})}
    return await client.post("/graphql", content=json.dumps(body), headers=headers)


async def test_lone_surrogates_and_nul_are_bad_input_on_every_http_road(client, api):
    _, owner = await create_tenant(api, slug="alpha")
    await publish_policy(api, owner)
    consent = {
        "subjectId": "x\ud800",
        "method": "BANNER",
        "decisions": grant("analytics.reporting"),
    }
    bodies = [
        ({"query": RECORD, "variables": {"i": consent}}, owner),
        ({"query": POLICY, "variables": {"site": "alpha\ud800"}}, None),  # the limiter's key
        ({"query": POLICY, "variables": {"site": "al\x00pha"}}, None),
        ({"query": UPDATE, "variables": {"i": {"name": "\udfff"}}}, owner),
    ]
    for body, token in bodies:
        answer = await post(client, body, token)
        assert answer.status_code == 400, answer.text
        assert error_codes(answer.json()) == ["BAD_USER_INPUT"]
    params = {"query": POLICY, "variables": json.dumps({"site": "alpha\ud800"})}
    answer = await client.get("/graphql", params=params)
    assert answer.status_code == 400 and error_codes(answer.json()) == ["BAD_USER_INPUT"]
    for raw in (b'{"query": "{ __typename }", "x": "\xed\xa0\x80"}', b'{"query": "\xff"}'):
        answer = await client.post(
            "/graphql", content=raw, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 400 and error_codes(answer.json()) == ["BAD_USER_INPUT"]


async def test_a_subscription_over_http_is_a_clean_400(client):
    body = {"query": 'subscription { policyPublished(site: "acme") { version } }'}
    for answer in (
        await client.post("/graphql", json=body),
        await client.get("/graphql", params=body),
    ):
        assert answer.status_code in (400, 405), answer.text
        assert "errors" in answer.json() or answer.status_code == 405


async def test_persisted_queries_keep_only_documents_up_to_the_stated_size(app, client, api):
    await create_tenant(api, slug="acme")
    limit = app.state.pipeline.settings.edge.apq_max_bytes
    padded = POLICY + " #" + "x" * (limit + 10)  # a valid document, mostly comment
    small = POLICY + " # small"
    for document, kept in ((padded, False), (small, True)):
        digest = hashlib.sha256(document.encode()).hexdigest()
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        body = {"query": document, "variables": {"site": "acme"}, "extensions": extensions}
        assert (await client.post("/graphql", json=body)).status_code == 200  # executed
        stored = await app.state.redis.get(f"charter:apq:{digest}")
        assert (stored is not None) is kept
        ttl = await app.state.redis.ttl(f"charter:apq:{digest}")
        assert not kept or 0 < ttl <= 7 * 86400
        again = await client.get(
            "/graphql",
            params={
                "extensions": json.dumps(extensions),
                "variables": json.dumps({"site": "acme"}),
            },
        )
        codes = error_codes(again.json())
        assert (codes == ["PERSISTED_QUERY_NOT_FOUND"]) is not kept


SPELLINGS = [
    "acme.example",
    "www.acme.example",
    "ACME.example.",
    "ac\u00adme.example",  # soft hyphen
    "\uff41\uff43\uff4d\uff45.example",  # full-width
    "a\u200dcme.example",  # zero-width joiner
    "www.ACME.EXAMPLE",
    "acme\u3002example",  # ideographic full stop
]


async def test_every_spelling_of_a_site_is_one_site(app, client, api):
    import dataclasses

    from server.settings import Rate

    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish(api, owner, (await create_draft(api, owner))["id"])
    pipeline = app.state.pipeline
    normal = pipeline.settings
    pipeline.settings = dataclasses.replace(
        normal, edge=dataclasses.replace(normal.edge, public_rate=Rate(0.001, 8))
    )
    try:
        statuses = []
        for spelling in SPELLINGS * 2:  # one bucket: exactly its burst of 8 passes
            answer = await post(client, {"query": POLICY, "variables": {"site": spelling}})
            statuses.append(answer.status_code)
            if answer.status_code == 200:
                assert answer.json()["data"]["publishedPolicy"]["version"] == 1, spelling
    finally:
        pipeline.settings = normal
    assert statuses.count(200) == 8 and statuses.count(429) == 8, statuses


async def test_a_domain_that_moves_serves_its_new_tenant_in_every_spelling(client, api):
    _, first = await create_tenant(api, slug="first", domains=["shop.example"])
    await publish(api, first, (await create_draft(api, first))["id"])
    _, second = await create_tenant(api, slug="second")
    other = [{"locale": "en", "title": "Second's", "body": "2"}]
    await publish(api, second, (await create_draft(api, second, translations=other))["id"])
    spellings = ["shop.example", "www.shop.example", "SHOP.example.", "sh\u00adop.example"]
    for spelling in spellings:  # every spelling cached for the first tenant
        for _ in range(2):
            body = (await post(client, {"query": POLICY, "variables": {"site": spelling}})).json()
            assert body["data"]["publishedPolicy"]["title"] == "Privacy"
    assert (await api(UPDATE, {"i": {"domains": []}}, token=first))["data"]
    assert (await api(UPDATE, {"i": {"domains": ["www.shop.example"]}}, token=second))["data"]
    for spelling in spellings:
        body = (await post(client, {"query": POLICY, "variables": {"site": spelling}})).json()
        assert body["data"]["publishedPolicy"]["title"] == "Second's", spelling


async def test_a_publishable_key_works_from_the_www_host_of_its_domain(client, api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    _, site_key = await create_key(api, owner, name="site", publishable=True)
    consent = {"subjectId": "v1", "method": "BANNER", "decisions": grant("analytics.reporting")}
    for origin, status in (
        ("https://www.acme.example", 200),
        ("https://WWW.acme.example", 200),
        ("https://acme.example", 200),
        ("https://evil.example", 403),
    ):
        answer = await post(
            client, {"query": RECORD, "variables": {"i": consent}}, site_key, {"Origin": origin}
        )
        assert answer.status_code == status, (origin, answer.text)
        if status == 200:
            assert answer.headers["Access-Control-Allow-Origin"] == origin
    preflight = await client.options(
        "/graphql",
        headers={
            "Origin": "https://www.acme.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",  # a key's
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://www.acme.example"


async def test_the_cli_finds_a_site_by_its_www_host(api, settings, tmp_path):
    await create_tenant(api, slug="acme", domains=["acme.example"])
    policy = tmp_path / "policy.md"
    policy.write_text("Privacy\n\nWe keep little.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    process = await asyncio.create_subprocess_exec(
        CHARTER, "policy", "import", str(policy), "--site", "www.ACME.example.",
        "--locale", "en", "--publish", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    body = await api(POLICY, {"site": "www.acme.example"})
    assert body["data"]["publishedPolicy"]["title"] == "Privacy"


async def test_consent_evidence_uses_the_address_behind_trusted_proxies(app, client, api):
    import dataclasses

    _, owner = await create_tenant(api, slug="alpha")
    await publish_policy(api, owner)
    pipeline = app.state.pipeline
    normal = pipeline.settings
    trusted = ("127.0.0.1", "10.0.0.0/8")  # httpx's in-process client is 127.0.0.1
    pipeline.settings = dataclasses.replace(
        normal, edge=dataclasses.replace(normal.edge, trusted_proxies=trusted)
    )
    consent = {"subjectId": "s1", "method": "BANNER", "decisions": grant("analytics.reporting")}
    try:
        answer = await post(
            client,
            {"query": RECORD, "variables": {"i": consent}},
            owner,
            {"X-Forwarded-For": "203.0.113.77, 10.0.0.9"},
        )
    finally:
        pipeline.settings = normal
    assert answer.json()["data"]["recordConsent"]["userErrors"] == []
    from tenants.consent.models import ConsentEvent

    event = await ConsentEvent.filter(subject_id="s1").first()
    assert event.ip == "203.0.113.0"  # the client's /24, not the proxy's


# The fast path against the usual road: the same requests, answered the same way.
SHAPES = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST"]),
        "site": st.sampled_from(["acme", "www.acme.example", "ACME.example.", "nobody", "x\ud800"]),
        "named": st.booleans(),  # the document names its operation "Read"
        # operationName as Apollo, urql and Relay send it, or a wrong or empty one
        # ("Read" also names the document so: the shape the caches must take)
        "operation": st.sampled_from([None, "Read", "Read", "Other", ""]),
        "accept": st.sampled_from([None, "application/graphql-response+json", "*/*"]),
        "language": st.sampled_from([None, "ru", "en;q=0.5"]),
        "extra": st.sampled_from([None, "locale", "version", "bad-version"]),
        "origin": st.sampled_from([None, "https://acme.example"]),
        "hashed": st.booleans(),  # Apollo's persisted queries: the hash, not the document
        # a wrong APQ version; and Apollo Client 4's {"clientLibrary"} extension, sent
        # with every request and meaningless to the server
        "version": st.sampled_from([1, 1, 2]),
        "library": st.booleans(),
        # If-None-Match made from the ETag the first answer carried (RFC 9110 §13.1.2)
        "validator": st.sampled_from([None, "strong", "weak", "list", "star", "other"]),
    }
)


# The shape Apollo Client sends, with its persisted queries link over GET.
APOLLO = {
    "method": "GET",
    "site": "acme",
    "named": True,
    "operation": "Read",
    "accept": None,
    "language": None,
    "extra": None,
    "origin": None,
    "version": 1,
    "library": True,
}


def _validator(kind: str | None, etag: str | None) -> dict:
    tag = etag or '"none"'
    value = {
        None: None,
        "strong": tag,
        "weak": f"W/{tag}",
        "list": f'"x", W/"y",{tag}',
        "star": "*",
        "other": '"other", W/"another"',
    }[kind]
    return {"If-None-Match": value} if value else {}


def _request(shape: dict) -> tuple[str, dict, dict]:
    variables = {"site": shape["site"]}
    document = POLICY
    if shape["extra"] == "locale":
        document = "query($site: String!, $l: String) { publishedPolicy(site: $site, locale: $l) { version title locale } }"
        variables["l"] = "ru"
    elif shape["extra"] == "version":
        variables = {"site": shape["site"]}
        document = "query($site: String!) { publishedPolicy(site: $site, version: 1) { version } }"
    elif shape["extra"] == "bad-version":
        document = (
            'query($site: String!) { publishedPolicy(site: $site, version: "x") { version } }'
        )
    if shape["named"] or shape["operation"] == "Read":
        document = document.replace("query(", "query Read(", 1)
    headers = {
        key: value
        for key, value in (
            ("Accept", shape["accept"]),
            ("Accept-Language", shape["language"]),
            ("Origin", shape["origin"]),
        )
        if value
    }
    body = {"query": document, "variables": variables}
    if shape["operation"] is not None:
        body["operationName"] = shape["operation"]
    register = None
    library = {"clientLibrary": {"name": "@apollo/client", "version": "4.3.8"}}
    if shape["hashed"]:
        digest = hashlib.sha256(document.encode()).hexdigest()
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        register = {**body, "extensions": extensions}
        body = {k: v for k, v in register.items() if k != "query"}
        persisted = {"version": shape["version"], "sha256Hash": digest}
        body["extensions"] = {"persistedQuery": persisted}
    if shape["library"]:
        body["extensions"] = {**body.get("extensions", {}), **library}
    return shape["method"], body, headers, register


COMPARED = (
    "content-type",
    "etag",
    "cache-control",
    "vary",
    "access-control-allow-origin",
    "access-control-expose-headers",
)


async def _answer(client, method, body, headers):
    if method == "GET":
        params = {**body, "variables": json.dumps(body["variables"])}
        if "extensions" in body:
            params["extensions"] = json.dumps(body["extensions"])
        answer = await client.get("/graphql", params=params, headers=headers)
    else:
        answer = await post(client, body, headers=headers)
    kept = {name: answer.headers.get(name) for name in COMPARED}
    return answer.status_code, answer.content, kept


async def test_the_fast_path_answers_only_what_the_gate_would(app, client, api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish(api, owner, (await create_draft(api, owner))["id"])
    fast = app.middleware_stack  # server.fastpath.FastPath
    loop = asyncio.get_running_loop()
    compared, usual_road = [], []
    pipeline = app.state.pipeline
    handle = pipeline.handle

    async def counted(request, run):
        usual_road.append(request)
        return await handle(request, run)

    pipeline.handle = counted

    @hypothesis_settings(
        max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(SHAPES)
    @example(APOLLO | {"hashed": True, "validator": "weak"})  # always, whatever is drawn
    @example(APOLLO | {"hashed": False, "validator": "list"})
    def check(shape):
        method, body, headers, register = _request(shape)

        async def both():
            nonlocal headers
            fast.enabled = False
            try:
                if register is not None:  # the hash known, as after Apollo's first try
                    await post(client, register)
                usual = await _answer(client, method, body, headers)  # fills the caches
                if shape["validator"]:
                    headers = {**headers, **_validator(shape["validator"], usual[2]["etag"])}
                    usual = await _answer(client, method, body, headers)  # conditional
                else:
                    await _answer(client, method, body, headers)
            finally:
                fast.enabled = True
            await _answer(client, method, body, headers)
            before = len(usual_road)
            shortcut = await _answer(client, method, body, headers)  # from memory now
            if len(usual_road) == before:
                shortcuts.append(shape)
                if shortcut[0] == 304:
                    revalidated.append(shape)
            return usual, shortcut

        usual, shortcut = asyncio.run_coroutine_threadsafe(both(), loop).result()
        compared.append(shape)
        assert shortcut == usual, (shape, usual, shortcut)

    shortcuts, revalidated = [], []
    try:
        await loop.run_in_executor(None, check)
    finally:
        pipeline.handle = handle
    assert len(compared) >= 120
    assert len(shortcuts) >= 5  # the comparison saw the fast path answer, not only decline
    # ... including the shape real clients send: the operation named, GET and POST
    assert {s["method"] for s in shortcuts if s["operation"] == "Read"} == {"GET", "POST"}
    assert any(s["hashed"] and s["validator"] for s in shortcuts)
    assert any(s["library"] and not s["hashed"] for s in shortcuts)  # Apollo's plain GET
    assert {s["validator"] for s in revalidated} >= {"weak", "list"}  # 304s, weakly compared


async def test_one_ipv6_network_is_one_client_for_every_limit(app, api):
    """An IPv6 host is handed a whole /64 (RFC 6177; home routers and cloud machines
    alike), so each of its 2**64 addresses minting a fresh anonymous bucket would make
    per-IP limits mean nothing. Addresses of one /64 share a bucket, over POST (the
    gate), GET (the hot path) and the site pages; another /64 has its own; an IPv4
    client seen as an IPv4-mapped IPv6 address is that IPv4 client."""
    import dataclasses

    import httpx

    from server.settings import Rate

    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish(api, owner, (await create_draft(api, owner))["id"])
    pipeline = app.state.pipeline
    normal = pipeline.settings
    strict = dataclasses.replace(normal.edge, public_rate=Rate(0.001, 8))
    pipeline.settings = dataclasses.replace(normal, edge=strict)
    app.state.settings, state_settings = pipeline.settings, app.state.settings

    async def statuses(addresses, road) -> list[int]:
        seen = []
        for address in addresses:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                if road == "post":
                    answer = await post(http, {"query": POLICY, "variables": {"site": "acme"}})
                elif road == "get":
                    answer = await http.get(
                        "/graphql", params={"query": POLICY, "variables": '{"site":"acme"}'}
                    )
                else:
                    answer = await http.get("/t/acme/consent.js")
                seen.append(answer.status_code)
        return seen

    try:
        for number, road in enumerate(("post", "get", "site")):
            one_network = [f"2001:db8:{number}:1::{n:x}" for n in range(1, 17)]
            seen = await statuses(one_network, road)
            assert seen.count(200) == 8 and seen.count(429) == 8, (road, seen)
            assert await statuses([f"2001:db8:{number}:2::1"], road) == [200], road
        await app.state.redis.flushdb()
        mapped = ["192.0.2.7", "::ffff:192.0.2.7"] * 8
        seen = await statuses(mapped, "post")
        assert seen.count(200) == 8 and seen.count(429) == 8, seen
    finally:
        pipeline.settings = normal
        app.state.settings = state_settings
