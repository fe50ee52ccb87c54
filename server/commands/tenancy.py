"""`charter tenant create` and `charter key create`."""

from __future__ import annotations

import argparse
import sys

from server.commands.base import ACTOR, CommandError, load_settings, with_backends
from tenants.cache import Cache


def cmd_tenant_create(args: argparse.Namespace) -> None:
    from tenants.tenancy import service

    async def work(cache: Cache) -> None:
        tenant, secret = await service.create_tenant(
            actor=ACTOR,
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

    with_backends(load_settings(), work)


def cmd_key_create(args: argparse.Namespace) -> None:
    from tenants.tenancy import keys, service
    from tenants.tenancy.roles import Role

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_slug(args.tenant)
        if tenant is None:
            raise CommandError(f"no tenant with slug {args.tenant!r}")
        key, secret = await keys.create_api_key(
            tenant=tenant,
            actor=ACTOR,
            actor_role=None,
            name=args.name,
            role=None if args.publishable else Role(args.role),
            publishable=args.publishable,
        )
        print(f"key {key.prefix}… created ({key.id})", file=sys.stderr)
        print(secret)

    with_backends(load_settings(), work)


def register(commands: argparse._SubParsersAction) -> None:
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
