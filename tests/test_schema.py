"""schema.graphql is the code's schema, and every contract name it implements matches."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from schema import sdl

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT.parent / "shared" / "api" / "contract.graphql"

# Operations implemented so far: the contract test fails if any of them goes missing.
IMPLEMENTED = {
    "Query": {
        "viewer",
        "apiKeys",
        "auditLog",
        "publishedPolicy",
        "policy",
        "policyVersion",
        "consentState",
        "consentHistory",
        "verifyConsentLedger",
        "subjectRequests",
        "subjectRequest",
        "jurisdictions",
        "breaches",
        "breach",
        "webhookEndpoints",
        "outboxMessages",
    },
    "Mutation": {
        "createTenant",
        "updateTenant",
        "createApiKey",
        "revokeApiKey",
        "createPolicyDraft",
        "updatePolicyDraft",
        "publishPolicyVersion",
        "recordConsent",
        "recordConsents",
        "submitSubjectRequest",
        "verifySubjectRequest",
        "updateSubjectRequest",
        "reportBreach",
        "updateBreach",
        "recordAuthorityNotification",
        "notifyBreachSubjects",
        "createWebhookEndpoint",
        "deleteWebhookEndpoint",
    },
    "Subscription": {"policyPublished", "subjectRequestUpdated", "breachUpdated"},
}


def test_snapshot_matches_code():
    exported = (ROOT / "schema.graphql").read_text()
    assert exported == sdl(), "schema.graphql is stale: run `make schema`"


@pytest.fixture(scope="module")
def schemas() -> tuple[GraphQLSchema, GraphQLSchema]:
    if not CONTRACT.exists():
        pytest.skip(f"no contract at {CONTRACT}")
    return build_schema(CONTRACT.read_text()), build_schema((ROOT / "schema.graphql").read_text())


def _roots(schema: GraphQLSchema) -> dict[str, GraphQLObjectType | None]:
    return {
        "Query": schema.query_type,
        "Mutation": schema.mutation_type,
        "Subscription": schema.subscription_type,
    }


def test_implemented_operations_are_present(schemas):
    _, ours = schemas
    for root, names in IMPLEMENTED.items():
        have = set(_roots(ours)[root].fields) if _roots(ours)[root] else set()
        assert names <= have, f"{root} lost {names - have}"


def test_operations_match_contract(schemas):
    contract, ours = schemas
    for root, want in _roots(contract).items():
        have = _roots(ours)[root]
        for name, field in want.fields.items() if want else []:
            if have is None or name not in have.fields:
                continue
            mine = have.fields[name]
            assert str(mine.type) == str(field.type), f"{root}.{name} returns {mine.type}"
            for arg, spec in field.args.items():
                assert arg in mine.args, f"{root}.{name} lacks argument {arg}"
                assert str(mine.args[arg].type) == str(spec.type), f"{root}.{name}({arg})"
                if spec.default_value is not None:
                    assert mine.args[arg].default_value == spec.default_value, f"{name}({arg})"
            extra = set(mine.args) - set(field.args)
            assert all(mine.args[a].type.__class__.__name__ != "GraphQLNonNull" for a in extra)


def test_types_match_contract(schemas):
    """Every contract type that exists in ours has the contract's fields, types and values."""
    contract, ours = schemas
    for name, want in contract.type_map.items():
        if name.startswith("__") or name in ("Query", "Mutation", "Subscription"):
            continue
        have = ours.type_map.get(name)
        if have is None:
            continue
        assert type(have) is type(want), f"{name} is a {type(have).__name__}"
        if isinstance(want, GraphQLEnumType):
            assert set(have.values) == set(want.values), f"enum {name}"
        elif isinstance(want, GraphQLObjectType | GraphQLInputObjectType):
            for field, spec in want.fields.items():
                assert field in have.fields, f"{name}.{field} missing"
                assert str(have.fields[field].type) == str(spec.type), f"{name}.{field} type"
                if isinstance(want, GraphQLInputObjectType) and spec.default_value is not None:
                    assert have.fields[field].default_value == spec.default_value, f"{name}.{field}"


def test_types_reachable_from_implemented_operations_exist(schemas):
    """An implemented operation's argument and result types exist in full, not in part."""
    contract, ours = schemas
    for root, names in IMPLEMENTED.items():
        want = _roots(contract)[root]
        for name in names:
            field = want.fields[name]
            named = [field.type, *(arg.type for arg in field.args.values())]
            for graphql_type in named:
                while hasattr(graphql_type, "of_type"):
                    graphql_type = graphql_type.of_type
                assert graphql_type.name in ours.type_map, f"{graphql_type.name} missing"
