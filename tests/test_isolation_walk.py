"""Every query and mutation, generated from the schema itself, called by every kind of key
of tenant B with tenant A's ids, slugs and subjects: nothing of A may show or change.

New operations are walked automatically; the test also fails if one is left out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from schema import schema
from tests.factories import create_draft, create_key, create_tenant
from tests.test_consent import grant, publish_policy

NOW = datetime.now(UTC).isoformat()
SNAPSHOT = """{
  viewer { tenant { id slug name domains dpoEmail locales } }
  apiKeys { id name revokedAt }
  policy(kind: PRIVACY) { versions(first: 50) { edges { node { id status translations { title body } } } } }
  consentState(subjectId: "alpha-subject-1") { purpose granted }
  consentHistory(subjectId: "alpha-subject-1") { edges { node { id hash } } }
  subjectRequests(first: 50) { edges { node { id status subjectId timeline { note } } } }
  breaches(first: 50) { edges { node { id title status risk updates { note } clocks { kind satisfiedAt } } } }
  webhookEndpoints { id url disabledAt }
  verifyConsentLedger { ok checked }
}"""


def _value(name: str, graphql_type, ids: list[str], a: dict):
    if isinstance(graphql_type, GraphQLNonNull):
        return _value(name, graphql_type.of_type, ids, a)
    if isinstance(graphql_type, GraphQLList):
        return [_value(name, graphql_type.of_type, ids, a)]
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        return {
            field_name: _value(field_name, field.type, ids, a)
            for field_name, field in graphql_type.fields.items()
            if isinstance(field.type, GraphQLNonNull) or field_name in ("subjectId", "email")
        }
    scalar = graphql_type.name
    if scalar == "ID":
        return ids[0]
    if scalar == "Int":
        return 1
    if scalar == "Boolean":
        return False
    if scalar == "DateTime":
        return NOW
    if scalar == "JSON":
        return {}
    return {
        "site": "alpha",
        "subjectId": "alpha-subject-1",
        "subjectIds": "alpha-subject-1",
        "token": a["token"],
        "jurisdiction": "EU",
        "url": "https://93.184.215.14/x",
        "email": "alpha.person@example.uz",
        "locale": "en",
        "purpose": "analytics.reporting",
    }.get(name, "alpha")


def _selection(graphql_type, depth: int = 0) -> str:
    named = get_named_type(graphql_type)
    if isinstance(named, GraphQLInterfaceType):  # Node: which object, if any, came back
        return "{ __typename id }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = []
    for field_name, field in named.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(field_name)
        elif depth < 3:
            sub = _selection(field.type, depth + 1)
            if sub:
                parts.append(f"{field_name} {sub}")
    return "{ " + " ".join(parts) + " }" if parts else ""


def calls(a: dict) -> list[tuple[str, str, dict]]:
    """(operation, document, variables) for every root field, once per id of A's."""
    out = []
    graphql = schema._schema
    for root, keyword in ((graphql.query_type, "query"), (graphql.mutation_type, "mutation")):
        for name, field in root.fields.items():
            has_id = any(get_named_type(arg.type).name == "ID" for arg in field.args.values())
            for an_id in a["ids"] if has_id else [None]:
                ids = [an_id] if an_id else ["00000000-0000-0000-0000-000000000000"]
                variables = {
                    arg_name: _value(arg_name, arg.type, ids, a)
                    for arg_name, arg in field.args.items()
                }
                declared = ", ".join(
                    f"${arg_name}: {arg.type}" for arg_name, arg in field.args.items()
                )
                passed = ", ".join(f"{arg_name}: ${arg_name}" for arg_name in field.args)
                head = f"{keyword}({declared})" if declared else keyword
                call = f"{name}({passed})" if passed else name
                out.append((name, f"{head} {{ {call} {_selection(field.type)} }}", variables))
    return out


