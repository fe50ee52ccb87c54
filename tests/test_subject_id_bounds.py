"""A subject id is 1 to 255 characters wherever a caller hands one in: a longer one is the
caller's error (BAD_USER_INPUT or a userErrors entry), never an INTERNAL_SERVER_ERROR.
Reads that filtered on it through the ORM let Tortoise's max_length check raise inside the
query (consentState for a subject without rows, consentHistory)."""

from __future__ import annotations

import pytest

from tests.factories import create_tenant, error_codes
from tests.test_breaches import report
from tests.test_consent import publish_policy

LONG = "s" * 256
READS = {
    "consentState": "query($s: String!) { consentState(subjectId: $s) { purpose } }",
    "consentHistory": "query($s: String!) { consentHistory(subjectId: $s) { edges { cursor } } }",
}
WRITES = {
    "liftRestriction": """mutation($s: String!) {
        liftRestriction(subjectId: $s) { userErrors { field code } } }""",
    "submitSubjectRequest": """mutation($s: String!) {
        submitSubjectRequest(input: {type: ACCESS, subjectId: $s, email: "a@b.example"}) {
          userErrors { field code } } }""",
    "recordConsent": """mutation($s: String!) {
        recordConsent(input: {subjectId: $s, method: FORM, decisions: []}) {
          userErrors { field code } } }""",
}


NOTIFY = """mutation($id: ID!, $input: BreachNoticeInput!) {
  notifyBreachSubjects(breachId: $id, input: $input) { queued userErrors { field code } }
}"""


async def test_a_breach_notice_to_an_overlong_subject_id_is_a_user_error(api, owner):
    breach = (await report(api, owner))["breach"]
    message = [{"locale": "en", "title": "t", "body": "b"}]
    given = {"subjectIds": ["a", LONG], "message": message}
    body = await api(NOTIFY, {"id": breach["id"], "input": given}, token=owner)
    assert "errors" not in body, body
    errors = body["data"]["notifyBreachSubjects"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(["input", "subjectIds", "1"], "TOO_LONG")]
    # Every bad id at once, by the caller's own index (blank ones are passed over).
    given = {"subjectIds": [LONG, " ", "b", LONG], "message": message}
    body = await api(NOTIFY, {"id": breach["id"], "input": given}, token=owner)
    errors = body["data"]["notifyBreachSubjects"]["userErrors"]
    assert [e["field"][-1] for e in errors] == ["0", "3"], errors


async def test_no_living_subject_is_named_like_an_erased_one(api, owner):
    """A pseudonym (erased:...) names an erased person: written under, it would add to
    their record, and notices to everyone affected pass it over as erased."""
    body = await api(WRITES["recordConsent"], {"s": "erased:not-really"}, token=owner)
    errors = body["data"]["recordConsent"]["userErrors"]
    assert ("subjectId", "INVALID") in [(e["field"][-1], e["code"]) for e in errors], errors
    asked = await api(WRITES["submitSubjectRequest"], {"s": "erased:x"}, token=owner)
    errors = asked["data"]["submitSubjectRequest"]["userErrors"]
    assert ("subjectId", "INVALID") in [(e["field"][-1], e["code"]) for e in errors], errors
    # The proof an erasure keeps is still read by its pseudonym.
    read = await api(READS["consentState"], {"s": "erased:x"}, token=owner)
    assert read["data"]["consentState"] == [], read


@pytest.fixture
async def owner(api) -> str:
    _, token = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, token)
    return token


@pytest.mark.parametrize("name", sorted(READS))
@pytest.mark.parametrize("subject", [LONG, "ы" * 256, ""])
async def test_a_read_with_an_unusable_subject_id_is_the_callers_error(api, owner, name, subject):
    body = await api(READS[name], {"s": subject}, token=owner)
    assert error_codes(body) == ["BAD_USER_INPUT"], body


@pytest.mark.parametrize("name", sorted(WRITES))
async def test_a_write_with_an_overlong_subject_id_is_a_user_error(api, owner, name):
    body = await api(WRITES[name], {"s": LONG}, token=owner)
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert ("subjectId", "TOO_LONG") in [(e["field"][-1], e["code"]) for e in payload["userErrors"]]
