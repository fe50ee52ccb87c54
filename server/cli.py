"""The ``charter`` command: serve, migrate, tenants and keys, schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable

from server import backends
from server.settings import Settings, SettingsError
from tenants import crypto
from tenants.errors import DomainError

CLI_ACTOR = "cli"


class CommandError(Exception):
    """A one-line failure to print before exiting with status 1."""


def _settings() -> Settings:
    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    return settings


def _with_database(settings: Settings, work: Callable[[], Awaitable[None]]) -> None:
    async def run() -> None:
        crypto.configure(settings.secret_key)
        await backends.apply_migrations(settings)
        await backends.open_database(settings)
        try:
            await work()
        finally:
            await backends.close_database()

    asyncio.run(run())


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = _settings()
    asyncio.run(backends.apply_migrations(settings))
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
        )
    finally:
        if embedded is not None:
            embedded.stop()


def cmd_migrate(args: argparse.Namespace) -> None:
    settings = _settings()
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


def cmd_tenant_create(args: argparse.Namespace) -> None:
    from tenants.tenancy import service

    async def work() -> None:
        tenant, secret = await service.create_tenant(
            actor=CLI_ACTOR,
            slug=args.slug,
            name=args.name,
            default_locale=args.locale,
            locales=args.locales or None,
            jurisdictions=args.jurisdiction,
            domains=args.domain or None,
            dpo_email=args.dpo_email,
        )
        print(f"tenant {tenant.slug} created ({tenant.id})", file=sys.stderr)
        print("owner key (shown once, keep it safe):", file=sys.stderr)
        print(secret)

    _with_database(_settings(), work)


def cmd_key_create(args: argparse.Namespace) -> None:
    from tenants.tenancy import keys, service
    from tenants.tenancy.roles import Role

    async def work() -> None:
        tenant = await service.tenant_by_slug(args.tenant)
        if tenant is None:
            raise CommandError(f"no tenant with slug {args.tenant!r}")
        key, secret = await keys.create_api_key(
            tenant=tenant,
            actor=CLI_ACTOR,
            actor_role=None,
            name=args.name,
            role=None if args.publishable else Role(args.role),
            publishable=args.publishable,
        )
        print(f"key {key.prefix}… created ({key.id})", file=sys.stderr)
        print(secret)

    _with_database(_settings(), work)


def cmd_schema(args: argparse.Namespace) -> None:
    from schema import sdl

    sys.stdout.write(sdl())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="charter", description="Charter privacy backend")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)

    make = commands.add_parser("makemigrations", help="write a migration for model changes")
    make.add_argument("--name", default=None)
    make.add_argument("--check", action="store_true", help="fail if a migration is missing")
    make.set_defaults(func=cmd_makemigrations)

    tenant = commands.add_parser("tenant", help="manage tenants")
    tenant_commands = tenant.add_subparsers(dest="tenant_command", required=True)
    create = tenant_commands.add_parser("create", help="create a tenant; prints its owner key")
    create.add_argument("--slug", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--locale", required=True, help="default locale, e.g. ru")
    create.add_argument("--locales", action="append", help="another locale (repeatable)")
    create.add_argument(
        "--jurisdiction", action="append", required=True, help="e.g. UZ (repeatable)"
    )
    create.add_argument("--domain", action="append", help="site domain (repeatable)")
    create.add_argument("--dpo-email")
    create.set_defaults(func=cmd_tenant_create)

    key = commands.add_parser("key", help="manage API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True)
    key_create = key_commands.add_parser("create", help="create an API key; prints it once")
    key_create.add_argument("--tenant", required=True, help="tenant slug")
    key_create.add_argument("--name", required=True)
    kind = key_create.add_mutually_exclusive_group(required=True)
    kind.add_argument("--role", choices=["OWNER", "ADMIN", "EDITOR", "AUDITOR"])
    kind.add_argument("--publishable", action="store_true")
    key_create.set_defaults(func=cmd_key_create)

    commands.add_parser("schema", help="print the GraphQL SDL").set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        args.func(args)
    except SettingsError as error:
        sys.exit(f"charter: invalid settings: {error}")
    except DomainError as error:
        sys.exit(f"charter: {error}")
    except CommandError as error:
        sys.exit(f"charter: {error}")
    except KeyboardInterrupt:
        sys.exit(130)
