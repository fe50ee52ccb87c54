"""Proof of who asked: a verified e-mail proves an address, not a subject.

The attack, as an attacker holding only the site's publishable key would run it: name
the victim's subject id next to their own address, verify with the code from their own
inbox, and wait for staff to complete. Each proof path (CONTACT, ASSERTION, STAFF) is
then shown to work, and every bad assertion to be refused with its code.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import textwrap
import time
import uuid
from pathlib import Path

import jwt
import pytest

from tenants.outbound.models import OutboxMessage
from tenants.outbound.outbox import opened
from tests.factories import create_key, create_tenant
from tests.node import REQUIRED
from tests.test_breaches import NOTIFY, report
from tests.test_consent import grant, publish_policy, record
from tests.test_subject_requests import SUBMIT, UPDATE, VERIFY

VICTIM, VICTIM_EMAIL = "victim-dave", "dave@victim.example"
ATTACKER_EMAIL = "mallory@attacker.example"
PURPOSES = ("analytics.reporting", "marketing.communications.email", "essential.service")
STATE = "query($s: String!) { consentState(subjectId: $s) { purpose granted restricted } }"
ROTATE = """mutation($grace: Int) { rotateSubjectAssertionKey(graceSeconds: $grace) {
  key { id audience expiresAt } secret userErrors { field code message } } }"""
STAFF = """mutation($id: ID!, $note: String!) { verifySubjectIdentity(id: $id, note: $note) {
  subjectRequest { id status identityProof subjectId timeline { note } } userErrors { field code message } } }"""


@pytest.fixture
async def shop(api):
    tenant, owner = await create_tenant(
        api, slug="shop", jurisdictions=["EU"], domains=["shop.example"]
    )
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    # Dave's consent, from the banner; his address, from the shop's own backend.
    await record(api, site, subjectId=VICTIM, method="BANNER", decisions=grant(*PURPOSES))
    await record(
        api, owner, subjectId=VICTIM, method="FORM", email=VICTIM_EMAIL,
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    return {"tenant": tenant, "owner": owner, "site": site}


async def submit(api, token, **fields) -> dict:
    body = await api(SUBMIT, {"input": fields}, token=token)
    return body["data"]["submitSubjectRequest"]


async def code_sent_to(address: str, request_id: str) -> str:
    """The verification code, read from the message in that person's inbox."""
    for message in await OutboxMessage.filter(kind="subject_request.verification"):
        recipient, payload = opened(message)
        if (
            recipient
            and recipient.lower() == address.lower()
            and payload["request_id"] == request_id
        ):
            return payload["token"]
    raise AssertionError(f"no code went to {address}")


async def verified_request(api, token, address: str, **fields) -> dict:
    made = await submit(api, token, email=address, **fields)
    assert made["userErrors"] == [], made
    request_id = made["subjectRequest"]["id"]
    body = await api(
        VERIFY, {"id": request_id, "token": await code_sent_to(address, request_id)}, token=token
    )
    result = body["data"]["verifySubjectRequest"]
    assert result["userErrors"] == [], result
    return result["subjectRequest"]


async def complete(api, owner, request_id: str) -> dict:
    await api(UPDATE, {"id": request_id, "action": "START"}, token=owner)
    body = await api(UPDATE, {"id": request_id, "action": "COMPLETE"}, token=owner)
    result = body["data"]["updateSubjectRequest"]
    assert result["userErrors"] == [], result
    return result["subjectRequest"]


async def consent_of(api, owner, subject: str = VICTIM) -> dict:
    body = await api(STATE, {"s": subject}, token=owner)
    return {d["purpose"]: (d["granted"], d["restricted"]) for d in body["data"]["consentState"]}


