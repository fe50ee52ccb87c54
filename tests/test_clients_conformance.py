"""Charter through the clients SaaS customers integrate with, set up as README "Clients"
shows (the set-ups are tests/js/setup/*, quoted there): Apollo Client with persisted
queries, urql, graphql-ws, Relay (relay-compiler and relay-runtime), graphql-codegen from
live introspection, Python's gql over HTTP and WebSocket, and the official Standard
Webhooks verifier on a real delivery. Skipped only where node is missing, never in CI."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type

from schema import schema, sdl
from schema.nodes import KINDS
from tests import node
from tests.conftest import Api
from tests.factories import create_draft, create_tenant
from tests.outbound import drain, webhook_receiver
from tests.servers import serve
from tests.test_consent import publish_policy
from tests.test_outbound import endpoint

SETUP = node.JS / "setup"
GRAPH = schema._schema


@pytest.fixture(autouse=True)
def _clean(app):
    """Each test starts from empty tables (conftest.clean_state), its server included."""


async def conformance(scenario: str, **config) -> list:
    return await node.run("conformance.mjs", scenario, json.dumps(config))


async def test_apollo_with_persisted_queries_registers_then_sends_the_hash_alone(settings):
    node.installed()
    async with serve(settings) as http:
        _, owner = await create_tenant(Api(http), slug="acme", domains=["acme.example"])
        await publish_policy(Api(http), owner)
        lines = await conformance("apollo", url=f"{http.base_url}/graphql", site="acme")
    rounds, sent = lines[:2], lines[2]["sent"]
    for line in rounds:
        assert line["data"]["publishedPolicy"]["site"] == "acme", line
    # Round 1: the hash alone by GET (unknown: PERSISTED_QUERY_NOT_FOUND), then hash and
    # query by POST (Apollo registers by POST); round 2: the hash alone by GET, known.
    assert sent == [
        {"method": "GET", "hashOnly": True},
        {"method": "POST", "hashOnly": False},
        {"method": "GET", "hashOnly": True},
    ]


async def test_urql_queries_through_its_exchanges_and_reads_the_codes(settings):
    node.installed()
    async with serve(settings) as http:
        _, owner = await create_tenant(Api(http), slug="acme")
        lines = await conformance("urql", url=f"{http.base_url}/graphql", key=owner)
    assert lines[0]["error"] is None, lines
    assert lines[0]["data"]["viewer"]["tenant"]["slug"] == "acme"
    assert lines[0]["data"]["breaches"]["pageInfo"] == {
        "hasPreviousPage": False,
        "startCursor": None,
        "__typename": "PageInfo",
    }
    assert lines[1]["codes"] == ["BAD_USER_INPUT"]


async def test_graphql_ws_subscription_with_the_key_in_connection_init_gets_the_event(settings):
    node.installed()
    async with serve(settings) as http:
        _, owner = await create_tenant(Api(http), slug="acme")
        [line] = await conformance(
            "subscribe", url=f"{http.base_url}/graphql", key=owner, site="acme"
        )
    assert line["published"]["userErrors"] == []
    [event] = line["events"]
    assert event["data"]["policyPublished"]["site"] == "acme"
    assert event["data"]["policyPublished"]["title"].startswith("Published while subscribed"), line


def relay_sources() -> str:
    """One pagination fragment per connection of the schema, generated from it (a new
    connection is covered without touching this test), and one @refetchable fragment per
    Node type, which relay-compiler turns into a node(id:) refetch query."""
    tags = []
    for type_ in GRAPH.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            if not get_named_type(field.type).name.endswith("Connection"):
                continue
            required = {a: s for a, s in field.args.items() if isinstance(s.type, GraphQLNonNull)}
            definitions = ", ".join(
                ['count: {type: "Int", defaultValue: 5}', 'cursor: {type: "String"}']
                + [f'{a}: {{type: "{s.type}"}}' for a, s in required.items()]
            )
            passed = ", ".join(
                ["first: $count", "after: $cursor"] + [f"{a}: ${a}" for a in required]
            )
            refetch = (
                f'@refetchable(queryName: "Clients{type_.name}{name[0].upper()}{name[1:]}PaginationQuery")'
                if type_.name == "Query"
                else ""
            )
            tags.append(
                f"fragment Clients_{type_.name}_{name} on {type_.name} "
                f"@argumentDefinitions({definitions}) {refetch} {{\n"
                f'  {name}({passed}) @connection(key: "Clients_{type_.name}_{name}") {{\n'
                "    edges { node { __typename } }\n  }\n}"
            )
    for kind in KINDS:
        tags.append(
            f'fragment Clients_{kind} on {kind} @refetchable(queryName: "Clients{kind}RefetchQuery") '
            "{ id __typename }"
        )
    return "\n".join(f"export const f{n} = graphql`\n{tag}\n`;" for n, tag in enumerate(tags))


async def compile_relay(folder, *, language: str) -> tuple[int, str]:
    config = json.loads((SETUP / "relay.config.json").read_text())
    config["language"] = language
    if language == "javascript":
        config["eagerEsModules"] = True
    (folder / "src" / "__generated__").mkdir(parents=True)
    (folder / "schema.graphql").write_text(sdl())
    (folder / "relay.config.json").write_text(json.dumps(config))
    (folder / "src" / f"Clients.{'ts' if language == 'typescript' else 'js'}").write_text(
        'import { graphql } from "relay-runtime";\n' + relay_sources() + "\n"
    )
    process = await asyncio.create_subprocess_exec(
        str(node.JS / "node_modules" / ".bin" / "relay-compiler"),
        "relay.config.json",
        cwd=folder,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 180)
    return process.returncode, out.decode()


async def test_relay_compiles_a_connection_on_every_connection_and_refetches_by_node(
    settings, tmp_path
):
    node.installed()
    code, out = await compile_relay(tmp_path / "ts", language="typescript")
    assert code == 0, out
    generated = {p.name for p in (tmp_path / "ts" / "src" / "__generated__").iterdir()}
    sources = relay_sources()
    assert sources.count("@connection") >= 6  # five on Query, and Policy.versions
    # each connection on Query is paginated by a query relay-compiler wrote for it
    paginated = {n.split(".")[0] for n in generated if n.endswith("PaginationQuery.graphql.ts")}
    assert paginated == set(re.findall(r'queryName: "(\w+PaginationQuery)"', sources))
    assert len(paginated) >= 5
    assert {f"Clients{kind}RefetchQuery.graphql.ts" for kind in KINDS} <= generated

    code, out = await compile_relay(tmp_path / "js", language="javascript")
    assert code == 0, out
    artifact = tmp_path / "js" / "src" / "__generated__" / "ClientsBreachRefetchQuery.graphql.js"
    assert "node(id: $id)" in artifact.read_text()
    async with serve(settings) as http:
        _, owner = await create_tenant(Api(http), slug="acme")
        draft = await create_draft(Api(http), owner)
        artifact = (
            tmp_path
            / "js"
            / "src"
            / "__generated__"
            / "ClientsPolicyVersionRefetchQuery.graphql.js"
        )
        [line] = await conformance(
            "relay", url=f"{http.base_url}/graphql", key=owner,
            artifact=str(artifact), variables={"id": draft["id"]},
        )  # fmt: skip
    # Relay normalised the node into its store by id, and hands it out as the fragment.
    assert line == {
        "record": {"__typename": "PolicyVersion", "id": draft["id"]},
        "fragments": ["Clients_PolicyVersion"],
    }


async def test_codegen_generates_types_from_live_introspection(settings, tmp_path):
    node.installed()
    async with serve(settings) as http:
        _, owner = await create_tenant(Api(http), slug="acme")
        config = {
            "schema": [
                {f"{http.base_url}/graphql": {"headers": {"Authorization": f"Bearer {owner}"}}}
            ],
            "generates": {str(tmp_path / "charter.ts"): {"plugins": ["typescript"]}},
        }
        (tmp_path / "codegen.json").write_text(json.dumps(config))
        process = await asyncio.create_subprocess_exec(
            str(node.JS / "node_modules" / ".bin" / "graphql-codegen"),
            "--config", str(tmp_path / "codegen.json"),
            cwd=node.JS, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, out.decode()
    types = (tmp_path / "charter.ts").read_text()
    assert "export type Query = {" in types and "export type Node = {" in types
    assert "export type Breach = Node & {" in types  # Node's implementations, as such
    for name in ("PageInfo", "Breach", "PublishedPolicy"):
        assert re.search(rf"export type {name} = (Node & )?{{", types), name
    assert "hasPreviousPage: Scalars['Boolean']['output'];" in types


def charter_gql():
    spec = importlib.util.spec_from_file_location("charter_gql", SETUP / "charter_gql.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_python_gql_fetches_the_schema_and_queries_over_http_and_websocket(settings):
    from gql import gql

    setup = charter_gql()
    query = gql("query Mine { viewer { tenant { slug } } }")
    async with serve(settings) as http:
        _, owner = await create_tenant(Api(http), slug="acme")
        url = f"{http.base_url}/graphql"
        answers = []
        for client in (
            setup.charter_http(url, owner),
            setup.charter_ws(url.replace("http", "ws"), owner),
        ):
            async with client as session:
                answers.append(await session.execute(query))
                assert client.schema is not None and client.schema.get_type("Node") is not None
        ws = setup.charter_ws(url.replace("http", "ws"), owner)
        async with ws as session:
            events = session.subscribe(
                gql('subscription { policyPublished(site: "acme") { version } }')
            )
            waiting = asyncio.ensure_future(anext(events))
            for _ in range(20):
                await asyncio.sleep(0.3)
                await publish_policy(Api(http), owner)
                if waiting.done():
                    break
            event = await asyncio.wait_for(waiting, 10)
    assert answers == [{"viewer": {"tenant": {"slug": "acme"}}}] * 2
    assert event["policyPublished"]["version"] >= 1


async def test_the_standard_webhooks_verifier_accepts_a_real_delivery(api, tmp_path):
    node.installed()
    _, owner = await create_tenant(api, slug="acme")
    async with webhook_receiver() as receiver:
        _, secret = await endpoint(api, owner, receiver.url, ["policy.published"])
        await publish_policy(api, owner)
        await drain()
    [(headers, body)] = receiver.calls
    delivery = tmp_path / "delivery.json"
    delivery.write_text(json.dumps({"secret": secret, "headers": headers, "body": body.decode()}))
    lines = await node.run("webhook.mjs", str(delivery))
    assert lines == [
        {"verified": True, "type": "policy.published"},
        {"tampered": "WebhookVerificationError"},
    ]


def test_the_readme_quotes_every_client_setup_the_tests_run():
    readme = (node.JS.parent.parent / "README.md").read_text()
    for path in sorted(SETUP.iterdir()):
        if path.is_file():
            assert path.read_text().strip() in readme, f"README 'Clients' must quote {path.name}"
