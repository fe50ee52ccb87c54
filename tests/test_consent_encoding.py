"""The templated canonical JSON of new events is byte for byte the generic encoder's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants import crypto
from tenants.consent import chain, encoding

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