@pytest.mark.parametrize(
    "kind", ["ACCESS", "PORTABILITY", "ERASURE", "RESTRICTION", "OBJECTION", "WITHDRAW_CONSENT"]
)
async def test_the_identity_attack_fails(api, shop, kind):
    before = await consent_of(api, shop["owner"])
    # The attacker first plants their address as the victim's contact, from the browser:
    # a claim, which neither proves the subject nor replaces the shop's verified address.
    planted = await record(
        api, shop["site"], subjectId=VICTIM, method="BANNER", email=ATTACKER_EMAIL,
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    assert planted["userErrors"] == []
    request = await verified_request(api, shop["site"], ATTACKER_EMAIL, type=kind, subjectId=VICTIM)
    assert request["identityProof"] == "EMAIL"
    assert "not the subject it names" in request["timeline"][-1]["note"]
    done = await complete(api, shop["owner"], request["id"])
    assert done["status"] == "COMPLETED"

    leaked = json.dumps(done["export"]) if done["export"] else ""
    assert VICTIM_EMAIL not in leaked and "BANNER" not in leaked
    if kind in ("ACCESS", "PORTABILITY"):
        export = done["export"]
        assert export["subject"]["ids"] == [] and export["consent"]["history"] == []
        assert export["subject"]["identity_proof"] == "EMAIL"
        # What is linked to the attacker's own address is theirs to see, without the id.
        assert [(c["email"], c["subject_id"]) for c in export["contacts"]] == []
    assert await consent_of(api, shop["owner"]) == before
    # Dave is still reached at his own address.
    breach = (await report(api, shop["owner"], risk="HIGH"))["breach"]
    message = [{"locale": "en", "title": "Leak", "body": "Sorry."}]
    await api(
        NOTIFY,
        {"id": breach["id"], "input": {"subjectIds": [VICTIM], "message": message}},
        token=shop["owner"],
    )
    [notice] = await OutboxMessage.filter(kind="breach.notice")
    assert opened(notice)[0] == VICTIM_EMAIL


async def test_a_request_naming_a_subject_does_not_redirect_their_breach_notice(api, shop):
    # A subject the tenant holds no address for: the attacker names it with their own.
    await record(api, shop["site"], subjectId="quiet-one", method="BANNER",
                 decisions=grant("analytics.reporting"))  # fmt: skip
    await verified_request(api, shop["site"], ATTACKER_EMAIL, type="ACCESS", subjectId="quiet-one")
    breach = (await report(api, shop["owner"], risk="HIGH"))["breach"]
    message = [{"locale": "en", "title": "Leak", "body": "Sorry."}]
    await api(
        NOTIFY,
        {"id": breach["id"], "input": {"subjectIds": ["quiet-one"], "message": message}},
        token=shop["owner"],
    )
    notices = await OutboxMessage.filter(kind="breach.notice")
    assert [opened(m)[0] for m in notices] == [None]  # to the tenant's webhook, not by e-mail


async def test_the_email_alone_covers_what_is_linked_to_it(api, shop):
    # Mallory's own account at the shop: her address is a verified contact of "mallory-1".
    await record(
        api, shop["owner"], subjectId="mallory-1", method="FORM", email=ATTACKER_EMAIL,
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    request = await verified_request(
        api, shop["site"], ATTACKER_EMAIL, type="ACCESS", subjectId=VICTIM
    )
    export = (await complete(api, shop["owner"], request["id"]))["export"]
    assert export["subject"]["ids"] == ["mallory-1"]
    assert {c["subject_id"] for c in export["contacts"]} == {"mallory-1"}
    assert {e["subject_id"] for e in export["consent"]["history"]} == {"mallory-1"}


async def test_contact_proof_erases_the_subject(api, shop):
    request = await verified_request(
        api, shop["site"], VICTIM_EMAIL.upper(), type="ERASURE", subjectId=VICTIM
    )
    assert request["identityProof"] == "CONTACT"
    done = await complete(api, shop["owner"], request["id"])
    assert done["subjectId"].startswith("erased:")
    assert await consent_of(api, shop["owner"]) == {}


async def test_a_browser_claim_is_no_contact_proof(api, shop):
    await record(
        api, shop["site"], subjectId="claimed", method="BANNER", email="c@example.uz",
        decisions=grant("analytics.reporting"),
    )  # fmt: skip
    request = await verified_request(
        api, shop["site"], "c@example.uz", type="ACCESS", subjectId="claimed"
    )
    assert request["identityProof"] == "EMAIL"
    export = (await complete(api, shop["owner"], request["id"]))["export"]
    # The address is the requester's own: shown, but not which subject it was given for.
    assert [(c["email"], c["subject_id"]) for c in export["contacts"]] == [("c@example.uz", None)]
    assert export["consent"]["history"] == []


def mint(secret: str, kid: str, *, slug: str = "shop", **claims) -> str:
    """What the tenant's backend does for a signed-in user (README: subject assertions)."""
    now = int(time.time())
    body = {
        "aud": f"charter:{slug}",
        "sub": VICTIM,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **claims,
    }
    return jwt.encode(body, secret, algorithm="HS256", headers={"kid": kid})


async def rotate(api, owner, grace=None) -> tuple[str, str]:
    body = (await api(ROTATE, {"grace": grace}, token=owner))["data"]["rotateSubjectAssertionKey"]
    assert body["userErrors"] == [], body
    return body["key"]["id"], body["secret"]


async def test_a_signed_assertion_proves_the_subject(api, shop):
    kid, secret = await rotate(api, shop["owner"])
    assert secret.startswith("sas_")
    listed = await api("{ subjectAssertionKeys { id audience expiresAt } }", token=shop["owner"])
    assert listed["data"]["subjectAssertionKeys"] == [
        {"id": kid, "audience": "charter:shop", "expiresAt": None}
    ]
    assert secret not in json.dumps(listed)
    # Dave, signed in on the shop, asks from the browser; the subject comes from the token.
    request = await verified_request(
        api, shop["site"], "dave.other@example.uz", type="ACCESS",
        subjectAssertion=mint(secret, kid),
    )  # fmt: skip
    assert request["subjectId"] == VICTIM and request["identityProof"] == "ASSERTION"
    notes = " ".join(event["note"] for event in request["timeline"])
    assert f"(ASSERTION, key {kid})" in notes
    export = (await complete(api, shop["owner"], request["id"]))["export"]
    assert export["subject"]["ids"] == [VICTIM]
    assert any(c["email"] == VICTIM_EMAIL for c in export["contacts"])
    assert len(export["consent"]["history"]) == 2


async def test_bad_assertions_are_refused_with_their_code(api, shop):
    kid, secret = await rotate(api, shop["owner"])
    _, bravo_owner = await create_tenant(api, slug="bravo")
    bravo_kid, bravo_secret = await rotate(api, bravo_owner)
    now = int(time.time())
    reused = mint(secret, kid)
    await verified_request(
        api, shop["site"], "d@example.uz", type="ACCESS", subjectAssertion=reused
    )
    cases = {
        "expired": (mint(secret, kid, iat=now - 900, exp=now - 600), "ASSERTION_EXPIRED"),
        "wrong tenant": (mint(bravo_secret, bravo_kid, slug="bravo"), "ASSERTION_WRONG_TENANT"),
        "another tenant's key": (mint(bravo_secret, bravo_kid), "ASSERTION_INVALID"),
        "wrong subject": (mint(secret, kid, sub="someone-else"), "ASSERTION_WRONG_SUBJECT"),
        "replayed": (reused, "ASSERTION_REPLAYED"),
        "too long-lived": (mint(secret, kid, exp=now + 3600), "ASSERTION_INVALID"),
        "forged": (mint("sas_guessed-secret-of-32-bytes-or-more!!", kid), "ASSERTION_INVALID"),
        "no jti": (mint(secret, kid, jti=None), "ASSERTION_INVALID"),
        "unsigned": (
            jwt.encode(
                {"aud": "charter:shop", "sub": VICTIM}, None, algorithm="none", headers={"kid": kid}
            ),
            "ASSERTION_INVALID",
        ),
        "garbage": ("not-a-jwt", "ASSERTION_INVALID"),
    }
    for name, (token, code) in cases.items():
        made = await submit(
            api, shop["site"], type="ERASURE", subjectId=VICTIM, email="d@example.uz",
            subjectAssertion=token,
        )  # fmt: skip
        errors = made["userErrors"]
        assert [(e["code"], e["field"]) for e in errors] == [
            (code, ["input", "subjectAssertion"])
        ], name
        assert made["subjectRequest"] is None, name
    listing = await api("{ subjectRequests { edges { node { id } } } }", token=shop["owner"])
    assert len(listing["data"]["subjectRequests"]["edges"]) == 1  # only the good one


async def test_rotation_keeps_the_old_key_for_its_grace_only(api, shop):
    old_kid, old_secret = await rotate(api, shop["owner"])
    new_kid, new_secret = await rotate(api, shop["owner"])  # default grace: a day
    for kid, secret in ((old_kid, old_secret), (new_kid, new_secret)):
        made = await submit(
            api, shop["site"], type="ACCESS", email="d@example.uz",
            subjectAssertion=mint(secret, kid),
        )  # fmt: skip
        assert made["userErrors"] == []
    await rotate(api, shop["owner"], grace=0)
    made = await submit(
        api, shop["site"], type="ACCESS", email="d@example.uz",
        subjectAssertion=mint(new_secret, new_kid),
    )  # fmt: skip
    assert [e["code"] for e in made["userErrors"]] == ["ASSERTION_INVALID"]
    bad = (await api(ROTATE, {"grace": -1}, token=shop["owner"]))["data"]
    assert [e["code"] for e in bad["rotateSubjectAssertionKey"]["userErrors"]] == ["INVALID"]


async def test_staff_can_vouch_for_the_identity(api, shop):
    request = await verified_request(
        api, shop["site"], "dave.home@example.uz", type="WITHDRAW_CONSENT", subjectId=VICTIM
    )
    assert request["identityProof"] == "EMAIL"
    refused = await api(STAFF, {"id": request["id"], "note": "  "}, token=shop["owner"])
    assert [e["code"] for e in refused["data"]["verifySubjectIdentity"]["userErrors"]] == [
        "REQUIRED"
    ]
    vouched = await api(
        STAFF,
        {"id": request["id"], "note": "called the customer back on the number on file"},
        token=shop["owner"],
    )
    result = vouched["data"]["verifySubjectIdentity"]["subjectRequest"]
    assert result["identityProof"] == "STAFF" and result["status"] == "RECEIVED"
    assert "called the customer back" in result["timeline"][-1]["note"]
    await complete(api, shop["owner"], request["id"])
    assert all(not granted for granted, _ in (await consent_of(api, shop["owner"])).values())
    closed = await api(STAFF, {"id": request["id"], "note": "again"}, token=shop["owner"])
    assert [e["code"] for e in closed["data"]["verifySubjectIdentity"]["userErrors"]] == [
        "INVALID_TRANSITION"
    ]


async def test_staff_vouching_for_an_unverified_request_receives_it(api, shop):
    made = await submit(api, shop["site"], type="ACCESS", subjectId=VICTIM, email="x@example.uz")
    assert made["subjectRequest"]["identityProof"] == "NONE"
    vouched = await api(
        STAFF, {"id": made["subjectRequest"]["id"], "note": "ID card checked at the desk"},
        token=shop["owner"],
    )  # fmt: skip
    result = vouched["data"]["verifySubjectIdentity"]["subjectRequest"]
    assert result["status"] == "RECEIVED" and result["identityProof"] == "STAFF"
    logged = await submit(api, shop["owner"], type="ACCESS", subjectId=VICTIM, verified=True)
    assert logged["subjectRequest"]["identityProof"] == "STAFF"


def readme_snippet(language: str) -> str:
    """The README's example of minting an assertion, in ``language``, as printed."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("- **Subject assertions.**") :]
    block = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert block, f"no {language} snippet in the README's subject assertions"
    return textwrap.dedent(block.group(1))


async def test_the_readmes_snippets_mint_assertions_charter_accepts(api):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    kid, secret = await rotate(api, owner)
    scope: dict = {"SECRET": secret, "KID": kid}
    exec(readme_snippet("python"), scope)  # the tenant's Python backend
    tokens = {"python": scope["subject_assertion"]("user-42")}
    if shutil.which("node"):
        script = (
            f"const SECRET = {json.dumps(secret)}; const KID = {json.dumps(kid)};\n"
            + readme_snippet("js")
            + '\nprocess.stdout.write(subjectAssertion("user-42"));\n'
        )
        node = await asyncio.create_subprocess_exec(
            "node", "-e", script, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(node.communicate(), timeout=60)
        assert node.returncode == 0, err.decode()
        tokens["node"] = out.decode().strip()
    elif REQUIRED:
        pytest.fail("CHARTER_TEST_REQUIRE_CLIENTS=1 but node is missing")
    for language, token in tokens.items():
        made = await submit(
            api, site, type="ACCESS", email="u42@example.uz", subjectAssertion=token
        )
        assert made["userErrors"] == [], (language, made)
        request = made["subjectRequest"]
        assert request["subjectId"] == "user-42" and request["identityProof"] == "ASSERTION"
