"""Running Charter: `serve`, `migrate`, `makemigrations`, `schema`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys

from server import backends
from server.commands.base import CommandError, load_settings


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = load_settings()
    _check_port(args.host, args.port)  # before anything starts, so nothing is left to stop
    asyncio.run(backends.apply_migrations(settings))
    # Uvicorn re-raises SIGTERM once it has shut down; as an exception it lets the
    # `finally` below stop the embedded Redis instead of leaving it running.
    signal.signal(signal.SIGTERM, _exit_quietly)
    embedded = None
    if settings.embedded_redis:
        # One embedded Redis for all workers, owned by this process and stopped with it.
        embedded = backends.start_embedded_redis(settings)
        os.environ["CHARTER_REDIS_URL"] = embedded.url
    try:
        uvicorn.run(
            "server.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level.lower(),
            proxy_headers=False,
            # A socket's message is bounded like an HTTP body (closed with 1009).
            ws_max_size=settings.edge.max_body_bytes,
        )
    finally:
        if embedded is not None:
            embedded.stop()


def _check_port(host: str, port: int) -> None:
    """Raises CommandError when ``host:port`` cannot be listened on, as uvicorn would
    bind it (SO_REUSEADDR): taken by another server, or not an address of this host."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = error.strerror or str(error)
            raise CommandError(
                f"cannot listen on {host}:{port}: {reason.lower()}; is another server "
                "running there? Choose another port with --port"
            ) from None


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_worker(args: argparse.Namespace) -> None:
    from server.worker import create_worker

    settings = load_settings()
    asyncio.run(backends.apply_migrations(settings))
    signal.signal(signal.SIGTERM, _exit_quietly)
    embedded = None
    redis_url = settings.redis_url
    if settings.embedded_redis:
        # Joins the embedded Redis of a `charter serve` on the same data directory.
        embedded = backends.start_embedded_redis(settings)
        redis_url = embedded.url
    try:
        create_worker(settings, redis_url).run()
    finally:
        if embedded is not None:
            embedded.stop()


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = load_settings()
    asyncio.run(backends.apply_migrations(settings))
    print("migrations applied")


def cmd_makemigrations(args: argparse.Namespace) -> None:
    from tortoise.cli.cli import CLIContext, makemigrations

    if args.check:
        pending = asyncio.run(backends.pending_model_changes())
        if pending:
            raise CommandError(f"models changed without a migration: {', '.join(pending)}")
        print("no model changes")
        return
    context = CLIContext(config="server.backends.AUTHORING_CONFIG", config_file=None)
    asyncio.run(makemigrations(context, (), False, args.name))


def cmd_schema(args: argparse.Namespace) -> None:
    from schema import sdl

    sys.stdout.write(sdl())


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="apply migrations, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", help="deliver the outbox and run scheduled jobs")
    worker.set_defaults(func=cmd_worker)

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)

    make = commands.add_parser("makemigrations", help="write a migration for model changes")
    make.add_argument("--name", default=None)
    make.add_argument("--check", action="store_true", help="fail if a migration is missing")
    make.set_defaults(func=cmd_makemigrations)
    commands.add_parser("schema", help="print the GraphQL SDL").set_defaults(func=cmd_schema)
