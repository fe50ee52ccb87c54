"""Relay conventions: every connection pages both ways with the full PageInfo (Relay
Cursor Connections spec), hostile cursors are BAD_USER_INPUT on each, and Node objects
are found by id alone, only within the caller's tenant and the caller's key's reach."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type
from hypothesis import given, settings
from hypothesis import strategies as st

from schema import schema
from schema.nodes import KINDS, MAX_IDS
from tenants.errors import DomainError
from tenants.paging import decode_cursor
from tests.factories import create_draft, create_key, create_tenant, error_codes

GRAPH = schema._schema
# How to reach a connection that hangs below the root: the type that holds it -> a root
# selection around it. A connection on a type missing here fails the sweep below.
HOLDERS = {"Policy": "policy(kind: PRIVACY) { %s }"}


def connections() -> list[tuple[str, str, str]]:
    """(holder type, field, root selection template) for every connection in the schema."""
    found = []
    for type_ in GRAPH.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            if get_named_type(field.type).name.endswith("Connection"):
                found.append((type_.name, name, field))
    assert found, "the schema has connections"
    out = []
    for holder, name, field in found:
        required = ", ".join(
            f'{arg}: "someone"'
            for arg, spec in field.args.items()
            if isinstance(spec.type, GraphQLNonNull)
        )
        call = f"{name}(%s{', ' if required else ''}{required}) {{ pageInfo {{ hasNextPage }} }}"
        if holder == "Query":
            out.append((holder, name, call))
        else:
            assert holder in HOLDERS, f"no way known to reach {holder}.{name}: add it to HOLDERS"
            out.append((holder, name, HOLDERS[holder] % call))
    return out


CONNECTIONS = connections()
HOSTILE = [
    "",
    "!!!",
    "a" * 5000,
    base64.b64encode(b"not json").decode(),
    base64.urlsafe_b64encode(json.dumps([True, str(uuid.uuid4())]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps([2**70, str(uuid.uuid4())]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps([1.5, str(uuid.uuid4())]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps(["2026-01-01T00:00:00", "x"]).encode()).decode(),
    base64.urlsafe_b64encode(
        json.dumps(["2026-01-01T00:00:00", str(uuid.uuid4())]).encode()
    ).decode(),
    base64.urlsafe_b64encode(json.dumps({"a": 1, "b": 2}).encode()).decode(),
    # the calendar's ends, a day's offset past them: no database stores such a moment
    base64.urlsafe_b64encode(
        json.dumps(["0001-01-01T00:00:00+14:00", str(uuid.uuid4())]).encode()
    ).decode(),
    base64.urlsafe_b64encode(
        json.dumps(["9999-12-31T23:59:59-14:00", str(uuid.uuid4())]).encode()
    ).decode(),
    base64.urlsafe_b64encode(json.dumps(["[" * 3000, "x"]).encode()).decode()[:150],
]


def test_every_connection_takes_both_directions_and_the_whole_page_info():
    page_info = set(GRAPH.get_type("PageInfo").fields)
    assert page_info == {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}
    for holder, name, _ in CONNECTIONS:
        field = GRAPH.get_type(holder).fields[name]
        assert {"first", "after", "last", "before"} <= set(field.args), (holder, name)


@pytest.mark.parametrize("cursor", HOSTILE)
async def test_a_hostile_cursor_is_bad_user_input_on_every_connection(api, cursor):
    _, owner = await create_tenant(api)
    await create_draft(api, owner)  # so policy(kind:) holds a connection to page
    for argument in ("after", "before"):
        for holder, name, call in CONNECTIONS:
            selection = call % f"{argument}: $cursor"
            query = f"query($cursor: String) {{ {selection} }}"
            body = await api(query, {"cursor": cursor}, token=owner)
            assert error_codes(body) == ["BAD_USER_INPUT"], (holder, name, argument, body)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode(),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
                max_leaves=6,
            ),
        ),
    ),
    st.booleans(),
)
def test_decoding_any_string_names_a_row_or_is_invalid(cursor, dated):
    try:
        value, row_id = decode_cursor(cursor, dated=dated)
    except DomainError as error:
        assert error.problems[0].code == "INVALID"
        return
    assert isinstance(row_id, uuid.UUID)
    if dated:
        assert value.tzinfo is not None
    else:
        assert type(value) is int and -(2**63) <= value < 2**63


LOG = """query($first: Int, $after: String, $last: Int, $before: String) {
  auditLog(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_paging_backwards_reads_the_same_list_as_paging_forwards(api):
    _, owner = await create_tenant(api)
    for n in range(6):
        await create_key(api, owner, name=f"key {n}", role="EDITOR")

    async def page(**window):
        body = await api(LOG, window, token=owner)
        assert "errors" not in body, body
        return body["data"]["auditLog"]

    everything = [e["node"]["id"] for e in (await page(first=100))["edges"]]
    assert len(everything) >= 6
    forwards, after = [], None
    while True:
        got = await page(first=2, after=after)
        forwards += [e["node"]["id"] for e in got["edges"]]
        info = got["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == got["edges"][0]["cursor"]
        assert info["endCursor"] == got["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    backwards, before = [], None
    while True:
        got = await page(last=2, before=before)
        backwards = [e["node"]["id"] for e in got["edges"]] + backwards
        info = got["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert forwards == backwards == everything
    # after and before together bound one page: what lies strictly between them
    cursors = [e["cursor"] for e in (await page(first=100))["edges"]]
    between = await page(after=cursors[0], before=cursors[4])
    assert [e["node"]["id"] for e in between["edges"]] == everything[1:4]
    assert error_codes(await api(LOG, {"first": 1, "last": 1}, token=owner)) == ["BAD_USER_INPUT"]
    assert error_codes(await api(LOG, {"last": 101}, token=owner)) == ["BAD_USER_INPUT"]


NODE = """query($id: ID!) { node(id: $id) { __typename id ... on PolicyVersion { status } } }"""
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def test_every_node_type_has_a_reader():
    implementing = {t.name for t in GRAPH.get_possible_types(GRAPH.get_type("Node"))}
    assert implementing == set(KINDS)


async def test_a_node_is_found_by_id_only_in_its_own_tenant(api):
    _, owner = await create_tenant(api, slug="acme")
    draft = await create_draft(api, owner)
    _, other = await create_tenant(api, slug="other")
    mine = await api(NODE, {"id": draft["id"]}, token=owner)
    assert mine["data"]["node"] == {
        "__typename": "PolicyVersion",
        "id": draft["id"],
        "status": "DRAFT",
    }
    assert (await api(NODE, {"id": draft["id"]}, token=other))["data"]["node"] is None
    for garbage in ("nope", str(uuid.uuid4()), "'; DROP TABLE x; --", "\u0430" * 40):
        assert (await api(NODE, {"id": garbage}, token=owner))["data"]["node"] is None
    both = await api(NODES, {"ids": [draft["id"], "nope", draft["id"]]}, token=owner)
    assert both["data"]["nodes"] == [
        {"__typename": "PolicyVersion", "id": draft["id"]},
        None,
        {"__typename": "PolicyVersion", "id": draft["id"]},
    ]
    too_many = await api(NODES, {"ids": [draft["id"]] * (MAX_IDS + 1)}, token=owner)
    assert error_codes(too_many) == ["BAD_USER_INPUT"]
    assert error_codes(await api(NODE, {"id": draft["id"]})) == ["UNAUTHENTICATED"]


async def test_a_node_the_key_may_not_read_is_null(api):
    _, owner = await create_tenant(api)
    entry = (await api("{ auditLog(first: 1) { edges { node { id } } } }", token=owner))["data"][
        "auditLog"
    ]["edges"][0]["node"]
    found = await api(NODE, {"id": entry["id"]}, token=owner)
    assert found["data"]["node"] == {"__typename": "AuditEntry", "id": entry["id"]}
    _, editor = await create_key(api, owner, name="editor", role="EDITOR")
    assert (await api(NODE, {"id": entry["id"]}, token=editor))["data"]["node"] is None


def test_nodes_are_priced_as_a_list_of_their_cap():
    from schema.documents import check

    def cost(query: str) -> int:
        return check(GRAPH, query, operation_name=None, variables=None).measured.cost

    one = cost('{ node(id: "x") { id } }')
    many = cost('{ nodes(ids: ["x"]) { id } }')
    assert one == 5 + 1 and many == 5 + MAX_IDS * 1
    deep = "{ nodes(ids: []) { ... on Breach { clocks { kind } updates { note } } } }"
    assert cost(deep) > MAX_IDS * 2
