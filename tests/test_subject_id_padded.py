"""consentHistory trims the subject id it is handed (validation.subject_key, 8ca26a6) and
pages through the trimmed id's events, but its receipts read their standing (restricted,
objected) for the id as sent: for " v " there was none, so every receipt said processing
was neither restricted nor objected, while consentHistory("v") and consentState said it
was. (liftRestriction read its receipt's context for the id as sent, the same way.)"""

from __future__ import annotations

from tests.test_restriction import HISTORY, acme, complete, consent  # noqa: F401


def _flags(body):
    edges = body["data"]["consentHistory"]["edges"]
    return [[(d["restricted"], d["objected"]) for d in e["node"]["decisions"]] for e in edges]


async def test_history_of_a_padded_id_reads_the_same_standing(api, acme):  # noqa: F811
    owner = acme["owner"]
    await consent(api, owner, "v")
    await complete(api, owner, "RESTRICTION", subject="v")
    plain = await api(HISTORY, {"s": "v"}, token=owner)
    padded = await api(HISTORY, {"s": " v "}, token=owner)
    assert "errors" not in padded, padded
    assert _flags(plain) and any(r for e in _flags(plain) for r, _ in e)
    assert _flags(padded) == _flags(plain)
