"""The jurisdiction table, as data anyone with a key can read."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.permissions import caller
from tenants.rules import JURISDICTIONS
from tenants.rules import Deadline as DeadlineRule
from tenants.rules import Jurisdiction as JurisdictionRule


@strawberry.type
class Deadline:
    amount: int
    unit: str = strawberry.field(description="HOURS | DAYS | WORKING_DAYS | MONTHS")
    from_: str = strawberry.field(name="from")
    extension: int | None
    source: str
    condition: str | None
    rolls_under: str | None = strawberry.field(
        description="The rule under which this period, ending on a Saturday, Sunday or "
        "public holiday, ends on the next working day instead; null: it ends where it falls."
    )

    @classmethod
    def of(cls, rule: DeadlineRule | None) -> Deadline | None:
        # "Without undue delay" has no figure to count: no Deadline, see `undueDelay`.
        if rule is None or rule.amount is None or rule.unit is None:
            return None
        return cls(
            amount=rule.amount,
            unit=rule.unit.value,
            from_=rule.start,
            extension=rule.extension,
            source=rule.source,
            condition=rule.condition,
            rolls_under=rule.rolls_under,
        )


@strawberry.type
class Obligation:
    name: str
    deadline: Deadline | None
    undue_delay: bool = strawberry.field(
        description='True for "without undue delay": no fixed figure.'
    )
    source: str


@strawberry.type
class Jurisdiction:
    code: str
    name: str
    authority: str | None
    access: Deadline | None
    erasure: Deadline | None
    breach_authority: Deadline | None
    breach_subjects: Deadline | None
    minimum_age: int | None
    localization: bool
    timezone: str
    source: str
    obligations: list[Obligation]
    member_states: list[str] = strawberry.field(
        description="ISO 3166-1 codes a tenant may name as its main establishment "
        "(mainEstablishment), whose holidays and time zone then count; empty: none."
    )

    @classmethod
    def of(cls, rule: JurisdictionRule) -> Jurisdiction:
        deadlines = rule.deadlines
        return cls(
            code=rule.code,
            name=rule.name,
            authority=rule.authority,
            access=Deadline.of(deadlines.get("access")),
            erasure=Deadline.of(deadlines.get("erasure")),
            breach_authority=Deadline.of(deadlines.get("breach_authority")),
            breach_subjects=Deadline.of(deadlines.get("breach_subjects")),
            minimum_age=rule.minimum_age,
            localization=rule.localization,
            timezone=rule.timezone,
            source=rule.source,
            member_states=sorted(rule.member_states),
            obligations=[
                Obligation(
                    name=name, deadline=Deadline.of(d), undue_delay=d.undue_delay, source=d.source
                )
                for name, d in deadlines.items()
            ],
        )


@strawberry.type
class RulesQuery:
    @strawberry.field(description="The rule table: deadlines per jurisdiction, with sources.")
    def jurisdictions(self, info: Info) -> list[Jurisdiction]:
        caller(info)  # public data; a rejected token is still refused
        return [Jurisdiction.of(rule) for rule in JURISDICTIONS.values()]
