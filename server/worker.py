"""The background worker: arq jobs on Redis that drain the outbox and keep the clocks.

Every second a sweep (an arq cron job, run by one worker at a time) delivers the messages
ready to go, several at once; every 15 seconds the scheduled announcements run; every
two seconds queued full verifications of consent ledgers are taken up, one at a time
(tenants/consent/jobs.py). A worker
killed mid-sweep leaves only database leases behind, which run out: the next sweep, on
any worker, takes the messages up again.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker

from server import backends
from server.settings import Settings
from tenants import crypto, live
from tenants.consent import jobs
from tenants.outbound import delivery, schedule

log = logging.getLogger("charter.worker")

SWEEP_LIMIT = 200
PARALLEL = 10  # deliveries in flight at once per worker
VERIFY_TIMEOUT = 6 * 3600  # seconds: a full walk of 10M events at 50k/s is under 4 min


def create_worker(settings: Settings, redis_url: str) -> Worker:
    mail = settings.mail

    async def startup(ctx: dict[str, Any]) -> None:
        crypto.configure(settings.secret_key, settings.encryption_keys)
        await backends.open_database(settings)
        ctx["http"] = httpx.AsyncClient()
        ctx["channels"] = delivery.Channels(
            mailer=delivery.Mailer(
                host=mail.host,
                port=mail.port,
                tls=mail.tls,
                user=mail.user,
                password=mail.password,
                sender=mail.sender,
            ),
            http=ctx["http"],
            allow_private_webhooks=settings.delivery.allow_private_webhooks,
            max_attempts=settings.delivery.max_attempts,
        )
        ctx["email_enabled"] = mail.host is not None
        # What start-up built lives as long as the worker: frozen, as `charter serve`
        # freezes its own (server/app.py). A full walk of a ledger promotes a million
        # records, and each full collection they set off walked all of it: a seventh of
        # a walk's CPU, measured. Garbage goes first, or it never would.
        gc.collect()
        gc.freeze()
        log.info("worker started (e-mail %s)", "on" if mail.host else "off: no CHARTER_SMTP_HOST")

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["http"].aclose()
        await backends.close_database()

    return Worker(
        functions=[],
        cron_jobs=[
            cron(sweep, second=set(range(60)), run_at_startup=True),
            cron(announce, second={0, 15, 30, 45}, run_at_startup=True),
            # Its own timeout: a walk of a big ledger outlasts job_timeout; a job that
            # outlasts this one is taken up again when its lease runs out.
            cron(
                verify_ledgers,
                second=set(range(0, 60, 2)),
                run_at_startup=True,
                timeout=VERIFY_TIMEOUT,
            ),
        ],
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        max_jobs=20,
        keep_result=60,
        job_timeout=120,
        max_tries=1,  # retries are the outbox's business, with its own backoff
        handle_signals=True,
    )


async def sweep(ctx: dict[str, Any]) -> int:
    now = datetime.now(UTC)
    due = await delivery.due(limit=SWEEP_LIMIT, now=now, email_enabled=ctx["email_enabled"])
    gate = asyncio.Semaphore(PARALLEL)

    async def one(message_id: str) -> None:
        async with gate:
            await delivery.deliver(message_id, ctx["channels"])

    await asyncio.gather(*(one(message_id) for message_id, _ in due))
    return len(due)


async def announce(ctx: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    await schedule.due_soon(now=now)
    await schedule.overdue_clocks(now=now)
    for version in await schedule.effective_policies(now=now):
        await live.publish(
            ctx["redis"], version.tenant_id, live.POLICY, str(version.id), version.kind
        )
    await schedule.consent_batches()


async def verify_ledgers(ctx: dict[str, Any]) -> int:
    """Run the full verifications waiting, oldest first; how many ran."""
    ran = 0
    while (job := await jobs.claim_next(now=datetime.now(UTC))) is not None:
        await jobs.run(job, clock=lambda: datetime.now(UTC))
        ran += 1
    return ran
