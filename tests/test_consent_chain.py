"""The consent hash chain: canonical JSON, commitments, links and verification."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tenants import crypto
from tenants.consent.chain import (
    ChainLink,
    canonical_json,
    commitment,
    event_document,
    link_hash,
    new_salt,
    verify,
)

TENANT = "7d1c0a52-0000-4000-8000-000000000001"
START = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    # Restored after each test: the key is process-wide and app tests set their own.
    monkeypatch.setattr(crypto, "_master", crypto._master)
    monkeypatch.setattr(crypto, "_subkeys", crypto._subkeys)
    monkeypatch.setattr(crypto, "_keyring", crypto._keyring)
    monkeypatch.setattr(crypto, "_current", crypto._current)
    crypto.configure("x" * 48)


def _personal(n: int) -> dict[str, str]:
    return {
        "subject_id": f"visitor-{n}",
        "ip": "203.0.113.0",
        "user_agent": "Mozilla/5.0",
        "source_url": "https://shop.example/uz/",
    }


def _chain(count: int = 5) -> tuple[list[ChainLink], list[dict[str, str]]]:
    links: list[ChainLink] = []
    rows: list[dict[str, str]] = []
    previous = None
    for n in range(1, count + 1):
        row = {**_personal(n), "salt": new_salt()}
        document = event_document(
            event_id=f"event-{n}",
            tenant_id=TENANT,
            sequence=n,
            occurred_at=START + timedelta(minutes=n),
            recorded_at=START + timedelta(minutes=n, seconds=1),
            policy_kind="COOKIES",
            policy_version="3",
            locale="uz-Latn",
            method="BANNER",
            decisions=[("marketing.advertising", n % 2 == 0), ("analytics", True)],
            commitment=commitment(**row),
            previous_hash=previous,
        )
        stored = link_hash(previous_hash=previous, document=document)
        links.append(ChainLink(f"event-{n}", document, stored, previous))
        rows.append(row)
        previous = stored
    return links, rows


def test_canonical_json_is_deterministic_and_order_independent() -> None:
    one = {"b": 1, "a": [True, None, "x"], "c": {"z": 0, "y": -7}}
    two = {"c": {"y": -7, "z": 0}, "a": [True, None, "x"], "b": 1}
    assert canonical_json(one) == canonical_json(two)
    assert canonical_json(one) == b'{"a":[true,null,"x"],"b":1,"c":{"y":-7,"z":0}}'


def test_canonical_json_keeps_non_ascii_and_round_trips() -> None:
    uzbek = "O\u02bbzbekiston"  # U+02BB MODIFIER LETTER TURNED COMMA, as Uzbek Latin writes it
    value = {"ru": "Согласие", "uz": uzbek, "tab\t": 'q"\\\x01\x7f'}
    encoded = canonical_json(value)
    assert "Согласие".encode() in encoded and uzbek.encode() in encoded
    assert b"\\u0001" in encoded and b"\\t" in encoded and b"\x7f" in encoded
    assert json.loads(encoded.decode("utf-8")) == value


def test_canonical_json_sorts_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FFFF (JCS, RFC 8785 3.2.3).
    assert canonical_json({"\uffff": 1, "\U0001f600": 2}) == '{"😀":2,"\uffff":1}'.encode()


@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), 1.5, 2**53, START, {1: "x"}, {"a": {b"x"}}]
)
def test_canonical_json_rejects_what_it_cannot_represent(bad) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_json(bad)


def test_document_holds_no_personal_field() -> None:
    links, rows = _chain(1)
    text = canonical_json(links[0].document).decode()
    for value in rows[0].values():
        assert value not in text
    assert set(links[0].document) == {
        "schema", "event_id", "tenant_id", "sequence", "occurred_at", "recorded_at",
        "policy_kind", "policy_version", "locale", "method", "decisions", "commitment",
        "previous_hash",
    }  # fmt: skip


def test_document_normalises_times_and_decisions() -> None:
    tashkent = timezone(timedelta(hours=5))
    common = dict(
        event_id="e", tenant_id=TENANT, sequence=1, policy_kind="PRIVACY", policy_version=1,
        locale=None, method="FORM", commitment="c" * 64, previous_hash=None,
    )  # fmt: skip
    a = event_document(
        **common,
        occurred_at=START,
        recorded_at=START,
        decisions=[("b", True), ("a", False)],
    )
    b = event_document(
        **common,
        occurred_at=START.astimezone(tashkent),
        recorded_at=START,
        decisions=[{"purpose": "a", "granted": False}, {"purpose": "b", "granted": True}],
    )
    assert a == b
    assert a["occurred_at"] == "2025-03-01T09:30:00.000000Z"
    assert a["decisions"] == [{"purpose": "a", "granted": False}, {"purpose": "b", "granted": True}]
    with pytest.raises(ValueError):
        event_document(
            **common, occurred_at=START.replace(tzinfo=None), recorded_at=START, decisions=[]
        )
    with pytest.raises(ValueError):
        event_document(**common, occurred_at=START, recorded_at=START, decisions=[("a", 1)])
    with pytest.raises(ValueError):
        event_document(
            **{**common, "commitment": "visitor-42"},
            occurred_at=START,
            recorded_at=START,
            decisions=[],
        )
    with pytest.raises(ValueError):
        event_document(
            **common, occurred_at=START, recorded_at=START, decisions=[("a", True), ("a", False)]
        )


def test_link_hash_is_sha256_of_previous_and_document() -> None:
    document = {"k": "v"}
    assert (
        link_hash(previous_hash=None, document=document) == hashlib.sha256(b'{"k":"v"}').hexdigest()
    )
    previous = "a" * 64
    assert (
        link_hash(previous_hash=previous, document=document)
        == hashlib.sha256(previous.encode() + b'{"k":"v"}').hexdigest()
    )
    with pytest.raises(ValueError):
        link_hash(previous_hash="not-a-hash", document=document)


def test_chain_of_five_verifies() -> None:
    links, _ = _chain()
    result = verify(links)
    assert result.ok and result.checked == 5 and result.first_broken_id is None
    assert result.head == links[-1].stored_hash


def test_verification_resumes_from_a_head() -> None:
    links, _ = _chain()
    first = verify(links[:2])
    rest = verify(links[2:], previous_hash=first.head, next_sequence=3)
    assert rest.ok and rest.checked == 3 and rest.head == links[-1].stored_hash


def test_tampered_decision_reports_that_event() -> None:
    links, _ = _chain()
    document = {**links[2].document, "decisions": [{"purpose": "analytics", "granted": False}]}
    links[2] = replace(links[2], document=document)
    result = verify(links)
    assert not result.ok and result.first_broken_id == "event-3" and result.checked == 2
    assert "hash" in result.reason


def test_rehashed_tampering_still_breaks_the_next_link() -> None:
    links, _ = _chain()
    document = {**links[2].document, "method": "FORGED"}
    links[2] = replace(links[2], document=document, stored_hash=link_hash(
        previous_hash=links[1].stored_hash, document=document
    ))  # fmt: skip
    assert verify(links).first_broken_id == "event-4"


def test_deleted_event_reports_the_next_one() -> None:
    links, _ = _chain()
    del links[2]
    result = verify(links)
    assert not result.ok and result.first_broken_id == "event-4" and result.checked == 2


def test_deleted_genesis_is_caught() -> None:
    links, _ = _chain()
    assert verify(links[1:]).first_broken_id == "event-2"


def test_reordered_events_are_caught() -> None:
    links, _ = _chain()
    links[1], links[2] = links[2], links[1]
    assert verify(links).first_broken_id == "event-3"


def test_erasure_keeps_documents_and_hashes() -> None:
    links, rows = _chain()
    before = [(link.document, link.stored_hash) for link in links]
    # Until erasure, the stored fields can be shown to be the ones the chain committed to.
    assert all(
        commitment(**row) == link.document["commitment"]
        for row, link in zip(rows, links, strict=True)
    )
    # Erasure blanks the personal columns and the salt; the chain never saw either.
    for row in rows:
        row.update(subject_id=None, ip=None, user_agent=None, source_url=None, salt=None)
    assert [(link.document, link.stored_hash) for link in links] == before
    assert verify(links).ok
    assert links[2].document["commitment"] != "" and len(links[2].document["commitment"]) == 64


def test_commitment_binds_the_personal_fields() -> None:
    salt = new_salt()
    base = commitment(**_personal(1), salt=salt)
    assert base == commitment(**_personal(1), salt=salt)
    assert base != commitment(**{**_personal(1), "ip": "203.0.114.0"}, salt=salt)
    assert base != commitment(**_personal(2), salt=salt)


def test_commitments_differ_with_different_salts() -> None:
    assert commitment(**_personal(1), salt=new_salt()) != commitment(
        **_personal(1), salt=new_salt()
    )
    with pytest.raises(ValueError):
        commitment(**_personal(1), salt="")


def test_commitment_depends_on_the_key() -> None:
    salt = new_salt()
    first = commitment(**_personal(1), salt=salt)
    crypto.configure("y" * 48)
    assert commitment(**_personal(1), salt=salt) != first
