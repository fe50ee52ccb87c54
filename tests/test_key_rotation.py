"""Encryption at rest, and `charter keys rotate`: old keys read until rotation is done."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tortoise import connections

from tenants import crypto
from tests import backends as tb
from tests.factories import create_tenant
from tests.test_subject_requests import SUBMIT

CHARTER = str(Path(sys.executable).with_name("charter"))
NEW_KEY = "n" * 40


async def charter(settings, *args, extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    env.update(extra or {})
    process = await asyncio.create_subprocess_exec(
        CHARTER, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def test_rotation_reencrypts_everything_and_old_keys_read_until_then(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    await api(
        SUBMIT,
        {"input": {"type": "ACCESS", "email": "aziza@example.uz", "subjectId": "v"}},
        token=owner,
    )
    await api(
        'mutation { createWebhookEndpoint(url: "https://93.184.215.14/h", events: ["breach.reported"]) { secret } }',
        token=owner,
    )
    db = connections.get("default")
    before = await db.execute_query_dict("SELECT email FROM subject_request")
    assert before[0]["email"].startswith(f"v3.{crypto.current_key_id()}.")
    assert "aziza" not in str(before)

    # Off the default key (derived from the secret key) onto a key of our own.
    rotate_env = {"CHARTER_ENCRYPTION_KEY": NEW_KEY}
    code, out, err = await charter(settings, "keys", "rotate", extra=rotate_env)
    assert code == 0, err
    assert "subject_request.email: 1 re-encrypted" in err and "webhook_endpoint.secret: 1" in err
    code, out, _ = await charter(settings, "keys", "rotate", extra=rotate_env)
    assert out.startswith("0 value(s)")  # a second run has nothing left to do
    # The next key: without the old one named, old values cannot be read, nothing changes.
    code, _, err = await charter(
        settings, "keys", "rotate", extra={"CHARTER_ENCRYPTION_KEY": "m" * 40}
    )
    assert code != 0 and "add it to the old keys" in err

    after = await db.execute_query_dict("SELECT email FROM subject_request")
    new_id = after[0]["email"].split(".")[1]
    assert new_id != crypto.current_key_id()
    saved = crypto._keyring, crypto._current
    try:
        crypto.configure_encryption([NEW_KEY])  # the old key is gone: everything still opens
        from tenants.subject_requests.models import SubjectRequest
        from tenants.subject_requests.service import email_of

        assert email_of(await SubjectRequest.get(subject_id="v")) == "aziza@example.uz"
    finally:
        crypto._keyring, crypto._current = saved
