"""ERASURE leaves no trace of the person anywhere in storage, and the ledger still verifies.

Complete by construction: the models come from ``Tortoise.apps``, so a table added later
fails here until it has a seeding recipe. One subject is seeded through the API into
every table that can hold them (each recipe says which traces its table must show before
the erasure, so the scan is seen to work), erased through the API, and then every column
of every table in the database, encrypted columns opened, and on SQLite the raw database,
WAL and SHM files, are searched for the subject id, their e-mail addresses and their IP.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import jwt
from tortoise import Tortoise, connections

from tenants import crypto
from tenants.outbound import events, schedule
from tenants.rotation import SEALED
from tests.conftest import Api
from tests.factories import create_draft, create_key, create_tenant, publish
from tests.outbound import drain, smtp_server, webhook_receiver
from tests.test_breaches import NOTIFY, report
from tests.test_consent import RECORD, grant, publish_policy
from tests.test_outbound import endpoint
from tests.test_subject_identity import code_sent_to
from tests.test_subject_requests import SUBMIT, UPDATE, VERIFY

SUBJECT = "visitor-erase-42"
EMAIL = "Erase.Me@example.uz"  # typed with capitals once: the scan ignores case
OTHER_EMAIL = "erase.me.too@example.uz"  # the address of one of their proven requests
TRACES = {
    "subject id": SUBJECT,
    "email": EMAIL.lower(),
    "other email": OTHER_EMAIL,
    "ip": "203.0.113.",
    "user agent": "erasureprobe/7.7",
    "source url": "secret-page-9f",
}
NOTHING: frozenset[str] = frozenset()
# Model -> the traces its table holds once seeded. A model missing here fails the test:
# give it a recipe (seed the subject into it below) when it is added.
RECIPES: dict[str, frozenset[str]] = {
    "Tenant": NOTHING,
    "TenantDomain": NOTHING,
    "ApiKey": NOTHING,
    "AuditEntry": NOTHING,
    "Policy": NOTHING,
    "PolicyVersion": NOTHING,
    "PolicyTranslation": NOTHING,
    "ConsentEvent": frozenset({"subject id", "ip", "user agent", "source url"}),
    "ConsentChainHead": NOTHING,
    "ConsentCheckpoint": NOTHING,  # hashes and sequences only
    "ConsentVerification": NOTHING,
    "ConsentState": frozenset({"subject id"}),
    "SubjectContact": frozenset({"subject id", "email"}),
    "SubjectFlags": frozenset({"subject id"}),
    "SubjectAssertionKey": NOTHING,
    "SubjectAssertionUse": NOTHING,
    "SubjectRequest": frozenset({"subject id", "email", "other email", "ip", "source url"}),
    "RequestEvent": frozenset({"subject id", "email"}),
    "Breach": NOTHING,
    "BreachClock": NOTHING,
    "BreachUpdate": NOTHING,
    "BreachNotice": frozenset({"subject id"}),
    "OutboxMessage": frozenset({"subject id", "email", "other email"}),
    "WebhookEndpoint": NOTHING,
}
_CIPHERTEXT = re.compile(r"^v[123]\.")


def models() -> dict[str, type]:
    return {model.__name__: model for model in Tortoise.apps["charter"].values()}


async def tables() -> list[str]:
    """Every table in the database, not only the models': a raw table cannot hide."""
    db = connections.get("default")
    if db.capabilities.dialect == "sqlite":
        rows = await db.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return sorted(row["name"] for row in rows)
    rows = await db.execute_query_dict(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    )
    return sorted(row["table_name"] for row in rows)


async def storage() -> dict[str, str]:
    """Each table's rows as lower-case text, with every encrypted value opened: encrypted
    personal data is still personal data."""
    sealed = {(m._meta.db_table, column): (purpose, bound) for m, column, purpose, bound in SEALED}
    db = connections.get("default")
    out = {}
    for table in await tables():
        parts = []
        for row in await db.execute_query_dict(f'SELECT * FROM "{table}"'):
            for column, value in row.items():
                parts.append(repr(value))
                if isinstance(value, str) and _CIPHERTEXT.match(value):
                    assert (table, column) in sealed, f"{table}.{column} not in rotation.SEALED"
                    purpose, bound = sealed[(table, column)]
                    at = {"tenant_id": row["tenant_id"], "row_id": row[bound]}
                    parts.append(crypto.decrypt(value, purpose=purpose, **at))
        out[table] = "\n".join(parts).lower()
    return out


def found(text: str) -> set[str]:
    return {name for name, trace in TRACES.items() if trace in text}


