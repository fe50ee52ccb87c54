"""recordConsent(s)' input, as the resolvers get it: strawberry's ``from_input`` hook
(``schema.consent.consent_item``) turns graphql-core's coerced value straight into
``intake.ConsentInput``, with the meaning the client's omissions and nulls had before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from graphql import parse

from schema import coercion
from schema import schema as charter
from schema.consent import ConsentInput
from tenants.consent import intake
from tenants.consent.methods import ConsentMethod
from tenants.policies.kinds import PolicyKind

BATCH = parse("mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }")
BASE = {"subjectId": "v-1", "method": "BANNER", "decisions": [{"purpose": "a", "granted": True}]}


def converted(**fields) -> intake.ConsentInput:
    variables = {"i": [{**BASE, **fields}]}
    operation = BATCH.definitions[0]
    found = coercion.variable_values(charter._schema, operation.variable_definitions, variables)
    raw = found.coerced["i"][0]
    definition = ConsentInput.__strawberry_definition__
    return definition.from_input(ConsentInput, raw, None)


def test_left_out_fields_are_absent_and_the_policy_kind_is_privacy():
    assert converted() == intake.ConsentInput(
        subject_id="v-1", decisions=[("a", True)], method=ConsentMethod.BANNER
    )
    assert type(converted().method) is ConsentMethod
    assert converted(policyKind=None).policy_kind is PolicyKind.PRIVACY


@pytest.mark.parametrize("name", ["locale", "occurredAt", "sourceUrl", "email"])
def test_empty_or_null_optional_texts_are_absent(name):
    empty = None if name == "occurredAt" else ""
    assert converted(**{name: empty}) == converted()
    assert converted(**{name: None}) == converted()


def test_version_and_client_event_id_keep_what_was_sent_for_the_ledger_to_judge():
    item = converted(policyVersion=0, clientEventId="")
    assert (item.policy_version, item.client_event_id) == (0, "")
    assert converted(policyVersion=None, clientEventId=None) == converted()


def test_every_field_arrives():
    item = converted(
        policyKind="COOKIES", policyVersion=3, locale="uz", occurredAt="2025-03-01T10:00:00Z",
        clientEventId="c-1", sourceUrl="https://x.example/", email="a@x.example",
    )  # fmt: skip
    assert item == intake.ConsentInput(
        "v-1", [("a", True)], ConsentMethod.BANNER, PolicyKind.COOKIES, 3, "uz",
        datetime(2025, 3, 1, 10, tzinfo=UTC), "c-1", "https://x.example/", "a@x.example",
    )  # fmt: skip
