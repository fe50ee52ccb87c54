"""`charter worker` as a real process: killed mid-delivery, restarted, nothing lost."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tortoise import connections

from tests import backends as tb
from tests.factories import create_tenant
from tests.outbound import smtp_server
from tests.servers import stop
from tests.test_breaches import NOTIFY, report
from tests.test_consent import publish_policy

CHARTER = str(Path(sys.executable).with_name("charter"))
BATCH = "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded } }"


async def start_worker(settings, smtp_port: int):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    env.update(
        CHARTER_SMTP_HOST="127.0.0.1", CHARTER_SMTP_PORT=str(smtp_port), CHARTER_SMTP_TLS="off"
    )
    return await asyncio.create_subprocess_exec(
        CHARTER,
        "worker",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def wait_for(predicate, seconds: float) -> bool:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


async def test_a_killed_worker_loses_nothing_and_repeats_nothing_unmarked(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    people = [
        {
            "subjectId": f"p{i}",
            "method": "IMPORT",
            "email": f"p{i}@example.uz",
            "decisions": [{"purpose": "analytics.reporting", "granted": True}],
        }
        for i in range(100)
    ]
    assert (await api(BATCH, {"i": people}, token=owner))["data"]["recordConsents"][
        "recorded"
    ] == 100
    breach = (await report(api, owner, risk="HIGH"))["breach"]
    message = [{"locale": "en", "title": "Leak", "body": "Sorry."}]
    body = await api(
        NOTIFY,
        {"id": breach["id"], "input": {"allAffected": True, "message": message}},
        token=owner,
    )
    assert body["data"]["notifyBreachSubjects"]["queued"] == 100

    with smtp_server() as (port, mailbox):
        worker = await start_worker(settings, port)
        try:
            sent = await wait_for(lambda: len(mailbox.received()) >= 15, 60)
        finally:
            worker.send_signal(signal.SIGKILL)  # no goodbye: mid-delivery, leases still held
            await worker.wait()
        assert sent, "the worker sent nothing"
        # Time passes: the dead worker's leases run out.
        await connections.get("default").execute_script(
            "UPDATE outbox_message SET claimed_until = NULL WHERE claimed_until IS NOT NULL"
        )
        worker = await start_worker(settings, port)
        try:
            assert await wait_for(lambda: len({m["To"] for m in mailbox.received()}) >= 100, 90)
            await asyncio.sleep(1.5)  # anything still to come would be a repeat
        finally:
            await stop(worker)
        received = mailbox.received()

    recipients = {m["To"] for m in received}
    assert recipients == {f"p{i}@example.uz" for i in range(100)}
    by_id: dict[str, set[str]] = {}
    for mail in received:
        by_id.setdefault(mail["Message-ID"], set()).add(mail["To"])
    # One message id per person; a repeat after the kill (at most the few in flight)
    # carries the same id, so the receiving side can drop it.
    assert len(by_id) == 100 and all(len(to) == 1 for to in by_id.values())
    assert len(received) - 100 <= 20
    sent = await connections.get("default").execute_query_dict(
        "SELECT COUNT(*) AS n FROM outbox_message WHERE kind = 'breach.notice' AND status = 'SENT'"
    )
    assert sent[0]["n"] == 100
