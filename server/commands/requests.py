"""`charter request export` and `charter requests due`."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from server.commands.base import CommandError, load_settings, with_backends
from server.terminal import json_text, tsv_row
from tenants.cache import Cache


def cmd_request_export(args: argparse.Namespace) -> None:
    from tenants.subject_requests import export
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
        exported.append(json_text(export.opened(request), indent=2) + "\n")

    exported: list[str] = []
    with_backends(load_settings(), work)
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
                tsv_row(
                    request.tenant.slug,
                    request.id,
                    request.type,
                    request.status,
                    f"due {request.due_at.isoformat()}",
                )
            )
        print(f"{len(rows)} open request(s) due within {args.within}", file=sys.stderr)

    with_backends(load_settings(), work)


def _duration(text: str) -> timedelta:
    """ "3d", "12h", "2w" -> a timedelta."""
    units = {"h": "hours", "d": "days", "w": "weeks"}
    try:
        return timedelta(**{units[text[-1]]: float(text[:-1])})
    # OverflowError: past what a timedelta holds (999,999,999 days), or infinite.
    except (KeyError, ValueError, IndexError, OverflowError) as error:
        raise CommandError(
            f"--within takes a number and h, d or w (like 3d), not {text!r}"
        ) from error


def register(commands: argparse._SubParsersAction) -> None:
    request = commands.add_parser("request", help="one subject request")
    request_commands = request.add_subparsers(dest="request_command", required=True)
    request_export = request_commands.add_parser("export", help="the export of an ACCESS request")
    request_export.add_argument("id")
    request_export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    request_export.set_defaults(func=cmd_request_export)

    requests = commands.add_parser("requests", help="subject requests of every tenant")
    requests_commands = requests.add_subparsers(dest="requests_command", required=True)
    due = requests_commands.add_parser("due", help="open requests falling due soon")
    due.add_argument("--within", default="3d", help="like 12h, 3d, 2w (default 3d)")
    due.set_defaults(func=cmd_requests_due)
