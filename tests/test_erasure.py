"""ERASURE leaves no trace of the person anywhere in storage, and the ledger still verifies."""

from __future__ import annotations

import asyncio

import httpx
from tortoise import Tortoise, connections

from tenants.outbound.models import OutboxMessage
from tenants.outbound.outbox import opened
from tests.conftest import Api
from tests.factories import create_key, create_tenant
from tests.test_consent import RECORD, grant, publish_policy
from tests.test_subject_requests import SUBMIT, UPDATE, VERIFY

SUBJECT = "visitor-erase-42"
TRACES = {
    "subject id": SUBJECT,
    "ip": "203.0.113.",
    "user agent": "ErasureProbe/7.7",
    "source url": "secret-page-9f",
    "email": "erase.me@example.uz",
}


async def _storage_text() -> str:
    """Every row of every table, as text."""
    db = connections.get("default")
    parts = []
    for model in Tortoise.apps["charter"].values():
        rows = await db.execute_query_dict(f"SELECT * FROM {model._meta.db_table}")
        parts.append(repr(rows))
    return "\n".join(parts)


async def _read_elsewhere(path) -> bytes:
    """The file's bytes, read by another process: closing a descriptor of an open SQLite
    file in this process would drop the app's POSIX locks on it and corrupt the database."""
    process = await asyncio.create_subprocess_exec("cat", str(path), stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return out


async def test_erasure_leaves_no_trace_and_the_chain_holds(app, settings):
    transport = httpx.ASGITransport(app=app, client=("203.0.113.77", 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        api = Api(http)
        _, owner = await create_tenant(
            api, slug="acme", jurisdictions=["EU"], domains=["acme.example"]
        )
        await publish_policy(api, owner)
        _, site = await create_key(api, owner, name="site", publishable=True)
        headers = {"User-Agent": "ErasureProbe/7.7"}
        for purposes in (("analytics.reporting",), ("marketing.communications.email",)):
            response = await http.post(
                "/graphql",
                json={
                    "query": RECORD,
                    "variables": {
                        "input": {
                            "subjectId": SUBJECT,
                            "method": "BANNER",
                            "decisions": grant(*purposes),
                            "sourceUrl": "https://acme.example/secret-page-9f",
                            "email": TRACES["email"],
                        }
                    },
                },
                headers={"Authorization": f"Bearer {site}", **headers},
            )
            assert response.json()["data"]["recordConsent"]["userErrors"] == []
        keeper = {
            "subjectId": "keeper-1",
            "method": "FORM",
            "decisions": grant("analytics.reporting"),
        }
        elsewhere = httpx.ASGITransport(app=app, client=("192.0.2.10", 40000))
        async with httpx.AsyncClient(transport=elsewhere, base_url="http://testserver") as other:
            await Api(other)(RECORD, {"input": keeper}, token=site)
        before = await _storage_text()
        # The probe sees the fields kept in the clear; the e-mail never is (encrypted at rest).
        assert [name for name, trace in TRACES.items() if trace not in before] == ["email"]

        body = await api(
            SUBMIT,
            {"input": {"type": "ERASURE", "subjectId": SUBJECT, "email": TRACES["email"]}},
            token=site,
        )
        request_id = body["data"]["submitSubjectRequest"]["subjectRequest"]["id"]
        _, payload = opened(await OutboxMessage.get(kind="subject_request.verification"))
        await api(VERIFY, {"id": request_id, "token": payload["token"]}, token=site)
        done = await api(UPDATE, {"id": request_id, "action": "COMPLETE"}, token=owner)
        request = done["data"]["updateSubjectRequest"]["subjectRequest"]
        assert request["status"] == "COMPLETED"
        assert request["subjectId"].startswith("erased:") and request["email"] is None

        after = await _storage_text()
        left = [name for name, trace in TRACES.items() if trace in after]
        assert left == [], f"erasure left {left} in the database"
        assert "keeper-1" in after  # nobody else was touched

        if settings.embedded_database:
            files = list(settings.data_dir.glob("charter.sqlite3*"))  # the file, WAL and SHM
            raw = {path.name: await _read_elsewhere(path) for path in files}
            assert any(b"keeper-1" in data for data in raw.values())  # the scan sees rows
            for name, data in raw.items():
                found = [what for what, trace in TRACES.items() if trace.encode() in data]
                assert found == [], f"{name} still holds {found}"

        verified = await api("{ verifyConsentLedger { ok checked } }", token=owner)
        assert verified["data"]["verifyConsentLedger"] == {"ok": True, "checked": 4}
        state = await api(f'{{ consentState(subjectId: "{SUBJECT}") {{ purpose }} }}', token=owner)
        assert state["data"]["consentState"] == []