async def _read_elsewhere(path) -> bytes:
    """The file's bytes, read by another process: closing a descriptor of an open SQLite
    file in this process would drop the app's POSIX locks on it and corrupt the database."""
    process = await asyncio.create_subprocess_exec("cat", str(path), stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return out


class Seeder:
    """The tenant's site (publishable key, from the person's browser at 203.0.113.77),
    its backend and staff (the owner key), and the worker's sweeps."""

    def __init__(self, app, owner_api: Api, browser: Api) -> None:
        self.app, self.api, self.browser = app, owner_api, browser
        self.owner = self.site = ""

    async def consent(self, token: str, api: Api, **fields) -> None:
        body = await api(RECORD, {"input": fields}, token=token)
        assert body["data"]["recordConsent"]["userErrors"] == [], body

    async def request(self, token: str, api: Api, **fields) -> str:
        body = await api(SUBMIT, {"input": fields}, token=token)
        result = body["data"]["submitSubjectRequest"]
        assert result["userErrors"] == [], result
        request_id = result["subjectRequest"]["id"]
        if result["subjectRequest"]["status"] == "UNVERIFIED":
            code = await code_sent_to(fields["email"], request_id)
            verified = await api(VERIFY, {"id": request_id, "token": code}, token=token)
            assert verified["data"]["verifySubjectRequest"]["userErrors"] == []
        return request_id

    async def act(self, request_id: str, action: str, note: str | None = None) -> dict:
        body = await self.api(
            UPDATE, {"id": request_id, "action": action, "note": note}, token=self.owner
        )
        result = body["data"]["updateSubjectRequest"]
        assert result["userErrors"] == [], result
        return result["subjectRequest"]

    async def everything(self, receiver, smtp_port: int) -> None:
        api, browser = self.api, self.browser
        _, self.owner = await create_tenant(
            api, slug="acme", jurisdictions=["EU"], domains=["acme.example"]
        )
        await publish_policy(api, self.owner)
        _, self.site = await create_key(api, self.owner, name="site", publishable=True)
        await endpoint(api, self.owner, receiver.url, list(events.ALL))
        banner = {
            "subjectId": SUBJECT,
            "method": "BANNER",
            "sourceUrl": "https://acme.example/secret-page-9f",
        }
        await self.consent(self.site, browser, **banner, decisions=grant("analytics.reporting"))
        # The shop's backend knows the person's address: a verified contact.
        await self.consent(
            self.owner, api, subjectId=SUBJECT, method="FORM", email=EMAIL,
            decisions=grant("marketing.communications.email"),
        )  # fmt: skip
        await self.consent(
            self.owner, api, subjectId="keeper-1", method="FORM",
            decisions=grant("analytics.reporting"),
        )  # fmt: skip
        await schedule.consent_batches()
        await drain(smtp_port=smtp_port)  # a delivered consent.recorded batch
        await self.consent(self.site, browser, **banner, decisions=grant("essential.service"))
        await schedule.consent_batches()  # and one still on its way, naming the subject

        # An ACCESS request proven by the shop's signed assertion, from another address;
        # its export copies the person's data into subject_request.
        key = (
            await api(
                "mutation { rotateSubjectAssertionKey { key { id } secret } }", token=self.owner
            )
        )["data"]["rotateSubjectAssertionKey"]
        now = int(time.time())
        claims = {"aud": "charter:acme", "sub": SUBJECT, "iat": now, "exp": now + 300,
                  "jti": str(uuid.uuid4())}  # fmt: skip
        assertion = jwt.encode(
            claims, key["secret"], algorithm="HS256", headers={"kid": key["key"]["id"]}
        )
        access = await self.request(
            self.site, browser, type="ACCESS", email=OTHER_EMAIL, subjectAssertion=assertion,
            details=f"please send everything to {OTHER_EMAIL}",
        )  # fmt: skip
        await self.act(access, "COMPLETE")
        # An objection logged by staff (flags), a rectification vouched for with a note
        # naming the person, and its resolution note naming them too.
        objection = await self.request(
            self.owner, api, type="OBJECTION", subjectId=SUBJECT, verified=True
        )
        await self.act(objection, "COMPLETE")
        fix = await self.request(
            self.site, browser, type="RECTIFICATION", subjectId=SUBJECT, email=EMAIL,
            details="my name is misspelt",
        )  # fmt: skip
        await api(
            "mutation($id: ID!, $note: String!) { verifySubjectIdentity(id: $id, note: $note) { userErrors { code } } }",
            {"id": fix, "note": f"phoned {SUBJECT} back; confirmed {EMAIL.upper()}"},
            token=self.owner,
        )
        await self.act(fix, "COMPLETE", f"corrected the name of {SUBJECT}")

        breach = (await report(api, self.owner, risk="HIGH"))["breach"]
        message = [{"locale": "en", "title": "Leak", "body": "Sorry."}]
        body = await api(
            NOTIFY,
            {"id": breach["id"], "input": {"subjectIds": [SUBJECT], "message": message}},
            token=self.owner,
        )
        assert body["data"]["notifyBreachSubjects"]["queued"] == 1
        await drain(smtp_port=smtp_port)  # delivered: the breach notice, codes, events
        draft = await create_draft(api, self.owner, material=True)
        await publish(api, self.owner, draft["id"])  # a change notice still on its way
        past = (datetime.now(UTC) - timedelta(days=40)).isoformat()
        await self.request(
            self.owner, api, type="ACCESS", subjectId=SUBJECT, verified=True, receivedAt=past
        )
        await schedule.due_soon(now=datetime.now(UTC))
        # A checkpoint of the ledger, and a full verification of it queued.
        await api("{ verifyConsentLedger { ok } }", token=self.owner)
        await api("mutation { startLedgerVerification { userErrors { code } } }", token=self.owner)


async def test_erasure_leaves_no_trace_and_the_chain_holds(app, settings):
    client = ("203.0.113.77", 50123)
    person = httpx.ASGITransport(app=app, client=client)
    office = httpx.ASGITransport(app=app, client=("192.0.2.10", 40000))
    async with (
        httpx.AsyncClient(
            transport=person,
            base_url="http://testserver",
            headers={"User-Agent": "ErasureProbe/7.7"},
        ) as browser_http,
        httpx.AsyncClient(transport=office, base_url="http://testserver") as office_http,
        webhook_receiver() as receiver,
    ):
        seeder = Seeder(app, Api(office_http), Api(browser_http))
        with smtp_server() as (port, mailbox):
            await seeder.everything(receiver, port)
            names = models()
            assert set(names) == set(RECIPES), (
                f"give {set(names) - set(RECIPES)} a seeding recipe in tests/test_erasure.py"
            )
            before = await storage()
            for name, model in names.items():
                table = model._meta.db_table
                assert before[table], f"the recipe for {name} seeded no row"
                missing = RECIPES[name] - found(before[table])
                assert not missing, f"{name} should hold {missing} before the erasure"

            # The person asks from their browser; the shop's contact proves who they are.
            erasure = await seeder.request(
                seeder.site, seeder.browser, type="ERASURE", subjectId=SUBJECT, email=EMAIL
            )
            done = await seeder.act(erasure, "COMPLETE", f"erased {SUBJECT} and {EMAIL}")
            assert done["identityProof"] == "CONTACT"
            assert done["subjectId"].startswith("erased:") and done["email"] is None
            await drain(smtp_port=port)
            confirmations = [m for m in mailbox.received() if m["To"] == EMAIL]
            assert any("has been completed" in m["Subject"] for m in confirmations)

        after = await storage()
        left = {table: found(text) for table, text in after.items() if found(text)}
        assert left == {}, f"erasure left {left}"
        assert "keeper-1" in after["consent_state"]  # nobody else was touched
        # The record that a breach notice went out stays, under the pseudonym.
        assert done["subjectId"].lower() in after["breach_notice"]

        if settings.embedded_database:
            files = list(settings.data_dir.glob("charter.sqlite3*"))  # the file, WAL and SHM
            raw = {path.name: (await _read_elsewhere(path)).lower() for path in files}
            assert any(b"keeper-1" in data for data in raw.values())  # the scan sees rows
            for name, data in raw.items():
                traces = [what for what, trace in TRACES.items() if trace.encode() in data]
                assert traces == [], f"{name} still holds {traces}"

        api = seeder.api
        verified = await api("{ verifyConsentLedger { ok } }", token=seeder.owner)
        assert verified["data"]["verifyConsentLedger"] == {"ok": True}
        state = await api(
            f'{{ consentState(subjectId: "{SUBJECT}") {{ purpose }} }}', token=seeder.owner
        )
        assert state["data"]["consentState"] == []
        # The erased id is a stranger now: naming it again tells nobody "already told".
        breach = (await report(api, seeder.owner, risk="HIGH"))["breach"]
        message = [{"locale": "en", "title": "Leak", "body": "Sorry."}]
        body = await api(
            NOTIFY,
            {"id": breach["id"], "input": {"subjectIds": [SUBJECT], "message": message}},
            token=seeder.owner,
        )
        assert body["data"]["notifyBreachSubjects"]["queued"] == 1


async def test_delivered_messages_stay_sent_with_the_recipient_blanked(api):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    body = await api(
        RECORD,
        {"input": {"subjectId": "s-1", "method": "FORM", "email": "s1@example.uz",
                   "decisions": grant("analytics.reporting")}},
        token=owner,
    )  # fmt: skip
    assert body["data"]["recordConsent"]["userErrors"] == []
    breach = (await report(api, owner, risk="HIGH"))["breach"]
    message = [{"locale": "en", "title": "Leak", "body": "Sorry."}]
    await api(
        NOTIFY,
        {"id": breach["id"], "input": {"subjectIds": ["s-1"], "message": message}},
        token=owner,
    )
    with smtp_server() as (port, _):
        await drain(smtp_port=port)
    made = await api(
        SUBMIT, {"input": {"type": "ERASURE", "subjectId": "s-1", "verified": True}}, token=owner
    )
    request_id = made["data"]["submitSubjectRequest"]["subjectRequest"]["id"]
    await api(UPDATE, {"id": request_id, "action": "COMPLETE"}, token=owner)
    listing = await api(
        "{ outboxMessages { edges { node { kind recipient status lastError } } } }", token=owner
    )
    notices = [
        edge["node"]
        for edge in listing["data"]["outboxMessages"]["edges"]
        if edge["node"]["kind"] == "breach.notice"
    ]
    assert notices == [
        {"kind": "breach.notice", "recipient": None, "status": "SENT", "lastError": None}
    ]
