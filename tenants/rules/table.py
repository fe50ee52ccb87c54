"""Loads the jurisdiction table once; the figures live in the data file, not in code."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from tenants.rights import RequestType

_TABLE = Path(__file__).with_name("jurisdictions.toml")


class Unit(StrEnum):
    HOURS = "HOURS"
    DAYS = "DAYS"
    WORKING_DAYS = "WORKING_DAYS"
    MONTHS = "MONTHS"


class RuleTableError(ValueError):
    """The rule table is malformed; raised at import so a bad edit never reaches a clock."""


@dataclass(frozen=True)
class Deadline:
    """One statutory clock. ``amount``/``unit`` are None only for "without undue delay"."""

    amount: int | None
    unit: Unit | None
    start: str
    source: str
    extension: int | None = None
    condition: str | None = None
    undue_delay: bool = False
    min_risk: str | None = None  # breach clocks: the lowest risk level that opens them
    min_subjects: int | None = None  # breach clocks: opened only from this many people
    # The rule under which this period, ending on a day off, ends on the next working day
    # instead (the jurisdiction's `roll`); None: it ends where it falls.
    rolls_under: str | None = None


@dataclass(frozen=True)
class Roll:
    """Periods in these units whose last day is not a working day end on the next one."""

    units: frozenset[Unit]
    source: str


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str
    authority: str | None
    timezone: str
    localization: bool
    source: str
    minimum_age: int | None = None
    # `holidays` country code (+ subdivision) for WORKING_DAYS; None counts Mon-Fri only.
    calendar: str | None = None
    calendar_subdiv: str | None = None
    # A Global Privacy Control signal is a binding opt-out of sale/sharing here.
    gpc_binding: bool = False
    roll: Roll | None = None
    # ISO 3166-1 alpha-2 -> time zone: the states whose calendar a tenant may count in by
    # naming its main establishment (EU); empty elsewhere.
    member_states: dict[str, str] = field(default_factory=dict, hash=False)
    # Excluded from hashing so a Jurisdiction stays hashable despite holding a dict.
    deadlines: dict[str, Deadline] = field(default_factory=dict, hash=False)
    # The request types the law gives people here (tenants.rights.RequestType values).
    rights: tuple[str, ...] = ()
    rights_source: str | None = None
    # May a notice with an opt-out ("by using this site you agree") stand for consent?
    implied_consent: bool = False
    implied_consent_source: str | None = None


_JURISDICTION_KEYS = {
    "name",
    "authority",
    "timezone",
    "localization",
    "minimum_age",
    "calendar",
    "calendar_subdiv",
    "gpc_binding",
    "source",
    "roll",
    "member_states",
    "deadlines",
    "rights",
    "consent",
}
_DEADLINE_KEYS = {
    "amount",
    "unit",
    "from",
    "extension",
    "condition",
    "source",
    "undue_delay",
    "min_risk",
    "min_subjects",
    "roll",
}
_ROLL_KEYS = {"units", "source"}
# HOURS never roll (an exact instant); WORKING_DAYS already end on a working day.
ROLLING_UNITS = frozenset({Unit.DAYS, Unit.MONTHS})
RISK_LEVELS = ("LOW", "RISK", "HIGH")


def _int(where: str, value: Any, *, minimum: int) -> int:
    # bool is an int subclass; `amount = true` is a typo, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RuleTableError(f"{where}: expected a whole number >= {minimum}, got {value!r}")
    return value


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RuleTableError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _unknown(where: str, row: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(row) - allowed)
    if extra:
        raise RuleTableError(f"{where}: unknown key(s) {', '.join(extra)}")


def _deadline(where: str, row: Any, roll: Roll | None) -> Deadline:
    if not isinstance(row, Mapping):
        raise RuleTableError(f"{where}: expected a table")
    _unknown(where, row, _DEADLINE_KEYS)
    undue_delay = row.get("undue_delay", False)
    if not isinstance(undue_delay, bool):
        raise RuleTableError(f"{where}.undue_delay: expected true or false")
    amount: int | None = None
    unit: Unit | None = None
    if undue_delay:
        # A figure next to "without undue delay" would be a second, contradicting rule.
        if "amount" in row or "unit" in row or "extension" in row:
            raise RuleTableError(f"{where}: undue_delay rows carry no amount, unit or extension")
    else:
        if "amount" not in row or "unit" not in row:
            raise RuleTableError(f"{where}: needs amount and unit (or undue_delay = true)")
        amount = _int(f"{where}.amount", row["amount"], minimum=1)
        try:
            unit = Unit(row["unit"])
        except ValueError:
            raise RuleTableError(
                f"{where}.unit: unknown unit {row['unit']!r}; expected one of "
                f"{', '.join(u.value for u in Unit)}"
            ) from None
    extension = row.get("extension")
    if extension is not None:
        extension = _int(f"{where}.extension", extension, minimum=1)
    condition = row.get("condition")
    if condition is not None:
        condition = _text(f"{where}.condition", condition)
    min_risk = row.get("min_risk")
    if min_risk is not None and min_risk not in RISK_LEVELS:
        raise RuleTableError(f"{where}.min_risk: expected one of {', '.join(RISK_LEVELS)}")
    min_subjects = row.get("min_subjects")
    if min_subjects is not None:
        min_subjects = _int(f"{where}.min_subjects", min_subjects, minimum=1)
    # Whether a period rolls, and under which article, is the jurisdiction's rule (its
    # `roll` table, by unit); a row can only opt out of it, with `roll = false`.
    if row.get("roll", False) is not False:
        raise RuleTableError(f"{where}.roll: only `roll = false` (an opt-out) is allowed")
    rolls = "roll" not in row and roll is not None and unit in roll.units
    return Deadline(
        amount=amount,
        unit=unit,
        start=_text(f"{where}.from", row.get("from")),
        source=_text(f"{where}.source", row.get("source")),
        extension=extension,
        condition=condition,
        undue_delay=undue_delay,
        min_risk=min_risk,
        min_subjects=min_subjects,
        rolls_under=roll.source if rolls and roll else None,
    )


def _roll(where: str, row: Any) -> Roll | None:
    if row is None:
        return None
    if not isinstance(row, Mapping):
        raise RuleTableError(f"{where}: expected a table")
    _unknown(where, row, _ROLL_KEYS)
    units = row.get("units")
    if not isinstance(units, list) or not units:
        raise RuleTableError(f"{where}.units: expected a non-empty list of units")
    try:
        parsed = frozenset(Unit(unit) for unit in units)
    except ValueError:
        raise RuleTableError(f"{where}.units: unknown unit in {units!r}") from None
    if not parsed <= ROLLING_UNITS:
        wrong = ", ".join(sorted(parsed - ROLLING_UNITS))
        raise RuleTableError(f"{where}.units: {wrong} periods never roll (only DAYS, MONTHS)")
    return Roll(units=parsed, source=_text(f"{where}.source", row.get("source")))


def _member_states(where: str, row: Any) -> dict[str, str]:
    if row is None:
        return {}
    if not isinstance(row, Mapping):
        raise RuleTableError(f"{where}: expected a table of country code = time zone")
    supported = holidays.list_supported_countries()
    for code, zone in row.items():
        if code not in supported:
            raise RuleTableError(f"{where}.{code}: `holidays` has no calendar {code!r}")
        _zone(f"{where}.{code}", zone)
    return dict(row)


def _zone(where: str, value: Any) -> str:
    zone = _text(where, value)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleTableError(f"{where}: unknown time zone {zone!r}") from None
    return zone


def _rights(code: str, row: Any) -> tuple[tuple[str, ...], str | None]:
    if row is None:
        return (), None
    if not isinstance(row, Mapping):
        raise RuleTableError(f"{code}.rights: expected a table")
    _unknown(f"{code}.rights", row, {"granted", "source"})
    granted = row.get("granted")
    if not isinstance(granted, list) or not all(r in RequestType.__members__ for r in granted):
        raise RuleTableError(
            f"{code}.rights.granted: expected a list of {', '.join(RequestType.__members__)}"
        )
    return tuple(granted), _text(f"{code}.rights.source", row.get("source"))


def _consent(code: str, row: Any) -> tuple[bool, str | None]:
    if row is None:
        return False, None
    if not isinstance(row, Mapping):
        raise RuleTableError(f"{code}.consent: expected a table")
    _unknown(f"{code}.consent", row, {"implied", "source"})
    if not isinstance(row.get("implied"), bool):
        raise RuleTableError(f"{code}.consent.implied: expected true or false")
    return row["implied"], _text(f"{code}.consent.source", row.get("source"))


def _jurisdiction(code: str, row: Any) -> Jurisdiction:
    if not isinstance(row, Mapping):
        raise RuleTableError(f"{code}: expected a table")
    _unknown(code, row, _JURISDICTION_KEYS)
    timezone = _zone(f"{code}.timezone", row.get("timezone"))
    calendar = row.get("calendar")
    subdiv = row.get("calendar_subdiv")
    if calendar is not None:
        supported = holidays.list_supported_countries()
        if calendar not in supported:
            raise RuleTableError(f"{code}.calendar: `holidays` has no calendar {calendar!r}")
        if subdiv is not None and subdiv not in supported[calendar]:
            raise RuleTableError(f"{code}.calendar_subdiv: {calendar} has no {subdiv!r}")
    elif subdiv is not None:
        raise RuleTableError(f"{code}.calendar_subdiv: set without calendar")
    localization = row.get("localization", False)
    if not isinstance(localization, bool):
        raise RuleTableError(f"{code}.localization: expected true or false")
    gpc_binding = row.get("gpc_binding", False)
    if not isinstance(gpc_binding, bool):
        raise RuleTableError(f"{code}.gpc_binding: expected true or false")
    minimum_age = row.get("minimum_age")
    if minimum_age is not None:
        minimum_age = _int(f"{code}.minimum_age", minimum_age, minimum=0)
    authority = row.get("authority")
    deadlines = row.get("deadlines", {})
    if not isinstance(deadlines, Mapping):
        raise RuleTableError(f"{code}.deadlines: expected a table")
    roll = _roll(f"{code}.roll", row.get("roll"))

    rights, rights_source = _rights(code, row.get("rights"))
    implied, implied_source = _consent(code, row.get("consent"))
    return Jurisdiction(
        code=code,
        name=_text(f"{code}.name", row.get("name")),
        authority=None if authority is None else _text(f"{code}.authority", authority),
        timezone=timezone,
        localization=localization,
        source=_text(f"{code}.source", row.get("source")),
        minimum_age=minimum_age,
        calendar=calendar,
        calendar_subdiv=subdiv,
        gpc_binding=gpc_binding,
        roll=roll,
        member_states=_member_states(f"{code}.member_states", row.get("member_states")),
        deadlines={
            key: _deadline(f"{code}.deadlines.{key}", value, roll)
            for key, value in deadlines.items()
        },
        rights=rights,
        rights_source=rights_source,
        implied_consent=implied,
        implied_consent_source=implied_source,
    )


def parse(data: Mapping[str, Any]) -> dict[str, Jurisdiction]:
    """Validate a decoded table; raises RuleTableError naming the offending key."""
    return {code: _jurisdiction(code, row) for code, row in data.items()}


def load(path: Path = _TABLE) -> dict[str, Jurisdiction]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleTableError(f"{path.name}: {exc}") from exc
    return parse(data)


JURISDICTIONS: dict[str, Jurisdiction] = load()


def jurisdiction(code: str) -> Jurisdiction | None:
    return JURISDICTIONS.get(code)
