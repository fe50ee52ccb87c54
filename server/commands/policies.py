"""`charter policy import`: bring a tenant's existing policy in, byte for byte."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.commands.base import ACTOR, CommandError, load_settings, with_backends
from server.gate import text_problem
from tenants.cache import Cache


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
    problem = text_problem(body)  # the gate's rule, as for the same text over GraphQL
    if problem:
        raise CommandError(f"{path}: {problem}")
    title = args.title or next((line.strip() for line in body.splitlines() if line.strip()), "")

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_site(args.site)
        if tenant is None:
            raise CommandError(f"no tenant with slug or domain {args.site!r}")
        translation = policies.Translation(locale=args.locale, title=title[:300], body=body)
        version = await policies.create_draft(
            tenant=tenant, actor=ACTOR, kind=PolicyKind(args.kind), translations=[translation]
        )
        print(f"draft {version.id} created ({len(body)} characters)", file=sys.stderr)
        if args.publish:
            version = await policies.publish(
                tenant=tenant, actor=ACTOR, cache=cache, version_id=str(version.id)
            )
            print(f"published as version {version.number}", file=sys.stderr)
        print(version.id)

    with_backends(load_settings(), work)


def register(commands: argparse._SubParsersAction) -> None:
    policy = commands.add_parser("policy", help="manage policies")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    imports = policy_commands.add_parser("import", help="turn a text or Markdown file into a draft")
    imports.add_argument("file", type=Path)
    imports.add_argument("--site", required=True, help="tenant slug or domain")
    imports.add_argument("--kind", default="PRIVACY", choices=["PRIVACY", "COOKIES", "TERMS"])
    imports.add_argument("--locale", required=True)
    imports.add_argument("--title", help="default: the file's first non-empty line")
    imports.add_argument("--publish", action="store_true", help="publish it, effective now")
    imports.set_defaults(func=cmd_policy_import)
