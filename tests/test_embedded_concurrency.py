"""`charter serve` and `charter worker` side by side on one backend, as the README runs
them: both migrate a fresh database at once, then every writer (consent, a subject
request's submit, verify, START, COMPLETE, the worker's deliveries and announcements)
writes at the same time. Zero errors, nothing lost.

On the embedded default this is two processes sharing one SQLite file: without WAL, a busy
timeout and write transactions that take the write lock up front (BEGIN IMMEDIATE), a few
of these rounds answered INTERNAL_SERVER_ERROR ("database is locked") and lost consent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

import pytest

from server.settings import Settings
from tests import backends as tb
from tests.conftest import Api
from tests.factories import create_key, create_tenant
from tests.outbound import smtp_server
from tests.servers import serve, stop
from tests.test_consent import grant, publish_policy
from tests.test_subject_requests import SUBMIT, UPDATE, VERIFY

CHARTER = str(Path(sys.executable).with_name("charter"))
ROUNDS = 32
CONSENTS_PER_ROUND = 4
RECORD = """mutation($input: ConsentInput!) {
  recordConsent(input: $input) { receipt { id sequence } userErrors { code } } }"""
BATCH = """mutation($i: [ConsentInput!]!) {
  recordConsents(inputs: $i) { recorded duplicates userErrors { code } } }"""
STATE = "query($s: String!) { consentState(subjectId: $s) { purpose granted } }"
LEDGER = "{ verifyConsentLedger { ok checked firstBrokenId } }"


@contextlib.asynccontextmanager
async def fresh_settings(tmp_path):
    """A backend nobody has migrated yet, so the two processes race to do it."""
    if tb.BACKEND == "embedded":
        yield Settings.from_env(tb.environment("embedded", str(tmp_path)))
        return
    if await tb.services_unreachable():
        pytest.skip("PostgreSQL + Redis not reachable")
    url = await tb.create_database()
    try:
        yield Settings.from_env(tb.environment("postgres", str(tmp_path), url))
    finally:
        await tb.drop_database(url)


async def start_worker(settings, smtp_port: int):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    env.update(
        CHARTER_SMTP_HOST="127.0.0.1", CHARTER_SMTP_PORT=str(smtp_port), CHARTER_SMTP_TLS="off"
    )
    log = open(settings.data_dir / "worker.log", "wb")  # noqa: SIM115, ASYNC230
    process = await asyncio.create_subprocess_exec(
        CHARTER, "worker", env=env, stdout=log, stderr=log
    )
    return process, log


def no_errors(body: dict) -> dict:
    assert "errors" not in body, body["errors"]
    return body["data"]


async def one_round(api: Api, owner: str, site: str, n: int) -> list[str]:
    """Every kind of write at once; returns the subjects whose consent must now be held."""
    subjects = [f"r{n}-s{i}" for i in range(CONSENTS_PER_ROUND)]

    async def consent(subject: str) -> None:
        body = no_errors(
            await api(
                RECORD,
                {
                    "input": {
                        "subjectId": subject,
                        "method": "BANNER",
                        "clientEventId": f"ev-{subject}",
                        "decisions": grant("analytics.reporting"),
                    }
                },
                token=site,
            )
        )
        assert body["recordConsent"]["userErrors"] == []

    async def batch() -> None:
        inputs = [
            {"subjectId": f"r{n}-b{i}", "method": "IMPORT", "decisions": grant("essential.service")}
            for i in range(50)
        ]
        body = no_errors(await api(BATCH, {"i": inputs}, token=owner))
        assert body["recordConsents"] == {"recorded": 50, "duplicates": 0, "userErrors": []}

    async def request() -> None:
        submitted = no_errors(
            await api(
                SUBMIT,
                {"input": {"type": "ACCESS", "subjectId": f"r{n}-s0", "email": f"r{n}@ex.uz"}},
                token=owner,
            )
        )["submitSubjectRequest"]
        assert submitted["userErrors"] == []
        request_id = submitted["subjectRequest"]["id"]
        verified = no_errors(
            await api(
                VERIFY, {"id": request_id, "token": submitted["verificationToken"]}, token=site
            )
        )["verifySubjectRequest"]
        assert verified["userErrors"] == []
        for action in ("START", "COMPLETE"):
            moved = no_errors(await api(UPDATE, {"id": request_id, "action": action}, token=owner))
            assert moved["updateSubjectRequest"]["userErrors"] == [], moved

    async def verify() -> None:
        assert no_errors(await api(LEDGER, token=owner))["verifyConsentLedger"]["ok"] is True

    await asyncio.gather(*(consent(s) for s in subjects), batch(), request(), verify(), verify())
    return subjects


async def test_serve_and_worker_side_by_side_lose_nothing(tmp_path):
    async with fresh_settings(tmp_path) as settings:
        with smtp_server() as (smtp_port, mailbox):
            worker, log = await start_worker(settings, smtp_port)
            try:
                # Started together: the server and the worker migrate the same fresh database.
                async with serve(settings) as http:
                    api = Api(http)
                    _, owner = await create_tenant(api, slug="acme", jurisdictions=["UZ"])
                    await publish_policy(api, owner)
                    _, site = await create_key(api, owner, name="site", publishable=True)
                    held = []
                    for n in range(ROUNDS):
                        held += await one_round(api, owner, site, n)
                    assert worker.returncode is None, "the worker died"

                    for subject in held:
                        state = no_errors(await api(STATE, {"s": subject}, token=owner))
                        assert state["consentState"] == [
                            {"purpose": "analytics.reporting", "granted": True}
                        ], subject
                    ledger = no_errors(await api(LEDGER, token=owner))["verifyConsentLedger"]
                    events = ROUNDS * (CONSENTS_PER_ROUND + 50)
                    assert ledger == {"ok": True, "checked": events, "firstBrokenId": None}
                    # The worker wrote too: the verification e-mails went out.
                    for _ in range(200):
                        if len(mailbox.received()) >= ROUNDS:
                            break
                        await asyncio.sleep(0.1)
                    assert len(mailbox.received()) >= ROUNDS
            finally:
                await stop(worker)
                log.close()
            server_log = next(settings.data_dir.glob("serve-*.log")).read_text()
            worker_log = (settings.data_dir / "worker.log").read_text()
            for text in (server_log, worker_log):
                assert "database is locked" not in text
                assert "Traceback" not in text, text[-3000:]
