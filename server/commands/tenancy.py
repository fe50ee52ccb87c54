"""`charter tenant create|update|limits`, `charter key create` and `charter keys rotate`.

List options take several values after one flag and may be repeated as well
(`--locales ru uz --locales en`): argparse's "extend" action, so the README's
`[--locales L …]` is what the parser accepts.
"""

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
            main_establishment=args.main_establishment,
        )
        print(f"tenant {tenant.slug} created ({tenant.id})", file=sys.stderr)
        print("owner key (shown once, keep it safe):", file=sys.stderr)
        print(secret)

    with_backends(load_settings(), work)


def cmd_tenant_update(args: argparse.Namespace) -> None:
    from tenants.tenancy import service

    # Only what was given changes, as with updateTenant; the rest is kept.
    given = {
        "name": args.name,
        "default_locale": args.locale,
        "locales": args.locales,
        "jurisdictions": args.jurisdiction,
        "domains": args.domain,
        "dpo_email": args.dpo_email,
        "main_establishment": args.main_establishment,
    }
    changes = {field: value for field, value in given.items() if value is not None}
    if args.no_main_establishment:
        changes["main_establishment"] = None
    if not changes:
        raise CommandError("nothing to change: give at least one option")

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_slug(args.slug)
        if tenant is None:
            raise CommandError(f"no tenant with slug {args.slug!r}")
        tenant = await service.update_tenant(tenant=tenant, actor=ACTOR, cache=cache, **changes)
        domains = await service.domains_of(tenant=tenant)
        print(
            f"{tenant.slug}: jurisdictions {' '.join(tenant.jurisdictions)}; "
            f"locales {' '.join(tenant.locales)}; domains {' '.join(domains) or '-'}; "
            f"main establishment {tenant.main_establishment or '-'}"
        )

    with_backends(load_settings(), work)


def _lists(parser: argparse.ArgumentParser, *, required: bool) -> None:
    """--locales, --jurisdiction, --domain: several values per flag, flags repeatable."""
    parser.add_argument(
        "--locales", action="extend", nargs="+", metavar="L", help="more locales, e.g. uz en"
    )
    parser.add_argument(
        "--jurisdiction",
        action="extend",
        nargs="+",
        required=required,
        metavar="J",
        help="rule table codes, e.g. UZ KZ",
    )
    parser.add_argument("--domain", action="extend", nargs="+", metavar="D", help="site domains")


def _establishment(parser: argparse.ArgumentParser, *, clearable: bool) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--main-establishment",
        metavar="CC",
        help="EU member state (ISO 3166-1, e.g. DE) whose holidays and zone EU deadlines use",
    )
    if clearable:
        group.add_argument(
            "--no-main-establishment",
            action="store_true",
            help="count EU deadlines on weekends alone, in Europe/Brussels",
        )


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
    _lists(create, required=True)
    create.add_argument("--dpo-email")
    _establishment(create, clearable=False)
    create.set_defaults(func=cmd_tenant_create)
    update = tenant_commands.add_parser("update", help="change a tenant; other fields are kept")
    update.add_argument("--slug", required=True)
    update.add_argument("--name")
    update.add_argument("--locale", help="default locale")
    _lists(update, required=False)
    update.add_argument("--dpo-email")
    _establishment(update, clearable=True)
    update.set_defaults(func=cmd_tenant_update)
    plan = tenant_commands.add_parser("limits", help="set a tenant's plan (rates, query cost)")
    plan.add_argument("--slug", required=True)
    plan.add_argument("--key-rate", type=_rate, help="per secret key, like 50:100 (rate/s:burst)")
    plan.add_argument("--public-rate", type=_rate, help="per client IP, like 20:40")
    plan.add_argument("--tenant-rate", type=_rate, help="the tenant's ceiling, like 500:1000")
    plan.add_argument("--max-cost", type=_cost, help="the largest query cost allowed")
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


def _rate(text: str):
    """argparse's type for a rate: one line naming the flag when it is not one."""
    from server.settings import parse_rate

    try:
        return parse_rate(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cost(text: str) -> int:
    """argparse's type for --max-cost: a whole number from 1 (0 or less would refuse
    every query of the tenant)."""
    from tenants.validation import whole_number

    cost = whole_number(text)
    if cost is None or cost < 1:
        raise argparse.ArgumentTypeError("a whole number of at least 1")
    return cost


def cmd_tenant_limits(args: argparse.Namespace) -> None:
    from tenants.tenancy import service

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_slug(args.slug)
        if tenant is None:
            raise CommandError(f"no tenant with slug {args.slug!r}")
        plan = dict(tenant.limits or {})
        for name in ("key_rate", "public_rate", "tenant_rate"):
            value = getattr(args, name)
            if value is not None:
                plan[name] = [value.per_second, value.burst]
        if args.max_cost:
            plan["max_cost"] = args.max_cost
        await service.set_limits(tenant=tenant, cache=cache, plan=plan)
        print(f"{tenant.slug}: {plan}")

    with_backends(load_settings(), work)


def register_operator(commands: argparse._SubParsersAction) -> None:
    keys = commands.add_parser("keys", help="encryption keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser(
        "rotate", help="re-encrypt every sealed field with CHARTER_ENCRYPTION_KEY"
    ).set_defaults(func=cmd_keys_rotate)
