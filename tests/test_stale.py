"""`stale` means a granted, consent-based decision made under a version a later MATERIAL
version superseded: the only decisions a banner may ask again about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.consent.decisions import stale
from tenants.policies.catalog import Catalog, PublishedFacts
from tenants.policies.kinds import PolicyKind
from tests.factories import create_key, create_tenant
from tests.test_consent import grant, publish_policy

PURPOSES = [
    {"key": "essential.service", "legalBasis": "CONTRACT"},
    {"key": "analytics.reporting", "legalBasis": "LEGITIMATE_INTERESTS"},
    {"key": "personalize.content", "legalBasis": "LEGITIMATE_INTERESTS", "requiresConsent": True},
    {"key": "marketing.communications.email", "legalBasis": "CONSENT"},
    {"key": "third_party_sharing", "legalBasis": "CONSENT"},
]
DECIDED = [
    {"purpose": "essential.service", "granted": True},
    {"purpose": "analytics.reporting", "granted": True},
    {"purpose": "personalize.content", "granted": True},
    {"purpose": "marketing.communications.email", "granted": True},
    {"purpose": "third_party_sharing", "granted": False},
]
EXPECTED = {  # after a material version: only granted consent is asked again
    "essential.service": False,  # contract: no consent to renew
    "analytics.reporting": False,  # legitimate interests: no consent to renew
    "personalize.content": True,  # legitimate interests, but the notice asks consent
    "marketing.communications.email": True,
    "third_party_sharing": False,  # refused: never asked again
}
RECORD = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) { receipt { decisions { purpose stale } } userErrors { code } }
}"""
STATE = "query($s: String!) { consentState(subjectId: $s) { purpose stale } }"
HISTORY = """query($s: String!) {
  consentHistory(subjectId: $s) { edges { node { decisions { purpose stale } } } }
}"""


@pytest.fixture
async def acme(api):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner, purposes=PURPOSES)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def read_everywhere(api, acme) -> list[dict[str, bool]]:
    state = (await api(STATE, {"s": "v"}, token=acme["owner"]))["data"]["consentState"]
    history = (await api(HISTORY, {"s": "v"}, token=acme["owner"]))["data"]["consentHistory"]
    receipt = history["edges"][-1]["node"]["decisions"]
    return [{d["purpose"]: d["stale"] for d in found} for found in (state, receipt)]


async def test_only_granted_consent_goes_stale(api, acme):
    body = await api(
        RECORD, {"input": {"subjectId": "v", "method": "BANNER", "decisions": DECIDED}},
        token=acme["site"],
    )  # fmt: skip
    assert not any(d["stale"] for d in body["data"]["recordConsent"]["receipt"]["decisions"])
    await publish_policy(api, acme["owner"], purposes=PURPOSES, material=True)
    assert await read_everywhere(api, acme) == [EXPECTED, EXPECTED]
    # A receipt recorded now under the superseded version says the same as the state.
    old = await api(
        RECORD,
        {"input": {"subjectId": "w", "method": "BANNER", "decisions": DECIDED, "policyVersion": 1}},
        token=acme["site"],
    )
    receipt = old["data"]["recordConsent"]["receipt"]["decisions"]
    assert {d["purpose"]: d["stale"] for d in receipt} == EXPECTED
    # Consenting again under the new version clears it.
    await api(
        RECORD,
        {"input": {"subjectId": "v", "method": "BANNER", "decisions": grant("marketing.communications.email", "personalize.content")}},
        token=acme["site"],
    )  # fmt: skip
    state = (await api(STATE, {"s": "v"}, token=acme["owner"]))["data"]["consentState"]
    assert not any(d["stale"] for d in state)


async def test_a_non_material_version_stales_nothing(api, acme):
    await api(
        RECORD, {"input": {"subjectId": "v", "method": "BANNER", "decisions": DECIDED}},
        token=acme["site"],
    )  # fmt: skip
    await publish_policy(api, acme["owner"], purposes=PURPOSES, material=False)
    nothing = dict.fromkeys(EXPECTED, False)
    assert await read_everywhere(api, acme) == [nothing, nothing]


def _catalog(requires: bool, material_later: bool) -> Catalog:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    purpose = {"key": "p", "legal_basis": "CONSENT", "requires_consent": requires}
    return Catalog(
        [
            PublishedFacts(
                id=n,
                kind=PolicyKind.PRIVACY,
                number=n,
                effective_at=start + timedelta(days=n),
                material=n == 2 and material_later,
                locales=frozenset({"en"}),
                disclosures={"purposes": [purpose]},
            )
            for n in (1, 2)
        ]
    )


@settings(max_examples=100, deadline=None)
@given(
    granted=st.booleans(),
    requires=st.booleans(),
    material_later=st.booleans(),
    version=st.sampled_from([1, 2]),
    in_force=st.booleans(),
)
def test_the_rule(granted, requires, material_later, version, in_force) -> None:
    now = datetime(2026, 1, 3 if in_force else 2, 12, tzinfo=UTC)  # v2 from Jan 3
    versions = _catalog(requires, material_later)
    expected = granted and requires and version == 1 and material_later and in_force
    found = stale(
        purpose="p",
        granted=granted,
        kind=PolicyKind.PRIVACY,
        version=version,
        versions=versions,
        now=now,
    )
    assert found is expected
