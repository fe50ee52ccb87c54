"""A person erased, who comes back, consents again, is told of a breach again and asks to
be erased again: the second erasure completes like the first. Both fold into the one
pseudonym (erasure.pseudonym is a keyed hash of the id), whose state, flags and breach
notices already held rows of the first: renaming onto them broke the unique keys, and the
second ERASURE could never be completed."""

from __future__ import annotations

from tests.factories import create_tenant
from tests.test_breaches import NOTIFY, report
from tests.test_consent import RECORD, grant, publish_policy
from tests.test_restriction import complete

STATE = "query($s: String!) { consentState(subjectId: $s) { purpose granted } }"
VERIFY = "query { verifyConsentLedger { ok } }"
MESSAGE = [{"locale": "en", "title": "Leak", "body": "Sorry."}]


async def _visit(api, owner: str, breach_id: str) -> None:
    """Consent, a restriction, a breach notice: a row of each table erasure renames."""
    item = {"subjectId": "s-1", "method": "FORM", "email": "s1@example.uz",
            "decisions": grant("analytics.reporting", "marketing.communications.email")}  # fmt: skip
    body = await api(RECORD, {"input": item}, token=owner)
    assert body["data"]["recordConsent"]["userErrors"] == [], body
    await complete(api, owner, "RESTRICTION", subject="s-1")
    told = await api(
        NOTIFY, {"id": breach_id, "input": {"subjectIds": ["s-1"], "message": MESSAGE}}, token=owner
    )
    assert told["data"]["notifyBreachSubjects"]["userErrors"] == [], told


async def test_a_subject_erased_twice_is_erased_twice(api):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["RU"])
    await publish_policy(api, owner)
    first, second = (await report(api, owner, risk="HIGH"))["breach"], None
    await _visit(api, owner, first["id"])
    await complete(api, owner, "ERASURE", subject="s-1")
    second = (await report(api, owner, risk="HIGH"))["breach"]
    await _visit(api, owner, first["id"])  # told again of the same breach: a new person
    await _visit(api, owner, second["id"])
    await complete(api, owner, "ERASURE", subject="s-1")
    assert (await api(STATE, {"s": "s-1"}, token=owner))["data"]["consentState"] == []
    verified = await api(VERIFY, token=owner)
    assert verified["data"]["verifyConsentLedger"]["ok"] is True, verified
