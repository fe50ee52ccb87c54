"""Loads the jurisdiction table once; the figures live in the data file, not in code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

_TABLE = Path(__file__).with_name("jurisdictions.toml")


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    authority: str | None
    timezone: str
    localization: bool
    source: str


def _load() -> dict[str, Jurisdiction]:
    data = tomllib.loads(_TABLE.read_text(encoding="utf-8"))
    return {
        code: Jurisdiction(
            code=code,
            name=row["name"],
            authority=row.get("authority"),
            timezone=row["timezone"],
            localization=row.get("localization", False),
            source=row["source"],
        )
        for code, row in data.items()
    }


JURISDICTIONS: dict[str, Jurisdiction] = _load()


def jurisdiction(code: str) -> Jurisdiction | None:
    return JURISDICTIONS.get(code)
