"""``intake.Checker``: a batch's checks with the repeated work done once. Every input
still gets its own problems, whatever came before it in the batch, and the same input
gives the same entry as ``intake.check`` alone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tenants.consent import intake
from tenants.consent.intake import ConsentInput, Evidence
from tenants.consent.methods import ConsentMethod
from tenants.errors import Problems
from tenants.policies.catalog import Catalog, PublishedFacts
from tenants.policies.kinds import PolicyKind

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CATALOG = Catalog(
    [
        PublishedFacts(
            id=1, kind=PolicyKind.PRIVACY, number=1, effective_at=NOW - timedelta(days=1),
            material=True, locales=frozenset({"en", "uz"}),
            disclosures={"purposes": [{"key": "analytics"}, {"key": "marketing"}]},
        )
    ]
)  # fmt: skip


@dataclass
class Tenant:
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    jurisdictions: list[str] = field(default_factory=lambda: ["EU"])
    default_locale: str = "en"


def item(**fields) -> ConsentInput:
    return ConsentInput(
        **{"subject_id": "v", "decisions": [("analytics", True)], "method": ConsentMethod.BANNER}
        | fields
    )


INPUTS = [
    item(source_url="ftp://x.example/"),
    item(source_url="ftp://x.example/"),
    item(source_url=" https://x.example/page "),
    item(source_url=" https://x.example/page ", locale="uz-uz"),
    item(locale="not a locale!"),
    item(locale="not a locale!"),
    item(locale="uz-uz"),
    item(method=ConsentMethod.IMPLIED),
    item(method=ConsentMethod.IMPLIED),
    item(policy_version=7),
    item(policy_version=7),
    item(decisions=[("analytics", True), ("analytics", False), ("nope", True)]),
    item(occurred_at=NOW + timedelta(hours=1)),
    item(source_url="http://[::1"),  # urlsplit raises on it: a problem, not an exception
]
EVIDENCE = Evidence(ip="203.0.113.9", user_agent="ua", accept_language="uz")


def test_each_input_of_a_batch_is_judged_as_if_alone():
    tenant = Tenant()
    checker = intake.Checker(tenant=tenant, catalog=CATALOG, now=NOW)
    together, alone = Problems(), Problems()
    found = [
        checker(together, each, "inputs", str(n), evidence=EVIDENCE)
        for n, each in enumerate(INPUTS)
    ]
    expected = [
        intake.check(
            alone, each, "inputs", str(n), tenant=tenant, catalog=CATALOG,
            evidence=EVIDENCE, now=NOW,
        )
        for n, each in enumerate(INPUTS)
    ]  # fmt: skip
    assert found == expected
    assert together.items == alone.items
    codes = [(p.field[1], p.code) for p in together.items]
    assert [c for c in codes if c[0] in ("0", "1")] == [("0", "INVALID_URL"), ("1", "INVALID_URL")]
    assert [c for c in codes if c[0] in ("4", "5")] == [
        ("4", "INVALID_LOCALE"),
        ("5", "INVALID_LOCALE"),
    ]
    assert [c for c in codes if c[0] in ("7", "8", "9", "10")] == [
        ("7", "IMPLIED_CONSENT_NOT_ALLOWED"),
        ("8", "IMPLIED_CONSENT_NOT_ALLOWED"),
        ("9", "NOT_FOUND"),
        ("10", "NOT_FOUND"),
    ]
    assert [c for c in codes if c[0] == "13"] == [("13", "INVALID_URL")]
    assert found[2][0].source_url == "https://x.example/page"
    assert found[3][0].locale == found[6][0].locale == "uz"
