"""The `charter` command refuses text no store takes, by the gate's own rule (NUL, lone
surrogates), in every argument of every command that takes text: one clear line and exit
status 2, before anything is opened or written. Paths are not text and stay untouched."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import pytest

from server import cli

CHARTER = str(Path(sys.executable).with_name("charter"))
BAD = {"NUL": ("a\x00b", "NUL"), "lone surrogate": ("a\udcffb", "lone surrogates")}


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command words, its parser) for every command that runs."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, (*path, name))


def _value(action: argparse.Action) -> list[str]:
    if action.nargs == 0:
        return []
    if action.choices:
        return [str(next(iter(action.choices)))]
    if action.type is int:
        return ["1"]
    return ["x"]


def _text_arguments():
    """Each (command, argument) that takes text, with an argv that is valid but for the
    bad value put in that argument: generated from the parser, so a new command or
    option is covered the day it is added."""
    for words, parser in _leaves(cli._parser()):
        actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
        chosen_groups = {
            group.required and group._group_actions[0]
            for group in parser._mutually_exclusive_groups
        }
        base: list[tuple[argparse.Action, list[str]]] = []
        for action in actions:
            if action.required or action in chosen_groups or not action.option_strings:
                base.append((action, _value(action)))
        for target in actions:
            if target.nargs == 0 or target.choices or target.type not in (None, str):
                continue  # flags, choices, numbers and paths are not free text
            yield words, target, base


CASES = [
    pytest.param(
        words,
        target,
        base,
        id=f"{' '.join(words)} {'/'.join(target.option_strings) or target.dest}",
    )
    for words, target, base in _text_arguments()
]


def _argv(words, target, base, bad: str) -> list[str]:
    argv = list(words)
    placed = False
    for action, values in base:
        if action is target:
            values, placed = [bad], True
        argv += [*action.option_strings[:1], *values]
    if not placed:
        argv += [target.option_strings[0], bad]
    return argv


def test_every_text_argument_is_found():
    # The generator itself: it must see the commands the README lists.
    names = {
        " ".join(words) + " " + (t.option_strings or [t.dest])[0]
        for words, t, _ in _text_arguments()
    }
    for expected in (
        "tenant create --name",
        "tenant update --dpo-email",
        "key create --name",
        "consent export --site",
        "request export id",
        "breach report id",
        "requests due --within",
        "policy import --title",
    ):
        assert expected in names, sorted(names)
    assert "policy import file" not in names  # a path
    assert len(CASES) >= 25


@pytest.mark.parametrize("kind", sorted(BAD))
@pytest.mark.parametrize(("words", "target", "base"), CASES)
def test_bad_text_is_refused(words, target, base, kind, capsys):
    bad, said = BAD[kind]
    argv = _argv(words, target, base, bad)
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    label = "/".join(target.option_strings) or target.dest
    assert f"argument {label}: text may not contain {said}" in err, err
    assert "Traceback" not in err


async def _run(*args: bytes | str, env: dict) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        CHARTER, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, err.decode("utf-8", "replace")


async def test_invalid_utf8_from_a_real_shell_is_refused(tmp_path):
    """What a terminal really sends: bytes that are not UTF-8 (Python hands them over as
    lone surrogates). NUL cannot cross exec(2) at all; the in-process tests cover it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env["CHARTER_DATA_DIR"] = str(tmp_path)  # nothing may be created there
    code, err = await _run(
        "tenant", "create", "--slug", "acme", "--name", b"Acme \xff", "--locale", "en",
        "--jurisdiction", "EU", env=env,
    )  # fmt: skip
    assert code == 2
    assert "argument --name: text may not contain lone surrogates" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # refused before any backend was opened


async def test_paths_are_not_text_and_a_file_body_is(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env["CHARTER_DATA_DIR"] = str(tmp_path / "data")
    # A file name that is not UTF-8 passes the text rule (it fails only as a missing file).
    code, err = await _run(
        "policy", "import", os.fsencode(str(tmp_path)) + b"/\xff.md", "--site", "acme",
        "--locale", "en", env=env,
    )  # fmt: skip
    assert code == 1
    assert "cannot read" in err and "text may not" not in err
    # A body holding NUL is refused as the same text over GraphQL is.
    policy = tmp_path / "policy.md"
    policy.write_bytes(b"# Privacy\n\nWe keep \x00 little.\n")
    code, err = await _run(
        "policy", "import", str(policy), "--site", "acme", "--locale", "en", env=env
    )
    assert code == 1
    assert "text may not contain NUL characters" in err
    assert not (tmp_path / "data").exists()
