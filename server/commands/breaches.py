"""`charter breaches clocks` and `charter breach report`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from server.commands.base import CommandError, load_settings, with_backends
from server.terminal import json_text, printable, tsv_row
from tenants.cache import Cache


def cmd_breaches_clocks(args: argparse.Namespace) -> None:
    from tenants.breaches import service

    async def work(cache: Cache) -> None:
        now = datetime.now(UTC)
        clocks = await service.running_clocks()
        for clock in clocks:
            late = "OVERDUE " if clock.due_at < now else ""
            # The title is the tenant's text: one cell, escaped for terminal and spreadsheet.
            print(
                tsv_row(
                    clock.tenant.slug,
                    clock.breach_id,
                    clock.jurisdiction,
                    clock.kind,
                    f"{late}due {clock.due_at.isoformat()}",
                    clock.breach.title,
                )
            )
        print(f"{len(clocks)} running clock(s)", file=sys.stderr)

    with_backends(load_settings(), work)


def cmd_breach_report(args: argparse.Namespace) -> None:
    from tenants.breaches import report
    from tenants.breaches.models import Breach, BreachClock

    async def work(cache: Cache) -> None:
        try:
            breach = await Breach.get_or_none(id=args.id).select_related("tenant")
        except ValueError:
            breach = None
        if breach is None:
            raise CommandError(f"no breach {args.id}")
        clocks = await BreachClock.filter(breach_id=breach.id).order_by("due_at")
        doc = report.document(tenant=breach.tenant, breach=breach, clocks=clocks)
        if args.format == "json":
            sys.stdout.write(json_text(doc, indent=2) + "\n")
        else:
            sys.stdout.write(printable(report.markdown(doc), multiline=True))

    with_backends(load_settings(), work)


def register(commands: argparse._SubParsersAction) -> None:
    breaches = commands.add_parser("breaches", help="breaches of every tenant")
    breaches_commands = breaches.add_subparsers(dest="breaches_command", required=True)
    clocks = breaches_commands.add_parser("clocks", help="running clocks, soonest first")
    clocks.set_defaults(func=cmd_breaches_clocks)

    breach = commands.add_parser("breach", help="one breach")
    breach_commands = breach.add_subparsers(dest="breach_command", required=True)
    reports = breach_commands.add_parser("report", help="the Art. 33(3) notification text")
    reports.add_argument("id")
    reports.add_argument("--format", choices=["md", "json"], default="md")
    reports.set_defaults(func=cmd_breach_report)
