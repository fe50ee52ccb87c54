"""A restriction from the person's side: it shows on consentState even with no decision
to hang it on, and the person is told before it is lifted (GDPR Art. 18(3)), in their
locale, through a real SMTP server."""

from __future__ import annotations

import pytest

from tenants.outbound.models import OutboxMessage
from tests.factories import create_key, create_tenant
from tests.outbound import drain, smtp_server
from tests.test_consent import grant, publish_policy, record
from tests.test_people_told import act, verified

FLAGS = "purpose granted restricted objected decidedAt"
STATE = f"query($s: String!) {{ consentState(subjectId: $s) {{ {FLAGS} }} }}"
LIFT = """mutation($s: String!, $note: String) {
  liftRestriction(subjectId: $s, note: $note) {
    receipt { processing } personTold userErrors { field code }
  }
}"""
SUBMIT = """mutation($input: SubjectRequestInput!) {
  submitSubjectRequest(input: $input) { subjectRequest { id } userErrors { code } }
}"""
# Words of each locale's message, so a fallback to English shows.
WORDS = {
    "en": ("restriction of processing of your data ends", "Your address was confirmed"),
    "ru": ("Ограничение обработки ваших данных снимается", "Your address was confirmed"),
    "uz": ("cheklov olib tashlanmoqda", "Your address was confirmed"),
    "ky": ("чектөө алынып жатат", "Your address was confirmed"),
    "kk": ("шектеу алынып жатыр", "Your address was confirmed"),
}
TAGS = {"en": "en-GB", "ru": "ru-RU", "uz": "uz-Latn-UZ", "ky": "ky-KG", "kk": "kk-KZ"}


@pytest.fixture
async def shop(api):
    _, owner = await create_tenant(
        api, slug="shop", name="Bishkek Shop", jurisdictions=["KG"], locales=["ru", "ky"]
    )
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    return {"owner": owner, "site": site}


