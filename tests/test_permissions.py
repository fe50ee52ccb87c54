"""The role matrix, walked for every operation and every kind of caller."""

from __future__ import annotations

import pytest

from schema import schema
from tests.backends import ADMIN_TOKEN
from tests.factories import create_draft, create_key, create_tenant, error_codes, publish

OK, NULL, FORBIDDEN, UNAUTH = "ok", "null", "FORBIDDEN", "UNAUTHENTICATED"
CALLERS = ("OWNER", "ADMIN", "EDITOR", "AUDITOR", "PUBLISHABLE", "PLATFORM", "ANONYMOUS")
READERS = (OK, OK, OK, OK, FORBIDDEN, FORBIDDEN, UNAUTH)
ADMIN_READERS = (OK, OK, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, UNAUTH)
EDITORS = (OK, OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTH)
MANAGERS = (OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTH)
DRAFT = '{kind: PRIVACY, translations: [{locale: "en", title: "T", body: "B"}]}'
COLLECTORS = (OK, OK, OK, FORBIDDEN, OK, FORBIDDEN, UNAUTH)
IMPORTERS = (OK, OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTH)
CONSENT = '{subjectId: "s1", method: BANNER, decisions: [{purpose: "analytics.reporting", granted: true}]}'


async def _victim_key(api, tokens):
    key, _ = await create_key(api, tokens["OWNER"], name="victim", role="EDITOR")
    return {"id": key["id"]}


async def _fresh_draft(api, tokens):
    return {"id": (await create_draft(api, tokens["OWNER"]))["id"]}


async def _published(api, tokens):
    return {"id": tokens["published_version"]}


async def _new_slug(api, tokens):
    tokens["n"] = tokens.get("n", 0) + 1
    slug = f"newco-{tokens['n']}"
    return {"input": {"slug": slug, "name": "New", "defaultLocale": "en", "jurisdictions": ["EU"]}}


async def _nothing(api, tokens):
    return {}


SUBMIT = """mutation($input: SubjectRequestInput!) {
  submitSubjectRequest(input: $input) { subjectRequest { id } verificationToken } }"""


async def _request(api, tokens, **extra):
    body = await api(
        SUBMIT, {"input": {"type": "ACCESS", "subjectId": "s1", **extra}}, token=tokens["OWNER"]
    )
    return body["data"]["submitSubjectRequest"]


async def _unverified(api, tokens):
    made = await _request(api, tokens, email="s1@example.com")
    return {"id": made["subjectRequest"]["id"], "token": made["verificationToken"]}


BREACH = """mutation { reportBreach(input: {title: "t", risk: HIGH, detectedAt: "2026-11-20T10:00:00+00:00"}) {
  breach { id } } }"""


async def _breach(api, tokens):
    body = await api(BREACH, token=tokens["OWNER"])
    return {"id": body["data"]["reportBreach"]["breach"]["id"]}


async def _endpoint(api, tokens):
    body = await api(
        'mutation { createWebhookEndpoint(url: "https://93.184.215.14/h", events: ["breach.reported"]) { endpoint { id } } }',
        token=tokens["OWNER"],
    )
    return {"id": body["data"]["createWebhookEndpoint"]["endpoint"]["id"]}


async def _received(api, tokens):
    return {"id": (await _request(api, tokens, verified=True))["subjectRequest"]["id"]}


async def _restricted(api, tokens):
    made = await _request(api, tokens, type="RESTRICTION", verified=True)
    complete = "mutation($id: ID!) { updateSubjectRequest(id: $id, action: COMPLETE) { subjectRequest { status } } }"
    await api(complete, {"id": made["subjectRequest"]["id"]}, token=tokens["OWNER"])
    return {"s": "s1"}


async def _checkpointed(api, tokens):
    await _restricted(api, tokens)  # an event in the ledger, which a verification covers
    await api("{ verifyConsentLedger { ok } }", token=tokens["OWNER"])
    return {}


async def _ledger_job(api, tokens):
    start = "mutation { startLedgerVerification { verification { id } } }"
    body = await api(start, token=tokens["OWNER"])
    return {"id": body["data"]["startLedgerVerification"]["verification"]["id"]}


