"""Full verifications as they really run: by `charter worker`, watched through GraphQL,
and by `charter consent verify` with its progress bar."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests import backends as tb
from tests.servers import stop
from tests.test_ledger_checkpoints import JOB, START, event_id, record, tamper, verify

CHARTER = str(Path(sys.executable).with_name("charter"))


def environment(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    return env


async def charter(settings, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        CHARTER,
        *args,
        env=environment(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def owner(api):
    from tests.factories import create_tenant
    from tests.test_consent import publish_policy

    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    return owner


async def test_the_worker_runs_a_queued_verification(api, settings, owner):
    await record(api, owner, 3000)
    body = await api(START, token=owner)
    job_id = body["data"]["startLedgerVerification"]["verification"]["id"]
    again = await api(START, token=owner)  # asked twice: the same job
    assert again["data"]["startLedgerVerification"]["verification"]["id"] == job_id
    worker = await asyncio.create_subprocess_exec(
        CHARTER,
        "worker",
        env=environment(settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            job = (await api(JOB, {"id": job_id}, token=owner))["data"]["ledgerVerification"]
            if job["status"] in ("PASSED", "FAILED"):
                break
            await asyncio.sleep(0.1)
    finally:
        await stop(worker)
    assert job == {
        "status": "PASSED",
        "checked": 3000,
        "progress": 1.0,
        "firstBrokenId": None,
        "reason": None,
        "throughSequence": 3000,
    }


async def test_consent_verify_on_the_command_line(api, settings, owner):
    await record(api, owner, 1500)
    code, out, err = await charter(settings, "consent", "verify", "--site", "acme")
    assert code == 0, err
    assert "1500/1500" in err  # the progress bar reached the end
    lines = out.splitlines()
    assert lines[0] == "verified 1500 events: the chain holds"
    held = lines[1].removeprefix("checkpoint ")
    code, out, _ = await charter(settings, "consent", "checkpoint", "--site", "acme")
    assert code == 0 and out.strip() == held

    code, _, err = await charter(
        settings, "consent", "verify", "--site", "acme", "--quiet", "--expect", held
    )
    assert code == 0, err
    wrong = held[:-1] + ("0" if held[-1] != "0" else "1")
    code, _, err = await charter(
        settings, "consent", "verify", "--site", "acme", "--quiet", "--expect", wrong
    )
    assert code == 1 and "differs from the exported head" in err

    await tamper(700)
    code, _, err = await charter(settings, "consent", "verify", "--site", "acme", "--quiet")
    assert code == 1
    assert err.strip() == (
        f"charter: the ledger does not verify after 699 events (first broken event "
        f"{await event_id(700)}): hash does not match the document"
    )
    assert (await verify(api, owner))["ok"] is True  # behind the checkpoint: only a full walk


async def test_consent_verify_refuses_bad_arguments(settings, api, owner):
    code, _, err = await charter(settings, "consent", "verify", "--site", "nobody", "--quiet")
    assert code == 1 and "no tenant" in err
    code, _, err = await charter(
        settings, "consent", "verify", "--site", "acme", "--expect", "12:XYZ"
    )
    assert code == 1 and err.strip() == (
        "charter: --expect: SEQUENCE:HASH (64 lowercase hex characters)"
    )
    code, _, err = await charter(settings, "consent", "checkpoint", "--site", "acme")
    assert code == 1 and "no checkpoint yet" in err


START_CODES = """mutation($e: LedgerCheckpointInput) {
  startLedgerVerification(expect: $e) { verification { id } userErrors { code field } }
}"""


async def test_at_most_one_full_verification_is_active_per_tenant(api, owner):
    """Requests racing with every mix of `expect` share one job; one that asked for a
    checkpoint the active job does not check is told VERIFICATION_IN_PROGRESS."""
    from tenants.consent.models import ConsentVerification

    checkpoints = [None, {"sequence": 1, "hash": "0" * 64}, {"sequence": 1, "hash": "1" * 64}]
    bodies = await asyncio.gather(
        *(api(START_CODES, {"e": checkpoints[i % 3]}, token=owner) for i in range(9))
    )
    payloads = [body["data"]["startLedgerVerification"] for body in bodies]
    assert len({p["verification"]["id"] for p in payloads}) == 1, payloads
    assert await ConsentVerification.filter(status__in=("QUEUED", "RUNNING")).count() == 1
    job = await ConsentVerification.get(id=payloads[0]["verification"]["id"])
    for expect, payload in zip(checkpoints * 3, payloads, strict=True):
        mine = expect is None or (job.expect_sequence, job.expect_hash) == (
            expect["sequence"],
            expect["hash"],
        )
        wanted = [] if mine else [{"code": "VERIFICATION_IN_PROGRESS", "field": ["expect"]}]
        assert payload["userErrors"] == wanted, (expect, payload)
