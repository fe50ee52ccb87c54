"""The hot path: publishedPolicy from Redis alone, invalidated precisely, no stampede."""

from __future__ import annotations

import asyncio

from tenants.cache import Cache
from tests.factories import create_draft, create_tenant, publish

QUERY = """query($site: String!, $locale: String) {
  publishedPolicy(site: $site, locale: $locale) { version locale title }
}"""
EN_RU = [
    {"locale": "en", "title": "One", "body": "First."},
    {"locale": "ru", "title": "Один", "body": "Первый."},
]


async def _read(api, site, locale="en"):
    body = await api(QUERY, {"site": site, "locale": locale})
    return body["data"]["publishedPolicy"]


async def test_steady_state_makes_no_database_queries(api, queries):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"])
    await publish(api, owner, (await create_draft(api, owner, translations=EN_RU))["id"])
    await _read(api, "acme")  # warms the cache
    queries.reset()
    for locale in ("en", "ru", "en-GB", "ru-RU", "uz"):
        assert (await _read(api, "acme", locale))["version"] == 1
    assert queries.count == 0, queries.statements


async def test_unknown_sites_are_cached_too(api, queries):
    assert await _read(api, "nobody") is None
    queries.reset()
    assert await _read(api, "nobody") is None
    assert queries.count == 0


async def test_a_site_longer_than_any_slug_is_simply_unknown(api):
    # Found by the fuzzer: 210 characters of combining marks, under the site length limit
    # but over the slug column's, made Tortoise refuse the lookup (a 500).
    _, owner = await create_tenant(api, slug="acme")
    site = "t\u0335\u033a" * 70
    body = await api(
        "query($s: String!) { publishedPolicy(site: $s, kind: TERMS) { title } }",
        {"s": site},
        token=owner,
    )
    assert body == {"data": {"publishedPolicy": None}}


async def test_publish_invalidates_every_locale_of_that_tenant_only(api, queries):
    _, acme = await create_tenant(api, slug="acme", locales=["ru"])
    _, other = await create_tenant(api, slug="other", locales=["ru"])
    for owner in (acme, other):
        await publish(api, owner, (await create_draft(api, owner, translations=EN_RU))["id"])
    for site in ("acme", "other"):
        for locale in ("en", "ru"):
            await _read(api, site, locale)

    second = [
        {"locale": "en", "title": "Two", "body": "Second."},
        {"locale": "ru", "title": "Два", "body": "Второй."},
    ]
    await publish(api, acme, (await create_draft(api, acme, translations=second))["id"])
    assert (await _read(api, "acme", "en"))["title"] == "Two"
    assert (await _read(api, "acme", "ru"))["title"] == "Два"

    queries.reset()
    assert (await _read(api, "other", "en"))["title"] == "One"
    assert (await _read(api, "other", "ru"))["title"] == "Один"
    assert queries.count == 0, "the other tenant's entries were invalidated too"


async def test_tenant_changes_reach_the_public_read(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"])
    await publish(api, owner, (await create_draft(api, owner, translations=EN_RU))["id"])
    assert await _read(api, "acme.example") is None
    await api(
        'mutation { updateTenant(input: {domains: ["acme.example"]}) { tenant { id } } }',
        token=owner,
    )
    assert (await _read(api, "acme.example"))["title"] == "One"
    await api(
        'mutation { updateTenant(input: {defaultLocale: "ru"}) { tenant { id } } }', token=owner
    )
    assert (await _read(api, "acme.example", "de"))["locale"] == "ru"
    assert (await _read(api, "WWW.Acme.Example"))["locale"] == "en"  # another spelling
    await api("mutation { updateTenant(input: {domains: []}) { tenant { id } } }", token=owner)
    assert await _read(api, "acme.example") is None
    assert await _read(api, "WWW.Acme.Example") is None  # no spelling keeps the old owner


async def test_an_unicode_domain_is_forgotten_in_every_spelling(api):
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner, translations=EN_RU))["id"])
    await api(
        'mutation { updateTenant(input: {domains: ["пример.рф"]}) { tenant { id } } }', token=owner
    )
    for spelling in ("пример.рф", "www.пример.рф", "xn--e1afmkfd.xn--p1ai"):
        assert (await _read(api, spelling))["title"] == "One", spelling
    await api("mutation { updateTenant(input: {domains: []}) { tenant { id } } }", token=owner)
    for spelling in ("пример.рф", "www.пример.рф", "xn--e1afmkfd.xn--p1ai"):
        assert await _read(api, spelling) is None, spelling