@pytest.fixture
async def alpha(api) -> dict:
    tenant, owner = await create_tenant(
        api, slug="alpha", domains=["alpha.example"], dpoEmail="dpo@alpha.example"
    )
    await publish_policy(api, owner)
    draft = await create_draft(
        api,
        owner,
        translations=[{"locale": "en", "title": "ALPHA-DRAFT-SECRET", "body": "ALPHA-DRAFT-BODY"}],
    )
    record = "mutation($i: ConsentInput!) { recordConsent(input: $i) { receipt { id } } }"
    consent = await api(
        record,
        {
            "i": {
                "subjectId": "alpha-subject-1",
                "method": "FORM",
                "email": "alpha.person@example.uz",
                "decisions": grant("analytics.reporting"),
            }
        },
        token=owner,
    )
    submit = "mutation($i: SubjectRequestInput!) { submitSubjectRequest(input: $i) { subjectRequest { id } verificationToken } }"
    request = (
        await api(
            submit,
            {
                "i": {
                    "type": "ERASURE",
                    "subjectId": "alpha-subject-1",
                    "email": "alpha.person@example.uz",
                }
            },
            token=owner,
        )
    )["data"]["submitSubjectRequest"]
    breach = await api(
        'mutation { reportBreach(input: {title: "ALPHA-BREACH-SECRET", risk: HIGH, detectedAt: "2026-11-20T10:00:00+00:00"}) { breach { id } } }',
        token=owner,
    )
    endpoint = await api(
        'mutation { createWebhookEndpoint(url: "https://93.184.215.14/alpha-hook", events: ["breach.reported"]) { endpoint { id } } }',
        token=owner,
    )
    editor, _ = await create_key(api, owner, name="alpha editor", role="EDITOR")
    own = (await api("{ viewer { key { id } } }", token=owner))["data"]["viewer"]["key"]["id"]
    ids = [
        tenant["id"],
        own,
        editor["id"],
        draft["id"],
        request["subjectRequest"]["id"],
        breach["data"]["reportBreach"]["breach"]["id"],
        endpoint["data"]["createWebhookEndpoint"]["endpoint"]["id"],
        consent["data"]["recordConsent"]["receipt"]["id"],
    ]
    secrets = [
        *ids,
        "ALPHA-DRAFT-SECRET",
        "ALPHA-BREACH-SECRET",
        "alpha.person@example.uz",
        "alpha-hook",
        "dpo@alpha.example",
    ]
    return {"owner": owner, "ids": ids, "token": request["verificationToken"], "secrets": secrets}


async def test_the_walk_covers_every_operation_and_can_see_a_leak(api, alpha):
    graphql = schema._schema
    every = set(graphql.query_type.fields) | set(graphql.mutation_type.fields)
    assert {name for name, _, _ in calls(alpha)} == every
    # The walk is not blind: with A's own key, its documents are valid and show A's data.
    shown = 0
    for _, document, variables in calls(alpha):
        body = await api(document, variables, token=alpha["owner"])
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        assert "GRAPHQL_VALIDATION_FAILED" not in codes, (document, body)
        shown += any(s in json.dumps(body) for s in alpha["secrets"])
    assert shown >= 10


async def test_no_key_of_tenant_b_sees_or_changes_tenant_a(api, alpha):
    _, b_owner = await create_tenant(api, slug="bravo")
    keys = {"OWNER": b_owner}
    for role in ("ADMIN", "EDITOR", "AUDITOR"):
        keys[role] = (await create_key(api, b_owner, name=role, role=role))[1]
    keys["PUBLISHABLE"] = (await create_key(api, b_owner, name="site", publishable=True))[1]
    before = await api(SNAPSHOT, token=alpha["owner"])
    leaks = []
    for role, token in keys.items():
        for name, document, variables in calls(alpha):
            body = await api(document, variables, token=token)
            text = json.dumps(body)
            # publishedPolicy is public by design: its answer is A's published text.
            found = [s for s in alpha["secrets"] if s in text]
            if found:
                leaks.append((role, name, found))
    assert leaks == []
    after = await api(SNAPSHOT, token=alpha["owner"])
    assert after == before
