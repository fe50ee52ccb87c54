"""Lists that reach SQL stay under the drivers' parameter caps (asyncpg: 32,767 per
statement), whether the list comes from a client or from a table's size; input lists
that have no business being huge are capped with TOO_MANY."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tenants.chunks import CHUNK, chunks
from tenants.outbound.models import OutboxMessage
from tests.factories import create_draft, create_tenant, publish
from tests.test_breaches import NOTIFY, report
from tests.test_consent import grant, publish_policy

BATCH = """mutation($inputs: [ConsentInput!]!) {
  recordConsents(inputs: $inputs) { recorded userErrors { field code } }
}"""
MESSAGE = [{"locale": "en", "title": "Your data leaked", "body": "What happened."}]
ASYNCPG_CAP = 32_767


@given(st.lists(st.integers(), max_size=50), st.integers(min_value=1, max_value=12))
def test_chunks_keep_order_and_size(items, size):
    parts = list(chunks(items, size))
    assert [item for part in parts for item in part] == items
    assert all(1 <= len(part) <= size for part in parts)
    assert all(len(part) == size for part in parts[:-1])


async def test_listed_people_are_told_in_chunks_each_once(api):
    from tenants.breaches.notices import MAX_SUBJECTS

    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    await publish_policy(api, owner)
    people = [
        {"subjectId": f"known-{i}", "method": "FORM", "decisions": grant("analytics.reporting")}
        for i in range(3)
    ]
    people[2]["email"] = "known2@example.com"
    assert (await api(BATCH, {"inputs": people}, token=owner))["data"]["recordConsents"][
        "recorded"
    ] == 3
    breach = (await report(api, owner, risk="HIGH"))["breach"]
    # The largest list a call takes, the known people at the end of it (the last chunk).
    ids = [f"user-{i}" for i in range(MAX_SUBJECTS - 3)] + [f"known-{i}" for i in range(3)]
    body = await api(
        NOTIFY,
        {"id": breach["id"], "input": {"subjectIds": ids, "message": MESSAGE}},
        token=owner,
    )
    assert "errors" not in body, body["errors"]
    result = body["data"]["notifyBreachSubjects"]
    assert result["userErrors"] == [] and result["queued"] == len(ids)
    emails = await OutboxMessage.filter(kind="breach.notice", channel="email").count()
    assert emails == 1  # known-2's address was found in the last chunk
    # The rest in a second call, overlapping the first: nobody is told twice.
    more = ids[-100:] + [f"late-{i}" for i in range(CHUNK + 1)]
    again = await api(
        NOTIFY,
        {"id": breach["id"], "input": {"subjectIds": more, "message": MESSAGE}},
        token=owner,
    )
    assert again["data"]["notifyBreachSubjects"]["queued"] == CHUNK + 1
    assert await OutboxMessage.filter(kind="breach.notice").count() == len(ids) + CHUNK + 1


async def test_a_list_of_subjects_over_the_stated_cap_is_too_many(api):
    from tenants.breaches.notices import MAX_SUBJECTS

    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    breach = (await report(api, owner, risk="HIGH"))["breach"]
    ids = [f"u{i}" for i in range(MAX_SUBJECTS + 1)]
    body = await api(
        NOTIFY,
        {"id": breach["id"], "input": {"subjectIds": ids, "message": MESSAGE}},
        token=owner,
    )
    result = body["data"]["notifyBreachSubjects"]
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        (["input", "subjectIds"], "TOO_MANY")
    ]


async def test_everyone_affected_and_material_change_walk_a_large_tenant_in_chunks(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    await publish_policy(api, owner)
    total = ASYNCPG_CAP + CHUNK + 1  # more people than one statement can name
    for start in range(0, total, 1000):
        inputs = [
            {
                "subjectId": f"p-{i:06}",
                "method": "IMPORT",
                "decisions": grant("analytics.reporting"),
            }
            for i in range(start, min(start + 1000, total))
        ]
        result = (await api(BATCH, {"inputs": inputs}, token=owner))["data"]["recordConsents"]
        assert result["userErrors"] == []
    breach = (await report(api, owner, risk="HIGH"))["breach"]
    body = await api(
        NOTIFY,
        {"id": breach["id"], "input": {"allAffected": True, "message": MESSAGE}},
        token=owner,
    )
    assert "errors" not in body, body["errors"]
    assert body["data"]["notifyBreachSubjects"]["queued"] == total
    told = await OutboxMessage.filter(kind="breach.notice").values_list("subject_id", flat=True)
    assert len(told) == len(set(told)) == total  # each person once, nobody skipped

    # A material change is owed to every one of them: queued in the publishing request.
    draft = await create_draft(api, owner, material=True)
    await publish(api, owner, draft["id"])
    notices = await OutboxMessage.filter(kind="policy.material_change").count()
    assert notices == 1  # no address and no webhook for anyone: one dead letter counts them
    row = await OutboxMessage.get(kind="policy.material_change")
    from tenants.outbound.outbox import opened

    assert opened(row)[1]["unreachable_subjects"] == total


async def test_more_domains_than_a_tenant_may_claim_is_too_many(api, platform_token):
    from tenants.tenancy.service import MAX_DOMAINS
    from tests.factories import CREATE_TENANT

    domains = [f"site{i}.example" for i in range(MAX_DOMAINS + 1)]
    payload = {
        "slug": "many",
        "name": "Many",
        "defaultLocale": "en",
        "jurisdictions": ["EU"],
        "domains": domains,
    }
    body = await api(CREATE_TENANT, {"input": payload}, token=platform_token)
    errors = body["data"]["createTenant"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "domains"], "TOO_MANY")]