# operation -> (document, how to make its variables, expected outcome per caller)
MATRIX = {
    "viewer": ("{ viewer { key { id } } }", _nothing, (OK, OK, OK, OK, FORBIDDEN, NULL, NULL)),
    "apiKeys": ("{ apiKeys { id } }", _nothing, ADMIN_READERS),
    "auditLog": ("{ auditLog { edges { node { id } } } }", _nothing, ADMIN_READERS),
    "createTenant": (
        "mutation($input: CreateTenantInput!) { createTenant(input: $input) { tenant { id } userErrors { code } } }",
        _new_slug,
        (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, UNAUTH),
    ),
    "updateTenant": (
        'mutation { updateTenant(input: {name: "Renamed"}) { tenant { id } userErrors { code } } }',
        _nothing,
        MANAGERS,
    ),
    "createApiKey": (
        'mutation { createApiKey(input: {name: "n", role: AUDITOR}) { apiKey { id } userErrors { code } } }',
        _nothing,
        MANAGERS,
    ),
    "revokeApiKey": (
        "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } userErrors { code } } }",
        _victim_key,
        MANAGERS,
    ),
    "publishedPolicy": ('{ publishedPolicy(site: "acme") { version } }', _nothing, (OK,) * 7),
    "branding": ("{ branding { consentModel } }", _nothing, READERS),
    "updateBranding": (
        'mutation { updateBranding(input: {logoUrl: "https://acme.example/logo.svg"}) { branding { logoUrl } userErrors { code } } }',
        _nothing,
        MANAGERS,
    ),
    "policy": ("{ policy(kind: PRIVACY) { current { id } } }", _nothing, READERS),
    "policyVersion": ("query($id: ID!) { policyVersion(id: $id) { id } }", _published, READERS),
    "createPolicyDraft": (
        f"mutation {{ createPolicyDraft(input: {DRAFT}) {{ policyVersion {{ id }} userErrors {{ code }} }} }}",
        _nothing,
        EDITORS,
    ),
    "updatePolicyDraft": (
        f"mutation($id: ID!) {{ updatePolicyDraft(id: $id, input: {DRAFT}) {{ policyVersion {{ id }} userErrors {{ code }} }} }}",
        _fresh_draft,
        EDITORS,
    ),
    "publishPolicyVersion": (
        "mutation($id: ID!) { publishPolicyVersion(id: $id) { policyVersion { id } userErrors { code } } }",
        _fresh_draft,
        EDITORS,
    ),
    "consentState": ('{ consentState(subjectId: "s1") { purpose } }', _nothing, READERS),
    "consentHistory": (
        '{ consentHistory(subjectId: "s1") { edges { cursor } } }',
        _nothing,
        READERS,
    ),
    "verifyConsentLedger": ("{ verifyConsentLedger { ok } }", _nothing, READERS),
    "consentLedgerCheckpoint": ("{ consentLedgerCheckpoint { hash } }", _checkpointed, READERS),
    "ledgerVerification": (
        "query($id: ID!) { ledgerVerification(id: $id) { id } }",
        _ledger_job,
        READERS,
    ),
    "startLedgerVerification": (
        "mutation { startLedgerVerification { verification { id } userErrors { code } } }",
        _nothing,
        ADMIN_READERS,
    ),
    "recordConsent": (
        f"mutation {{ recordConsent(input: {CONSENT}) {{ receipt {{ id }} userErrors {{ code }} }} }}",
        _nothing,
        COLLECTORS,
    ),
    "recordConsents": (
        f"mutation {{ recordConsents(inputs: [{CONSENT}]) {{ recorded userErrors {{ code }} }} }}",
        _nothing,
        IMPORTERS,
    ),
    "liftRestriction": (
        "mutation($s: String!) { liftRestriction(subjectId: $s) { receipt { id } userErrors { code } } }",
        _restricted,
        EDITORS,
    ),
    "jurisdictions": ("{ jurisdictions { code } }", _nothing, (OK,) * 7),
    "subjectRequests": ("{ subjectRequests { edges { cursor } } }", _nothing, READERS),
    "subjectRequest": ("query($id: ID!) { subjectRequest(id: $id) { id } }", _received, READERS),
    "submitSubjectRequest": (
        'mutation { submitSubjectRequest(input: {type: ACCESS, email: "p@example.com"}) { subjectRequest { id } userErrors { code } } }',
        _nothing,
        COLLECTORS,
    ),
    "verifySubjectRequest": (
        "mutation($id: ID!, $token: String!) { verifySubjectRequest(id: $id, token: $token) { subjectRequest { id } userErrors { code } } }",
        _unverified,
        COLLECTORS,
    ),
    "updateSubjectRequest": (
        "mutation($id: ID!) { updateSubjectRequest(id: $id, action: START) { subjectRequest { id } userErrors { code } } }",
        _received,
        EDITORS,
    ),
    "verifySubjectIdentity": (
        'mutation($id: ID!) { verifySubjectIdentity(id: $id, note: "passport seen") { subjectRequest { id } userErrors { code } } }',
        _received,
        EDITORS,
    ),
    "subjectAssertionKeys": ("{ subjectAssertionKeys { id } }", _nothing, ADMIN_READERS),
    "rotateSubjectAssertionKey": (
        "mutation { rotateSubjectAssertionKey { key { id } secret userErrors { code } } }",
        _nothing,
        MANAGERS,
    ),
    "breaches": ("{ breaches { edges { cursor } } }", _nothing, READERS),
    "breach": ("query($id: ID!) { breach(id: $id) { id } }", _breach, READERS),
    "node": ("query($id: ID!) { node(id: $id) { id } }", _breach, READERS),
    "nodes": ("query($id: ID!) { nodes(ids: [$id]) { id } }", _breach, READERS),
    "reportBreach": (
        BREACH.replace("breach { id }", "breach { id } userErrors { code }"),
        _nothing,
        EDITORS,
    ),
    "updateBreach": (
        'mutation($id: ID!) { updateBreach(id: $id, input: {note: "n"}) { breach { id } userErrors { code } } }',
        _breach,
        EDITORS,
    ),
    "recordAuthorityNotification": (
        'mutation($id: ID!) { recordAuthorityNotification(breachId: $id, jurisdiction: "EU", kind: AUTHORITY_INITIAL, notifiedAt: "2026-11-20T12:00:00+00:00") { breach { id } userErrors { code } } }',
        _breach,
        EDITORS,
    ),
    "notifyBreachSubjects": (
        'mutation($id: ID!) { notifyBreachSubjects(breachId: $id, input: {subjectIds: ["s1"], message: [{locale: "en", title: "t", body: "b"}]}) { queued userErrors { code } } }',
        _breach,
        EDITORS,
    ),
    "webhookEndpoints": ("{ webhookEndpoints { id } }", _nothing, ADMIN_READERS),
    "outboxMessages": ("{ outboxMessages { edges { cursor } } }", _nothing, MANAGERS),
    "createWebhookEndpoint": (
        'mutation { createWebhookEndpoint(url: "https://93.184.215.14/x", events: ["policy.published"]) { endpoint { id } userErrors { code } } }',
        _nothing,
        MANAGERS,
    ),
    "deleteWebhookEndpoint": (
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { endpoint { id } userErrors { code } } }",
        _endpoint,
        MANAGERS,
    ),
}


