"""`charter consent export`: the ledger, streamed."""

from __future__ import annotations

import argparse
import sys

from server.commands.base import CommandError, load_settings, with_backends
from server.terminal import cell, json_text
from tenants.cache import Cache


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
        writer = csv.writer(out) if args.format == "csv" else None
        if writer:
            writer.writerow(export.COLUMNS)
        with tqdm(total=total, unit="event", file=sys.stderr, disable=args.quiet) as progress:
            async for row in export.rows(tenant=tenant, since=since):
                if writer:
                    # Cells a spreadsheet will open: formulas neutralised (server/terminal).
                    row["decisions"] = json.dumps(row["decisions"])
                    writer.writerow([cell(row[column]) for column in export.COLUMNS])
                else:
                    out.write(json_text(row) + "\n")  # lossless, yet inert on a terminal
                progress.update()

    with_backends(load_settings(), work)


def register(commands: argparse._SubParsersAction) -> None:
    consent = commands.add_parser("consent", help="the consent ledger")
    consent_commands = consent.add_subparsers(dest="consent_command", required=True)
    exports = consent_commands.add_parser("export", help="stream the ledger to stdout")
    exports.add_argument("--site", required=True, help="tenant slug or domain")
    exports.add_argument("--since", help="only events recorded from this date (ISO 8601)")
    exports.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    exports.add_argument("--quiet", action="store_true", help="no progress bar")
    exports.set_defaults(func=cmd_consent_export)
