"""The ``charter`` command: the parser and the one place failures become exit codes."""

from __future__ import annotations

import argparse
import sys

from server.commands import breaches, consent, policies, process, requests, site, tenancy
from server.commands.base import CommandError
from server.gate import text_problem
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
    parser = _parser()
    args = parser.parse_args(argv)
    problem = _text_problem(parser, args)
    if problem:
        parser.error(problem)  # exit status 2, as for any other bad argument
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


def _text_problem(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """Why a text argument cannot be stored, by the gate's own rule (server/gate.py:
    NUL, lone surrogates), or None. Paths are not text: a file name may hold any bytes,
    which Python hands over as lone surrogates (PEP 383), so those arguments are
    ``type=Path`` and not checked here."""
    labels = _labels(parser)
    for dest, value in vars(args).items():
        if dest == "func":
            continue
        problem = text_problem(value if isinstance(value, str | list) else None)
        if problem:
            return f"argument {labels.get(dest, dest)}: {problem}"
    return None


def _labels(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each destination's name as the user typed it (``--dpo-email``, ``file``)."""
    found: dict[str, str] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.update(_labels(sub))
        elif action.option_strings:
            found.setdefault(action.dest, "/".join(action.option_strings))
        else:
            found.setdefault(action.dest, action.dest)
    return found