def test_matrix_covers_every_operation():
    graphql = schema._schema
    every = set(graphql.query_type.fields) | set(graphql.mutation_type.fields)
    assert every == set(MATRIX), f"add {every - set(MATRIX)} to the matrix"


@pytest.fixture
async def tokens(api) -> dict[str, str | None]:
    _, owner = await create_tenant(api, slug="acme")
    tokens = {"OWNER": owner, "PLATFORM": ADMIN_TOKEN, "ANONYMOUS": None}
    for role in ("ADMIN", "EDITOR", "AUDITOR"):
        tokens[role] = (await create_key(api, owner, name=role, role=role))[1]
    tokens["PUBLISHABLE"] = (await create_key(api, owner, name="site", publishable=True))[1]
    disclosures = {
        "controller": {"name": "Acme", "email": "p@acme.example", "address": "A", "phone": "1"},
        "purposes": [{"key": "analytics.reporting", "legalBasis": "CONSENT"}],
    }
    draft = await create_draft(api, owner, disclosures=disclosures)
    version = await publish(api, owner, draft["id"])
    tokens["published_version"] = version["id"]
    return tokens


@pytest.mark.parametrize("operation", sorted(MATRIX))
async def test_each_caller_gets_what_the_matrix_says(api, tokens, operation):
    document, prepare, outcomes = MATRIX[operation]
    for caller, expected in zip(CALLERS, outcomes, strict=True):
        variables = await prepare(api, tokens)
        body = await api(document, variables, token=tokens[caller])
        result = (body.get("data") or {}).get(operation)
        if expected == OK:
            assert "errors" not in body, (caller, body)
            assert result is not None, (caller, body)
            assert not (isinstance(result, dict) and result.get("userErrors")), (caller, body)
        elif expected == NULL:
            assert "errors" not in body and result is None, (caller, body)
        else:
            assert error_codes(body) == [expected], (caller, body)
