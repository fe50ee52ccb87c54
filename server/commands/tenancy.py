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
    plan = tenant_commands.add_parser("limits", help="set a tenant's plan (rates, query cost)")
    plan.add_argument("--slug", required=True)
    plan.add_argument("--key-rate", help="per secret key, like 50:100 (rate/s:burst)")
    plan.add_argument("--public-rate", help="per client IP, like 20:40")
    plan.add_argument("--tenant-rate", help="the tenant's ceiling, like 500:1000")
    plan.add_argument("--max-cost", type=int, help="the largest query cost allowed")
    plan.set_defaults(func=cmd_tenant_limits)

    key = commands.add_parser("key", help="manage API keys")
    key_commands = key.add_subparsers(dest="key_command", required=True)
    key_create = key_commands.add_parser("create", help="create an API key; prints it once")
    key_create.add_argument("--tenant", required=True, help="tenant slug")
    key_create.add_argument("--name", required=True)
    kind = key_create.add_mutually_exclusive_group(required=True)
    kind.add_argument("--role", choices=["OWNER", "ADMIN", "EDITOR", "AUDITOR"])
    kind.add_argument("--publishable", action="store_true")
    key_create.set_defaults(func=cmd_key_create)


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from tenants import rotation

    async def work(cache: Cache) -> None:
        try:
            counts = await rotation.rotate()
        except ValueError as error:  # a value sealed with a key no longer configured
            raise CommandError(f"cannot re-encrypt: {error}") from error
        for column, count in counts.items():
            print(f"{column}: {count} re-encrypted", file=sys.stderr)
        print(f"{sum(counts.values())} value(s) now under the current encryption key")

    with_backends(load_settings(), work)


def cmd_tenant_limits(args: argparse.Namespace) -> None:
    from tenants.tenancy import service

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_slug(args.slug)
        if tenant is None:
            raise CommandError(f"no tenant with slug {args.slug!r}")
        plan = dict(tenant.limits or {})
        for name in ("key_rate", "public_rate", "tenant_rate"):
            value = getattr(args, name)
            if value:
                rate, _, burst = value.partition(":")
                plan[name] = [float(rate), int(burst or max(1, int(float(rate) * 2)))]
        if args.max_cost:
            plan["max_cost"] = args.max_cost
        tenant.limits = plan
        await tenant.save(update_fields=["limits"])
        print(f"{tenant.slug}: {plan}")

    with_backends(load_settings(), work)


def register_operator(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="encryption keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser(
        "rotate", help="re-encrypt every sealed field with CHARTER_ENCRYPTION_KEY"
    ).set_defaults(func=cmd_keys_rotate)
