"""A subject assertion's ``sub`` is a subject id like any other (validation.subject_id):
trimmed as recordConsent trims the id it stores. Kept as signed, "victim-dave " named
nobody Charter holds: the ERASURE it proved completed while Dave's consent stayed."""

from __future__ import annotations

from tests.test_subject_identity import (  # noqa: F401
    VICTIM,
    complete,
    consent_of,
    mint,
    rotate,
    shop,
    verified_request,
)


async def test_an_asserted_subject_is_trimmed_like_any_other(api, shop):  # noqa: F811
    kid, secret = await rotate(api, shop["owner"])
    assert await consent_of(api, shop["owner"])  # Dave has consented
    request = await verified_request(
        api, shop["site"], "dave.other@example.uz", type="ERASURE",
        subjectAssertion=mint(secret, kid, sub=f" {VICTIM} "),
    )  # fmt: skip
    assert request["subjectId"] == VICTIM and request["identityProof"] == "ASSERTION"
    await complete(api, shop["owner"], request["id"])
    assert await consent_of(api, shop["owner"]) == {}
