"""`charter consent export | verify | checkpoint | import`: the ledger, streamed out,
verified in full, its checkpoint exported, and events brought in from elsewhere."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def _expected(text: str | None) -> tuple[int, str] | None:
    """``SEQUENCE:HASH``, as `charter consent checkpoint` prints it."""
    import re

    if text is None:
        return None
    found = re.fullmatch(r"([1-9][0-9]{0,17}):([0-9a-f]{64})", text.strip())
    if found is None:
        raise CommandError("--expect: SEQUENCE:HASH (64 lowercase hex characters)")
    return int(found[1]), found[2]


def cmd_consent_verify(args: argparse.Namespace) -> None:
    import asyncio
    import gc
    from datetime import UTC, datetime

    from tqdm import tqdm

    from tenants.consent import jobs, verification
    from tenants.consent.models import ConsentVerification
    from tenants.tenancy import service

    expect = _expected(args.expect)

    def now() -> datetime:
        return datetime.now(UTC)

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_site(args.site)
        if tenant is None:
            raise CommandError(f"no tenant with slug or domain {args.site!r}")
        # Out of the collector's full sweeps, which a walk's million records set off again
        # and again (as `charter consent import` and the worker freeze theirs).
        gc.freeze()
        job = await jobs.request(tenant=tenant, now=now(), expect=expect)
        if not jobs.expects(job, expect):
            raise CommandError(
                f"VERIFICATION_IN_PROGRESS: full verification {job.id} checks another "
                "--expect; run again once it has finished"
            )
        bar = tqdm(total=job.through, unit="event", file=sys.stderr, disable=args.quiet)
        with bar:
            if await jobs.claim(job, now=now()):
                job = await jobs.run(job, clock=now, on_progress=lambda n: bar.update(n - bar.n))
            else:  # a worker runs it already: follow its progress
                while job.status in jobs.ACTIVE:
                    await asyncio.sleep(0.5)
                    job = await ConsentVerification.get(id=job.id)
                    bar.update(job.checked - bar.n)
            bar.update(job.checked - bar.n)
        if job.status != jobs.JobStatus.PASSED:
            broken = f" (first broken event {job.first_broken_id})" if job.first_broken_id else ""
            raise CommandError(
                f"the ledger does not verify after {job.checked} events{broken}: {job.reason}"
            )
        checkpoint = await verification.latest_checkpoint(tenant=tenant)
        print(f"verified {job.checked} events: the chain holds")
        if checkpoint is not None:
            print(f"checkpoint {checkpoint.sequence}:{checkpoint.hash}")

    with_backends(load_settings(), work)


def cmd_consent_checkpoint(args: argparse.Namespace) -> None:
    from tenants.consent import verification
    from tenants.tenancy import service

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_site(args.site)
        if tenant is None:
            raise CommandError(f"no tenant with slug or domain {args.site!r}")
        checkpoint = await verification.latest_checkpoint(tenant=tenant)
        if checkpoint is None:
            raise CommandError("no checkpoint yet: run `charter consent verify` first")
        print(f"{checkpoint.sequence}:{checkpoint.hash}")

    with_backends(load_settings(), work)


def cmd_consent_import(args: argparse.Namespace) -> None:
    import asyncio
    import gc

    from tqdm import tqdm

    from server.commands.base import ACTOR
    from server.commands.imports import Resume
    from tenants.consent import import_reader, importing
    from tenants.tenancy import service

    path = args.file
    fmt = args.format or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    if not path.is_file():
        raise CommandError(f"{args.file}: no such file")
    settings = load_settings()

    async def work(cache: Cache) -> None:
        tenant = await service.tenant_by_site(args.site)
        if tenant is None:
            raise CommandError(f"no tenant with slug or domain {args.site!r}")
        resume = Resume.of(settings.data_dir, tenant_id=tenant.id, path=path)
        # Everything loaded so far lives as long as the command: out of the collector's
        # full sweeps, which an import's million short-lived objects trigger again and
        # again (about a tenth of its CPU, measured).
        gc.freeze()
        start = 0 if args.restart else resume.records()
        total = await asyncio.to_thread(_count_records, path, fmt)
        if start:
            print(f"resuming after record {start}", file=sys.stderr)
        shown = sys.stderr.isatty() and not args.quiet
        with tqdm(
            total=total, initial=start, unit="record", file=sys.stderr, disable=not shown
        ) as bar:

            async def done(totals: importing.Totals) -> None:
                resume.save(totals)
                for line, problem in totals.problems:
                    where = ".".join(problem.field) + ": " if problem.field else ""
                    bar.write(
                        f"line {line}: {where}{problem.code.value}: {problem.message}",
                        file=sys.stderr,
                    )
                bar.update(totals.records - bar.n)

            totals = await importing.import_records(
                tenant=tenant,
                actor=ACTOR,
                source=_text_checked(import_reader.records(path, fmt, skip=start)),
                cache=cache,
                done=done,
                start=start,
            )
        resume.finish()
        print(
            f"imported {totals.imported}, duplicates {totals.duplicates}, "
            f"refused {totals.refused} (of {totals.records} records)"
        )
        if totals.refused:
            raise CommandError(f"{totals.refused} records refused: see the lines above")

    with_backends(settings, work)


def _text_checked(source):
    """The records, each held to the gate's text rule (server/gate.py: no NUL, no lone
    surrogate), the one every GraphQL request passes: a file is no way around it."""
    from server.gate import text_problem
    from tenants.errors import ErrorCode, Problem

    for number, record in source:
        problem = None if isinstance(record, Problem) else text_problem(record)
        yield number, (Problem(None, ErrorCode.INVALID, problem) if problem else record)


def _count_records(path, fmt: str) -> int:
    """Lines of the file (a CSV's header aside): the progress bar's total."""
    count = 0
    with path.open("rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            count += block.count(b"\n")
    return max(count - 1, 0) if fmt == "csv" else count


def register(commands: argparse._SubParsersAction) -> None:
    consent = commands.add_parser("consent", help="the consent ledger")
    consent_commands = consent.add_subparsers(dest="consent_command", required=True)
    exports = consent_commands.add_parser("export", help="stream the ledger to stdout")
    exports.add_argument("--site", required=True, help="tenant slug or domain")
    exports.add_argument("--since", help="only events recorded from this date (ISO 8601)")
    exports.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    exports.add_argument("--quiet", action="store_true", help="no progress bar")
    exports.set_defaults(func=cmd_consent_export)

    verify = consent_commands.add_parser(
        "verify", help="verify the whole chain from genesis, with a progress bar"
    )
    verify.add_argument("--site", required=True, help="tenant slug or domain")
    verify.add_argument("--expect", help="SEQUENCE:HASH exported earlier, which must still hold")
    verify.add_argument("--quiet", action="store_true", help="no progress bar")
    verify.set_defaults(func=cmd_consent_verify)

    checkpoint = consent_commands.add_parser(
        "checkpoint", help="print the newest checkpoint as SEQUENCE:HASH, for a third party"
    )
    checkpoint.add_argument("--site", required=True, help="tenant slug or domain")
    checkpoint.set_defaults(func=cmd_consent_checkpoint)

    imports = consent_commands.add_parser(
        "import", help="record consent events from a JSON lines or CSV file (resumable)"
    )
    imports.add_argument("file", type=Path, help="JSON lines or CSV, one event a record")
    imports.add_argument("--site", required=True, help="tenant slug or domain")
    imports.add_argument("--format", choices=["jsonl", "csv"], help="default: by extension")
    imports.add_argument("--restart", action="store_true", help="from the first record again")
    imports.add_argument("--quiet", action="store_true", help="no progress bar")
    imports.set_defaults(func=cmd_consent_import)
