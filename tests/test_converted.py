"""recordConsents' inputs are converted by Charter in one pass (``schema.converted``), not
by strawberry one item at a time, and the field answers as before: variables, inline
literals, enums and defaults, refusals, and what the receipt-less payload says."""

from __future__ import annotations

import pytest
import strawberry
from strawberry.permission import BasePermission
from strawberry.types import arguments

from schema import schema as charter
from schema.converted import convert_in_one_pass
from tests.factories import error_codes
from tests.test_consent import acme as _acme
from tests.test_consent import state

acme = _acme  # the fixture, under its own name

MANY = """mutation($i: [ConsentInput!]!) {
  recordConsents(inputs: $i) { recorded duplicates userErrors { code field } }
}"""
DECISIONS = [
    {"purpose": "analytics.reporting", "granted": True},
    {"purpose": "marketing.communications.email", "granted": False},
]


def _input(n: int, **fields) -> dict:
    return {"subjectId": f"v-{n}", "method": "BANNER", "decisions": DECISIONS, **fields}


async def test_the_list_is_not_converted_by_strawberry_item_by_item(api, acme, monkeypatch):
    calls = []
    walk = arguments.convert_argument

    def counted(value, type_, *args, **kwargs):
        calls.append(type_)
        return walk(value, type_, *args, **kwargs)

    monkeypatch.setattr(arguments, "convert_argument", counted)
    body = await api(MANY, {"i": [_input(n) for n in range(40)]}, token=acme["owner"])
    assert body["data"]["recordConsents"] == {"recorded": 40, "duplicates": 0, "userErrors": []}
    assert calls == []  # strawberry's walk: one call per input and per field before


async def test_inline_literals_enums_and_defaults_arrive_as_with_variables(api, acme):
    literal = """mutation { recordConsents(inputs: [
      {subjectId: "lit-1", method: BANNER, policyKind: PRIVACY, locale: "ru",
       decisions: [{purpose: "analytics.reporting", granted: false}]},
      {subjectId: "lit-2", method: BANNER,
       decisions: [{purpose: "analytics.reporting", granted: true}]}
    ]) { recorded userErrors { code } } }"""
    body = await api(literal, token=acme["owner"])
    assert body["data"]["recordConsents"] == {"recorded": 2, "userErrors": []}
    assert (await state(api, acme["owner"], "lit-1"))["analytics.reporting"]["granted"] is False
    assert (await state(api, acme["owner"], "lit-2"))["analytics.reporting"]["granted"] is True


async def test_refusals_name_their_input_and_the_rest_land(api, acme):
    inputs = [_input(0), _input(1, locale="not a locale"), _input(2, clientEventId="")]
    body = await api(MANY, {"i": inputs}, token=acme["owner"])
    payload = body["data"]["recordConsents"]
    assert payload["recorded"] == 1
    assert [e["field"][:2] for e in payload["userErrors"]] == [["inputs", "1"], ["inputs", "2"]]


async def test_values_that_do_not_coerce_are_refused_before_the_resolver(api, acme):
    response = await api.client.post(
        "/graphql",
        json={"query": MANY, "variables": {"i": [_input(0, method="NOT_A_METHOD")]}},
        headers={"Authorization": f"Bearer {acme['owner']}"},
    )
    assert response.status_code == 400  # a request error: nothing ran
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_a_key_without_the_capability_is_refused_as_before(api, acme):
    body = await api(MANY, {"i": [_input(0)]}, token=acme["site"])
    assert error_codes(body) == ["FORBIDDEN"]


class _Never(BasePermission):
    message = "no"

    def has_permission(self, source, info, **kwargs) -> bool:
        return False


@strawberry.type
class _Query:
    ok: bool = True


@strawberry.input
class _Item:
    name: str


def _schema(**field_options) -> strawberry.Schema:
    @strawberry.type
    class Mutation:
        @strawberry.mutation(**field_options)
        async def take(self, info: strawberry.Info, items: list[_Item]) -> int:
            return len(items)

    return strawberry.Schema(query=_Query, mutation=Mutation)


def test_a_field_whose_resolver_does_more_than_convert_is_refused():
    with pytest.raises(RuntimeError, match="extensions"):
        convert_in_one_pass(
            _schema(permission_classes=[_Never]),
            type_name="Mutation", field_name="take", argument="items", item=dict,
        )  # fmt: skip
    with pytest.raises(RuntimeError, match="must take"):
        convert_in_one_pass(
            _schema(), type_name="Mutation", field_name="take", argument="other", item=dict
        )


def test_the_field_keeps_its_contract():
    field = charter._schema.get_type("Mutation").fields["recordConsents"]
    assert str(field.type) == "RecordConsentsPayload!"
    assert str(field.args["inputs"].type) == "[ConsentInput!]!"
