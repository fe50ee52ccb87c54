"""The templated canonical JSON of new events is byte for byte the generic encoder's."""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants import crypto
from tenants.consent import chain, encoding
from tenants.consent.ledger import Entry, Linker, document_of
from tenants.consent.methods import ConsentMethod
from tenants.policies.kinds import PolicyKind

# Any text a request can carry: quotes, backslashes, controls, Cyrillic, astral planes.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
OPTIONAL = st.none() | TEXT
HEX = st.text("0123456789abcdef", min_size=64, max_size=64)
WHEN = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
) | st.datetimes(timezones=st.just(timezone(timedelta(hours=5))), min_value=datetime(1900, 1, 2))
DECISIONS = st.dictionaries(
    TEXT.filter(bool),
    st.tuples(st.booleans(), st.none() | st.sampled_from(["GPC", "BANNER"])),
    min_size=1,
    max_size=4,
).map(
    lambda chosen: [
        {"purpose": purpose, "granted": granted} | ({"method": method} if method else {})
        for purpose, (granted, method) in sorted(chosen.items())
    ]
)


@pytest.fixture(autouse=True, scope="module")
def _key():
    saved = crypto._master, crypto._subkeys
    crypto.configure("k" * 48)
    yield
    crypto._master, crypto._subkeys = saved


@settings(max_examples=300, deadline=None)
@given(subject=TEXT, ip=OPTIONAL, agent=OPTIONAL, url=OPTIONAL)
def test_commitment_matches_the_generic_one(subject, ip, agent, url) -> None:
    fields = {"subject_id": subject, "ip": ip, "user_agent": agent, "source_url": url}
    salt = chain.new_salt()
    assert encoding.commitment(**fields, salt=salt) == chain.commitment(**fields, salt=salt)


@settings(max_examples=300, deadline=None)
@given(
    sequence=st.integers(1, 2**53 - 1),
    occurred=WHEN,
    recorded=WHEN,
    kind=st.sampled_from(["PRIVACY", "COOKIES"]),
    version=st.integers(1, 10_000),
    locale=OPTIONAL,
    method=st.sampled_from(["BANNER", "GPC", "IMPLIED"]),
    decisions=DECISIONS,
    commitment=HEX,
    previous=st.none() | HEX,
)
def test_document_matches_the_generic_one(
    sequence, occurred, recorded, kind, version, locale, method, decisions, commitment, previous
) -> None:
    event_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    common = {
        "event_id": event_id,
        "tenant_id": tenant_id,
        "sequence": sequence,
        "policy_kind": kind,
        "policy_version": version,
        "locale": locale,
        "method": method,
        "commitment": commitment,
        "previous_hash": previous,
    }
    generic = chain.canonical_json(
        chain.event_document(
            **common, occurred_at=occurred, recorded_at=recorded, decisions=decisions
        )
    )
    fast = encoding.document_json(
        **common | {"event_id": str(event_id), "tenant_id": str(tenant_id)},
        occurred_at=encoding.instant(occurred),
        recorded_at=encoding.instant(recorded),
        decisions=encoding.decisions_json(decisions),
    )
    assert fast == generic


def test_linked_events_verify_whatever_the_zone_of_their_times() -> None:
    new_york = ZoneInfo("America/New_York")
    # The repeated hour of 2025-11-02: equal as Python datetimes, an hour apart as instants.
    first = datetime(2025, 11, 2, 1, 30, tzinfo=new_york)
    times = [first, first.replace(fold=1), datetime(2025, 11, 2, 9, tzinfo=UTC)]
    head = SimpleNamespace(sequence=0, hash=None)
    linker = Linker(
        tenant=SimpleNamespace(id=uuid.uuid4()), head=head, now=datetime.now(UTC), count=2
    )
    events = [
        linker.link(
            Entry(
                subject_id=f"visitor-{n}",
                policy_kind=PolicyKind.PRIVACY,
                policy_version=3,
                locale="uz-Cyrl",
                method=ConsentMethod.BANNER,
                decisions=[
                    {"purpose": "marketing.advertising", "granted": False, "method": "GPC"},
                    {"purpose": "analytics.reporting", "granted": True},
                ],
                occurred_at=when,
                source_url=None,
                ip="203.0.113.0",
                user_agent='Ёжик "в" тумане',
                client_event_id=None,
            )
        )
        for n, when in enumerate(times)  # three links from a linker told of two
    ]
    links = [chain.ChainLink(e.id, document_of(e), e.hash, e.previous_hash) for e in events]
    # A fold mistaken for the same instant would chain a time the row does not hold.
    assert chain.verify(links).ok and head.hash == events[-1].hash
    with pytest.raises(ValueError, match="timezone-aware"):
        encoding.instant(datetime(2025, 1, 1))


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=1, max_size=80), purpose=TEXT, value=TEXT | st.text(min_size=200))
def test_keyed_hash_is_hmac_sha256_under_the_purposes_subkey(secret, purpose, value) -> None:
    # keyed_hash builds HMAC from pre-padded SHA-256 states; it must be the library's HMAC.
    crypto.configure(secret)
    expected = hmac.digest(crypto._subkey(purpose), value.encode(), "sha256").hex()
    assert crypto.keyed_hash(value, purpose=purpose) == expected
    crypto.configure("k" * 48)
