"""The ``charter`` command: the parser and the one place failures become exit codes."""

from __future__ import annotations

import argparse
import sys

from server.commands import breaches, consent, policies, process, requests, site, tenancy
from server.commands.base import CommandError
from server.settings import SettingsError
from server.terminal import printable
from tenants.errors import DomainError

GROUPS = (process, tenancy, policies, consent, requests, breaches, site)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="charter", description="Charter privacy backend")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    tenancy.register_operator(commands)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        args.func(args)
    except SettingsError as error:
        sys.exit(f"charter: invalid settings: {error}")
    except DomainError as error:  # its message may quote stored or given text
        sys.exit(f"charter: {printable(str(error))}")
    except CommandError as error:
        sys.exit(f"charter: {printable(str(error))}")
    except KeyboardInterrupt:
        sys.exit(130)
