"""`charter assets`: builds the banner's and privacy center's files and prints their sizes."""

from __future__ import annotations

import argparse

from server.commands.base import CommandError


def cmd_assets(args: argparse.Namespace) -> None:
    from server.site.assets import ASSETS, SCRIPT_LIMIT_GZIPPED, report

    for line in report():
        print(line)
    size = len(ASSETS["consent.js"].gzipped)
    if size > SCRIPT_LIMIT_GZIPPED:
        raise CommandError(f"consent.js is {size:,} B gzipped, over {SCRIPT_LIMIT_GZIPPED:,} B")


def register(commands: argparse._SubParsersAction) -> None:
    assets = commands.add_parser(
        "assets", help="build the consent banner's files and print their gzipped sizes"
    )
    assets.set_defaults(func=cmd_assets)