async def restricted_by_request(api, shop, subject: str, address: str, tag: str) -> None:
    # The tenant's backend knows the subject's address (verified contact), so the
    # requester's verified e-mail proves the subject (CONTACT).
    await record(
        api, shop["owner"], subjectId=subject, method="FORM", email=address,
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    request_id = await verified(
        api, shop["site"], address, type="RESTRICTION", subjectId=subject, locale=tag
    )
    await act(api, shop["owner"], request_id, "COMPLETE", "Blocked while we check your address.")


async def state(api, owner, subject):
    return (await api(STATE, {"s": subject}, token=owner))["data"]["consentState"]


@pytest.mark.parametrize("locale", sorted(WORDS))
async def test_the_person_is_told_before_the_restriction_is_lifted(api, shop, locale):
    await restricted_by_request(api, shop, "p-1", "person@example.kg", TAGS[locale])
    note = "Your address was confirmed <correct>."
    lifted = (await api(LIFT, {"s": "p-1", "note": note}, token=shop["owner"]))["data"]
    result = lifted["liftRestriction"]
    assert result["userErrors"] == [] and result["personTold"] is True
    assert result["receipt"]["processing"] == "RESTRICTION_LIFTED"
    with smtp_server() as (port, mailbox):
        await drain(smtp_port=port)
        mails = mailbox.received()
    subject_words, note_words = WORDS[locale]
    assert len(mails) == 3  # the code, the completion, and this (in any order)
    [told] = [mail for mail in mails if subject_words in mail["Subject"]]
    assert told["To"] == "person@example.kg" and told["Content-Language"] == locale
    assert subject_words in told["Subject"], told["Subject"]
    text = told.get_body(("plain",)).get_content()
    assert note_words in text and "Bishkek Shop" in text
    assert "&lt;correct&gt;" in told.get_body(("html",)).get_content()
    # The message and the lift are one transaction's: exactly one, about this subject.
    assert await OutboxMessage.filter(kind="subject.restriction_lifted").count() == 1


async def test_nobody_to_tell_is_said_not_hidden(api, shop):
    # Logged by phone (no address) and completed by staff: the tenant must tell them.
    body = await api(
        SUBMIT,
        {"input": {"type": "RESTRICTION", "subjectId": "phone-1", "verified": True}},
        token=shop["owner"],
    )
    await act(api, shop["owner"], body["data"]["submitSubjectRequest"]["subjectRequest"]["id"],
              "COMPLETE")  # fmt: skip
    # A browser's claimed address for the subject proves nothing and is not written to.
    await record(
        api, shop["site"], subjectId="phone-1", method="BANNER", email="claimed@example.kg",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    result = (await api(LIFT, {"s": "phone-1"}, token=shop["owner"]))["data"]["liftRestriction"]
    assert result["userErrors"] == [] and result["personTold"] is False
    assert await OutboxMessage.filter(kind="subject.restriction_lifted").count() == 0


async def test_a_failed_lift_tells_nobody(api, shop):
    result = (await api(LIFT, {"s": "never"}, token=shop["owner"]))["data"]["liftRestriction"]
    assert [e["code"] for e in result["userErrors"]] == ["NOT_RESTRICTED"]
    assert result["personTold"] is None
    long_note = {"s": "never", "note": "x" * 2001}
    result = (await api(LIFT, long_note, token=shop["owner"]))["data"]["liftRestriction"]
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [(["note"], "TOO_LONG")]
    assert await OutboxMessage.filter(kind="subject.restriction_lifted").count() == 0


async def test_a_restriction_without_decisions_shows_on_consent_state(api, shop):
    # A person restricted before any consent was recorded (the request came first).
    body = await api(
        SUBMIT,
        {"input": {"type": "RESTRICTION", "subjectId": "early", "verified": True}},
        token=shop["owner"],
    )
    request_id = body["data"]["submitSubjectRequest"]["subjectRequest"]["id"]
    # In force from receipt (blocking.py), before anyone completes the request.
    [entry] = await state(api, shop["owner"], "early")
    assert entry["restricted"] is True
    await act(api, shop["owner"], request_id, "COMPLETE")
    [entry] = await state(api, shop["owner"], "early")
    assert entry["purpose"] == "*" and entry["granted"] is False
    assert entry["restricted"] is True and entry["objected"] is False
    # Another tenant sees nothing of it.
    _, other = await create_tenant(api, slug="other")
    assert await state(api, other, "early") == []
    history = await api(
        'query { consentHistory(subjectId: "early") { edges { node { processing } } } }',
        token=shop["owner"],
    )
    marks = [e["node"]["processing"] for e in history["data"]["consentHistory"]["edges"]]
    assert marks == ["RESTRICTED"]  # receipt restricted; completing did not repeat it
    # Lifted: nothing applies any more, and the state is empty again.
    await api(LIFT, {"s": "early"}, token=shop["owner"])
    assert await state(api, shop["owner"], "early") == []
    # Once a decision exists, it carries the flags itself: no `*` entry beside it.
    body = await api(
        SUBMIT,
        {"input": {"type": "OBJECTION", "subjectId": "early", "verified": True}},
        token=shop["owner"],
    )
    await act(api, shop["owner"], body["data"]["submitSubjectRequest"]["subjectRequest"]["id"],
              "COMPLETE")  # fmt: skip
    [entry] = await state(api, shop["owner"], "early")
    assert (entry["purpose"], entry["restricted"], entry["objected"]) == ("*", False, True)
    await record(api, shop["owner"], subjectId="early", method="FORM",
                 decisions=grant("analytics.reporting"))  # fmt: skip
    [entry] = await state(api, shop["owner"], "early")
    assert (entry["purpose"], entry["objected"]) == ("analytics.reporting", True)


async def test_blocking_runs_from_the_moment_of_the_request(api, shop):
    """152-FZ Art. 21(1), Deepen 7.2.4: data is blocked from the moment of the request for
    the verification period, not once staff get round to completing it; whatever the
    outcome, only liftRestriction (which tells the person) ends it."""
    await record(
        api, shop["owner"], subjectId="p-2", method="FORM", email="p2@example.kg",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    request_id = await verified(
        api, shop["site"], "p2@example.kg", type="RESTRICTION", subjectId="p-2", locale="ru"
    )
    state_now = await state(api, shop["owner"], "p-2")
    assert state_now and all(d["restricted"] for d in state_now)
    timeline = await api(
        "query($id: ID!) { subjectRequest(id: $id) { timeline { note } } }",
        {"id": request_id},
        token=shop["owner"],
    )
    notes = [e["note"] for e in timeline["data"]["subjectRequest"]["timeline"]]
    assert any("restricted from receipt" in note for note in notes), notes
    # The data turned out accurate: the request is refused, the block stays until lifted.
    await act(api, shop["owner"], request_id, "REJECT", "Your address was correct.")
    assert all(d["restricted"] for d in await state(api, shop["owner"], "p-2"))
    result = (await api(LIFT, {"s": "p-2"}, token=shop["owner"]))["data"]["liftRestriction"]
    assert result["personTold"] is True
    assert not any(d["restricted"] for d in await state(api, shop["owner"], "p-2"))
    # An ACCESS request restricts nothing.
    await verified(api, shop["site"], "p2@example.kg", type="ACCESS", subjectId="p-2")
    assert not any(d["restricted"] for d in await state(api, shop["owner"], "p-2"))
