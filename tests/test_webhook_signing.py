"""Standard Webhooks signing: the spec's test vector, and what verification refuses."""

from __future__ import annotations

import base64
import time

import pytest

from tenants.outbound.signing import headers, new_secret, sign, verify

# The example from the Standard Webhooks specification and its reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _spec_headers(signature: str = SIGNATURE) -> dict[str, str]:
    return {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": signature,
    }


def test_the_spec_test_vector():
    assert sign(secret=SECRET, msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY) == SIGNATURE
    assert headers(secret=SECRET, msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY) == (
        _spec_headers()
    )
    assert verify(secret=SECRET, headers=_spec_headers(), body=BODY, now=TIMESTAMP)


def test_new_secrets_are_prefixed_random_and_usable():
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert 24 <= len(base64.b64decode(first.removeprefix("whsec_"))) <= 32
    signed = headers(secret=first, msg_id="msg_1", timestamp=int(time.time()), body=b"{}")
    assert verify(secret=first, headers=signed, body=b"{}")
    assert not verify(secret=second, headers=signed, body=b"{}")


def test_a_tampered_body_is_refused():
    assert not verify(
        secret=SECRET, headers=_spec_headers(), body=b'{"test": 2432232315}', now=TIMESTAMP
    )


def test_a_wrong_secret_is_refused():
    assert not verify(secret=new_secret(), headers=_spec_headers(), body=BODY, now=TIMESTAMP)


@pytest.mark.parametrize("skew", [-301, 301, -10_000])
def test_a_timestamp_outside_the_tolerance_is_refused(skew: int):
    assert not verify(secret=SECRET, headers=_spec_headers(), body=BODY, now=TIMESTAMP - skew)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_a_timestamp_inside_the_tolerance_is_accepted(skew: int):
    assert verify(secret=SECRET, headers=_spec_headers(), body=BODY, now=TIMESTAMP + skew)


def test_the_tolerance_is_configurable():
    assert not verify(
        secret=SECRET, headers=_spec_headers(), body=BODY, now=TIMESTAMP + 61, tolerance=60
    )


def test_a_changed_id_or_timestamp_is_refused():
    moved = {**_spec_headers(), "webhook-id": "msg_other"}
    assert not verify(secret=SECRET, headers=moved, body=BODY, now=TIMESTAMP)
    later = {**_spec_headers(), "webhook-timestamp": str(TIMESTAMP + 1)}
    assert not verify(secret=SECRET, headers=later, body=BODY, now=TIMESTAMP)


def test_any_of_several_signatures_may_match():
    """Several are sent while a secret is being rotated."""
    old = sign(secret=new_secret(), msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)
    for value in (
        f"{old} {SIGNATURE}",
        f"v1a,c29tZWVkMjU1MTk= {SIGNATURE}",
        f"v1,not-base64!! {SIGNATURE}",
    ):
        assert verify(secret=SECRET, headers=_spec_headers(value), body=BODY, now=TIMESTAMP)
    assert not verify(secret=SECRET, headers=_spec_headers(old), body=BODY, now=TIMESTAMP)


def test_header_names_are_case_insensitive():
    shouted = {name.title(): value for name, value in _spec_headers().items()}
    assert verify(secret=SECRET, headers=shouted, body=BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    "broken",
    [
        {"webhook-id": ""},
        {"webhook-timestamp": ""},
        {"webhook-timestamp": " 1614265330"},
        {"webhook-timestamp": "1614265330.0"},
        {"webhook-timestamp": "+1614265330"},
        {"webhook-signature": ""},
        {"webhook-signature": "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
        {"webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
    ],
)
def test_malformed_headers_are_refused(broken: dict[str, str]):
    assert not verify(
        secret=SECRET, headers={**_spec_headers(), **broken}, body=BODY, now=TIMESTAMP
    )


def test_missing_headers_are_refused():
    assert not verify(secret=SECRET, headers={}, body=BODY, now=TIMESTAMP)


def test_an_id_with_a_dot_cannot_be_signed():
    with pytest.raises(ValueError, match=r"'\.'"):
        sign(secret=SECRET, msg_id="msg.1", timestamp=TIMESTAMP, body=BODY)


@pytest.mark.parametrize("secret", ["whsec_not*base64", "whsec_c2hvcnQ=", ""])
def test_a_malformed_secret_is_the_callers_error(secret: str):
    with pytest.raises(ValueError):
        sign(secret=secret, msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY)


def test_an_unprefixed_or_unpadded_secret_still_works():
    bare = SECRET.removeprefix("whsec_")
    assert sign(secret=bare, msg_id=MSG_ID, timestamp=TIMESTAMP, body=BODY) == SIGNATURE
    key = base64.b64encode(b"k" * 25).decode()  # 25 bytes: base64 with padding
    assert key.endswith("=")
    assert sign(secret=key.rstrip("="), msg_id="m", timestamp=1, body=b"") == sign(
        secret=key, msg_id="m", timestamp=1, body=b""
    )
