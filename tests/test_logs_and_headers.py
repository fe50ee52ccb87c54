"""Nothing secret reaches the logs; browsers get the headers they should."""

from __future__ import annotations

from tests import backends as tb
from tests.factories import CREATE_TENANT, create_key, create_tenant
from tests.servers import serve


async def test_a_debug_run_logs_no_secret(api, settings):
    secrets = [tb.ADMIN_TOKEN, tb.SECRET_KEY]
    async with serve(settings, CHARTER_LOG_LEVEL="DEBUG") as http:
        body = {
            "query": CREATE_TENANT,
            "variables": {
                "input": {
                    "slug": "logged",
                    "name": "L",
                    "defaultLocale": "en",
                    "jurisdictions": ["EU"],
                    "dpoEmail": "dpo@logged.example",
                }
            },
        }
        owner = (
            await http.post(
                "/graphql", json=body, headers={"Authorization": f"Bearer {tb.ADMIN_TOKEN}"}
            )
        ).json()["data"]["createTenant"]["ownerKey"]
        auth = {"Authorization": f"Bearer {owner}"}
        key = (
            await http.post(
                "/graphql",
                json={
                    "query": 'mutation { createApiKey(input: {name: "site", publishable: true}) { secret } }'
                },
                headers=auth,
            )
        ).json()
        hook = (
            await http.post(
                "/graphql",
                json={
                    "query": 'mutation { createWebhookEndpoint(url: "https://93.184.215.14/h", events: ["breach.reported"]) { secret } }'
                },
                headers=auth,
            )
        ).json()
        made = (
            await http.post(
                "/graphql",
                json={
                    "query": 'mutation { submitSubjectRequest(input: {type: ACCESS, subjectId: "s", email: "private.person@example.uz"}) { verificationToken } }'
                },
                headers=auth,
            )
        ).json()
        await http.post(
            "/graphql",
            json={"query": "{ viewer { key { id } } }"},
            headers={"Authorization": "Bearer sk_wrong_guess_123"},
        )
        secrets += [
            owner,
            key["data"]["createApiKey"]["secret"],
            hook["data"]["createWebhookEndpoint"]["secret"],
            made["data"]["submitSubjectRequest"]["verificationToken"],
            "private.person@example.uz",
        ]
        log = settings.data_dir / f"serve-{http.base_url.port}.log"
    logs = log.read_bytes().decode(errors="replace")
    assert "SELECT" in logs  # the debug log really was on
    assert [s for s in secrets if s in logs] == []


async def test_graphiql_page_is_locked_down(client):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


async def test_cors_follows_the_tenants_domains(client, api):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    _, site = await create_key(api, owner, name="site", publishable=True)
    keyed = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    good = await client.options("/graphql", headers={"Origin": "https://acme.example", **keyed})
    assert (
        good.status_code == 204
        and good.headers["Access-Control-Allow-Origin"] == "https://acme.example"
    )
    stranger = await client.options("/graphql", headers={"Origin": "https://evil.example", **keyed})
    assert "Access-Control-Allow-Origin" not in stranger.headers

    body = {
        "query": 'mutation { submitSubjectRequest(input: {type: ACCESS, email: "a@b.example"}) { userErrors { code } } }'
    }
    allowed = await client.post(
        "/graphql",
        json=body,
        headers={"Authorization": f"Bearer {site}", "Origin": "https://acme.example"},
    )
    assert (
        allowed.status_code == 200
        and allowed.headers["Access-Control-Allow-Origin"] == "https://acme.example"
    )
    refused = await client.post(
        "/graphql",
        json=body,
        headers={"Authorization": f"Bearer {site}", "Origin": "https://evil.example"},
    )
    assert (
        refused.status_code == 403
        and refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    )
    public = await client.post(
        "/graphql",
        json={"query": '{ publishedPolicy(site: "acme") { version } }'},
        headers={"Origin": "https://anyone.example"},
    )
    assert public.headers["Access-Control-Allow-Origin"] == "*"
    secret = await client.post(
        "/graphql",
        json={"query": "{ viewer { key { id } } }"},
        headers={"Authorization": f"Bearer {owner}", "Origin": "https://acme.example"},
    )
    assert "Access-Control-Allow-Origin" not in secret.headers

    # A change of domains holds from the next request (the domains are kept in memory).
    moved = await api(
        'mutation { updateTenant(input: {domains: ["shop.example"]}) { userErrors { code } } }',
        token=owner,
    )
    assert moved["data"]["updateTenant"]["userErrors"] == []
    statuses = {}
    for origin in ("https://shop.example", "https://acme.example"):
        answer = await client.post(
            "/graphql", json=body, headers={"Authorization": f"Bearer {site}", "Origin": origin}
        )
        statuses[origin] = answer.status_code
    assert statuses == {"https://shop.example": 200, "https://acme.example": 403}