async def test_a_burst_of_misses_loads_once(api, queries):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"])
    await publish(api, owner, (await create_draft(api, owner, translations=EN_RU))["id"])
    await _read(api, "acme")  # the site mapping is now cached
    await publish(api, owner, (await create_draft(api, owner, translations=EN_RU))["id"])
    queries.reset()
    results = await asyncio.gather(*(_read(api, "acme") for _ in range(25)))
    assert {r["version"] for r in results} == {2}
    index_loads = [s for s in queries.statements if "policy_version" in s and "SELECT" in s]
    # One load of the new index and one of the new version's content, however many asked.
    assert len(index_loads) <= 2, index_loads


async def test_remembered_facts_follow_the_generation_and_leave_with_redis(app, monkeypatch):
    cache, loads = app.state.cache, []

    async def load():
        loads.append(len(loads) + 1)
        return loads[-1]

    assert [await cache.remember("t-1", "fact", load) for _ in range(3)] == [1, 1, 1]
    await cache.bump("t-1")
    assert await cache.remember("t-1", "fact", load) == 2  # a bump is seen at once
    cache.failed(RuntimeError("connection lost"), "a test")
    assert await cache.remember("t-1", "fact", load) == 3  # Redis down: no memory used
    cache._down_until = 0.0
    # Redis may be back without its data (generations from 0): what was kept is gone.
    assert [await cache.remember("t-1", "fact", load) for _ in range(2)] == [4, 4]
    monkeypatch.setattr("tenants.cache.MEMO_SECONDS", 0.0)
    await cache.bump("t-1")
    # Nothing is kept longer than MEMO_SECONDS, generation or not.
    assert [await cache.remember("t-1", "fact", load) for _ in range(2)] == [5, 6]


async def _hearing(cache) -> None:
    for _ in range(100):  # until the invalidation feed is up
        if cache._hearing():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the invalidation feed never came up")


async def test_heard_facts_ask_redis_nothing_until_a_bump_is_heard(app, monkeypatch):
    cache, loads, reads = app.state.cache, [], []
    await _hearing(cache)

    async def load():
        loads.append(len(loads) + 1)
        return loads[-1]

    real = cache.generation

    async def generation(tenant_id):
        reads.append(tenant_id)
        return await real(tenant_id)

    monkeypatch.setattr(cache, "generation", generation)
    assert [await cache.remember("t-1", "fact", load) for _ in range(5)] == [1] * 5
    assert len(reads) == 1  # the fill; every later use is memory alone
    # Another process's bump (its INCR and publish, none of this process's listeners)
    # drops the fact as soon as the message is heard.
    await Cache(cache.redis).bump("t-1")
    for _ in range(100):
        if await cache.remember("t-1", "fact", load) == 2:
            break
        await asyncio.sleep(0.01)
    assert loads == [1, 2]
    assert await cache.remember("t-2", "fact", load) == 3  # facts are kept per tenant
    assert await cache.remember("t-1", "fact", load) == 2


async def test_a_fact_loaded_across_a_bump_is_checked_again(app):
    cache, loads = app.state.cache, []
    await _hearing(cache)
    other = Cache(cache.redis)  # another process

    async def load():
        loads.append(len(loads) + 1)
        if len(loads) == 1:  # the bump lands while the first value is being read
            epoch = cache._memo_epoch
            await other.bump("t-1")
            for _ in range(100):
                if cache._memo_epoch != epoch:
                    break
                await asyncio.sleep(0.01)
        return loads[-1]

    assert await cache.remember("t-1", "fact", load) == 1
    assert await cache.remember("t-1", "fact", load) == 2  # not trusted: Redis was asked


async def test_a_silent_feed_sends_every_use_back_to_redis(app):
    cache, loads = app.state.cache, []
    await _hearing(cache)

    async def load():
        loads.append(len(loads) + 1)
        return loads[-1]

    assert [await cache.remember("t-1", "fact", load) for _ in range(2)] == [1, 1]
    hub = app.state.hub
    heard, hub._heard = hub._heard, float("-inf")  # no word from Redis for too long
    try:
        # A bump whose message never arrives: only the generation can tell.
        await cache.redis.incr(Cache.key("gen", "t-1"))
        assert await cache.remember("t-1", "fact", load) == 2
    finally:
        hub._heard = max(heard, hub._heard)
