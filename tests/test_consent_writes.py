"""A write of the ledger reads the same whichever way it goes in: a small one (a group of
visitors, a short batch) is one statement on PostgreSQL, a large one COPY then the fold.
Both must leave the same consent_state: the newest decision per subject and purpose, ties
to the later event, an older decision never replacing a newer one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tenants.consent import writes
from tests.factories import create_tenant
from tests.test_consent import publish_policy, state
from tests.test_consent_ledger import BATCH, VERIFY

SUBJECTS = 6
PURPOSES = ("analytics.reporting", "marketing.communications.email")
START = datetime(2026, 1, 1, tzinfo=UTC)


def events(seed: int) -> list[dict]:
    """Decisions of a few subjects in shuffled time order, some at the same instant."""
    chance = random.Random(seed)
    made = []
    for _ in range(writes.ONE_STATEMENT_ROWS - 4):
        purposes = chance.sample(PURPOSES, chance.randint(1, 2))
        made.append(
            {
                "subjectId": f"s-{chance.randrange(SUBJECTS)}",
                "method": "IMPORT",
                "occurredAt": (START + timedelta(hours=chance.randrange(8))).isoformat(),
                "decisions": [{"purpose": p, "granted": chance.random() < 0.5} for p in purposes],
            }
        )
    return made


async def test_small_and_large_writes_fold_into_the_same_state(api):
    core = events(seed=17)
    filler = [{**core[0], "subjectId": f"filler-{i}"} for i in range(10)]
    batches = {"small": [core], "large": [core + filler]}
    assert len(core) <= writes.ONE_STATEMENT_ROWS < len(core + filler)
    seen = {}
    for slug, inputs in batches.items():
        _, owner = await create_tenant(api, slug=slug)
        await publish_policy(api, owner)
        for batch in inputs:
            result = (await api(BATCH, {"inputs": batch}, token=owner))["data"]["recordConsents"]
            assert result["userErrors"] == [] and result["recorded"] == len(batch)
        seen[slug] = {
            f"s-{n}": {
                purpose: (d["granted"], d["decidedAt"])
                for purpose, d in (await state(api, owner, f"s-{n}")).items()
            }
            for n in range(SUBJECTS)
        }
        verified = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
        assert verified["ok"] is True
    assert seen["small"] == seen["large"]
    # And what both read is the rule itself, worked out here from the inputs.
    expected: dict[str, dict] = {f"s-{n}": {} for n in range(SUBJECTS)}
    for event in core:  # in sequence order: a later event wins a tie
        for decision in event["decisions"]:
            held = expected[event["subjectId"]].get(decision["purpose"])
            at = datetime.fromisoformat(event["occurredAt"])
            if held is None or held[1] <= at:
                expected[event["subjectId"]][decision["purpose"]] = (decision["granted"], at)
    read = {
        subject: {p: (granted, datetime.fromisoformat(at)) for p, (granted, at) in found.items()}
        for subject, found in seen["small"].items()
    }
    assert read == expected
