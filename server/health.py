"""/healthz says the process is up; /readyz says whether its dependencies answer."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise import connections

log = logging.getLogger("charter.health")

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _database() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def _redis(request: Request) -> None:
    await request.app.state.redis.ping()


async def _check(name: str, probe) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log only
        log.warning("readiness: %s is down: %s", name, exc.__class__.__name__)
        return "down"
    return "ok"


async def readyz(request: Request) -> JSONResponse:
    database, redis = await asyncio.gather(
        _check("database", _database()), _check("redis", _redis(request))
    )
    ready = database == "ok" and redis == "ok"
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "database": database, "redis": redis},
        status_code=200 if ready else 503,
    )
