"""``intake.Checker``: a batch's checks with the repeated work done once. Every input
still gets its own problems, whatever came before it in the batch, and the same input
gives the same entry as ``intake.check`` alone."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from tenants import crypto
from tenants.consent import chain, intake, ledger
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


# Each field left at item()'s valid default half the time, so that about one input in
# five passes and yields an entry to compare (locale shown, source URL, e-mail kept).
ITEMS = st.fixed_dictionaries(
    {},
    optional={
        "decisions": st.lists(
            st.tuples(st.sampled_from(["analytics", "marketing", "nope"]), st.booleans()),
            max_size=3,
        ),
        "method": st.sampled_from(list(ConsentMethod)),
        "policy_kind": st.sampled_from([PolicyKind.PRIVACY, PolicyKind.COOKIES]),
        "policy_version": st.sampled_from([None, 1, 7, 0]),
        "locale": st.sampled_from([None, "en", "uz-uz", "UZ", "not a locale!"]),
        "occurred_at": st.sampled_from([None, NOW - timedelta(days=1), NOW + timedelta(hours=1)]),
        "client_event_id": st.sampled_from([None, "c-1", "", "c" * 129]),
        "source_url": st.sampled_from([None, " https://x.example/p ", "ftp://x/", "http://[::1"]),
        "email": st.sampled_from([None, "a@x.example", "nope"]),
    },
).map(lambda fields: item(**fields))


@settings(max_examples=200, deadline=None)
@given(
    # A valid input first: what it leaves in the checker's memory is what later ones meet.
    inputs=st.lists(ITEMS, max_size=7).map(lambda more: [item(), *more]),
    jurisdictions=st.lists(st.sampled_from(["EU", "US-CA", "UZ", "RU", "ZZ"]), max_size=3),
    gpc=st.booleans(),
    accept_language=st.sampled_from([None, "uz", "de-DE,en;q=0.5", "*"]),
)
def test_any_batch_is_judged_input_by_input_as_if_each_were_alone(
    inputs, jurisdictions, gpc, accept_language
):
    tenant = Tenant(jurisdictions=jurisdictions)
    evidence = Evidence(ip="203.0.113.9", user_agent="ua", gpc=gpc, accept_language=accept_language)
    checker = intake.Checker(tenant=tenant, catalog=CATALOG, now=NOW)
    together = Problems()
    for n, each in enumerate(inputs):
        alone = Problems()
        found = checker(together, each, "inputs", str(n), evidence=evidence)
        fresh = intake.Checker(tenant=tenant, catalog=CATALOG, now=NOW)
        assert found == fresh(alone, each, "inputs", str(n), evidence=evidence)
        assert [p for p in together.items if p.field[1] == str(n)] == alone.items


# Decision sets from a small pool, so that most of a batch repeats one: the checker then
# hands its entries one shared list per set, which the linker encodes once.
POOLED = st.lists(
    st.lists(st.tuples(st.sampled_from(["analytics", "marketing"]), st.booleans()), max_size=2)
    .filter(lambda pairs: len({p for p, _ in pairs}) == len(pairs))
    .map(lambda pairs: item(decisions=pairs, source_url="https://x.example/")),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(inputs=POOLED, gpc=st.booleans())
def test_shared_decision_lists_chain_exactly_as_lists_of_their_own(inputs, gpc):
    crypto.configure("k" * 48)  # the commitments' key (put back after the test: conftest)
    tenant = Tenant(jurisdictions=["US-CA"])  # GPC binding: a set of its own each time
    evidence = Evidence(ip="203.0.113.9", user_agent="ua", gpc=gpc)
    checker = intake.Checker(tenant=tenant, catalog=CATALOG, now=NOW)
    entries = [checker(Problems(), each, "inputs", evidence=evidence)[0] for each in inputs]
    entries = [entry for entry in entries if entry is not None]
    if not gpc:
        # the sharing under test does happen: one list per distinct set of pairs
        distinct = {tuple(i.decisions) for i in inputs if i.decisions}
        assert len({id(entry.decisions) for entry in entries}) == len(distinct)
    own = [entry._replace(decisions=copy.deepcopy(entry.decisions)) for entry in entries]

    def chained(batch):
        head = SimpleNamespace(sequence=0, hash=None)
        linker = ledger.Linker(tenant=tenant, head=head, now=NOW, count=len(batch))
        return [linker.link(entry) for entry in batch]

    shared, alone = chained(entries), chained(own)
    for one, other, entry in zip(shared, alone, entries, strict=True):
        assert (
            one.decisions == other.decisions == sorted(entry.decisions, key=lambda d: d["purpose"])
        )
        assert one.decisions_json == other.decisions_json
        assert one.decisions_json == chain.canonical_json(one.decisions).decode()
    links = [chain.ChainLink(e.id, ledger.document_of(e), e.hash, e.previous_hash) for e in shared]
    assert chain.verify(links).ok
