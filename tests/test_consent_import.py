"""`charter consent import`: another platform's consent, as JSON lines or CSV, through the
same checks and chain as recordConsents; bad records named by line, a kill resumed, a
second run a no-op."""

from __future__ import annotations

import asyncio
import csv
import json
import signal

import pytest

from tenants.consent.models import ConsentEvent
from tests.factories import create_tenant
from tests.test_consent import STATE, publish_policy
from tests.test_ledger_jobs import CHARTER, charter, environment

VERIFY = "{ verifyConsentLedger { ok checked complete reason } }"


@pytest.fixture
async def owner(api):
    _, owner = await create_tenant(api, slug="acme", locales=["ru"])
    await publish_policy(api, owner)
    return owner


def event(index: int, **extra) -> dict:
    return {
        "subjectId": f"visitor-{index}",
        "decisions": [
            {"purpose": "analytics.reporting", "granted": index % 2 == 0},
            {"purpose": "marketing.communications.email", "granted": True},
        ],
        "method": "BANNER",
        "occurredAt": "2025-03-01T10:00:00+05:00",
        "clientEventId": f"other-platform-{index}",
        **extra,
    }


def write_jsonl(path, lines: list) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


def write_csv(path, rows: list[dict]) -> None:
    columns = ["subject_id", "decisions", "method", "occurred_at", "client_event_id", "locale"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    "subject_id": row["subjectId"],
                    "decisions": json.dumps(row["decisions"]),
                    "method": row["method"],
                    "occurred_at": row["occurredAt"],
                    "client_event_id": row.get("clientEventId", ""),
                    "locale": row.get("locale", ""),
                }
            )


async def verified(api, owner) -> dict:
    while True:  # a long ledger is walked a budget at a time
        found = (await api(VERIFY, token=owner))["data"]["verifyConsentLedger"]
        if not found["ok"] or found["complete"]:
            return found


async def test_bad_records_are_named_by_line_and_the_good_ones_land(api, settings, owner, tmp_path):
    lines = [
        event(0),
        "{not json",
        event(1, decisions=[{"purpose": "marketing.nope", "granted": True}]),
        event(2, subjectId=""),
        event(3, occurredAt="2025-03-01T10:00:00"),  # no offset: ambiguous
        event(4, colour="blue"),
        event(5, decisions=[{"purpose": "analytics.reporting", "granted": "yes"}]),
        [1, 2],
        event(6, locale="ru"),
        event(7, method="TELEPATHY"),
        event(8, clientEventId="other-platform-0"),  # another event's id
        event(9, occurredAt="2999-01-01T00:00:00+00:00"),
        '{"subjectId": "nul\\u0000", "decisions": []}',  # the gate's text rule holds here too
        '{"subjectId": "half \\ud800", "decisions": []}',
        event(10, sourceUrl="http://[::1"),  # urlsplit raises: one refused record, not a crash
    ]
    source = tmp_path / "consents.jsonl"
    write_jsonl(source, lines)
    code, out, err = await charter(settings, "consent", "import", str(source), "--site", "acme")
    assert code == 1
    assert out.strip() == "imported 2, duplicates 0, refused 13 (of 15 records)"
    reported = [line for line in err.splitlines() if line.startswith("line ")]
    assert [line.split(": ")[0:2] for line in reported] == [
        ["line 2", "INVALID"],
        ["line 3", "decisions.0.purpose"],
        ["line 4", "subjectId"],
        ["line 5", "occurredAt"],
        ["line 6", "colour"],
        ["line 7", "decisions"],
        ["line 8", "INVALID"],
        ["line 10", "method"],
        ["line 11", "clientEventId"],
        ["line 12", "occurredAt"],
        ["line 13", "INVALID"],
        ["line 14", "INVALID"],
        ["line 15", "sourceUrl"],
    ]
    assert "UNDISCLOSED_PURPOSE" in reported[1] and "REQUIRED" in reported[2]
    assert "CLIENT_EVENT_ID_REUSED" in reported[8]
    assert "NUL" in reported[10] and "surrogate" in reported[11]
    assert err.strip().endswith("charter: 13 records refused: see the lines above")

    state = (await api(STATE, {"s": "visitor-6"}, token=owner))["data"]["consentState"]
    assert {d["purpose"]: d["granted"] for d in state} == {
        "analytics.reporting": True,
        "marketing.communications.email": True,
    }
    imported = await ConsentEvent.get(subject_id="visitor-6")
    assert imported.locale == "ru" and imported.method == "BANNER"
    assert imported.occurred_at.isoformat() == "2025-03-01T05:00:00+00:00"

    code, out, _ = await charter(settings, "consent", "import", str(source), "--site", "acme")
    assert out.strip() == "imported 0, duplicates 2, refused 13 (of 15 records)"
    assert (await verified(api, owner))["ok"] is True


async def test_csv_from_another_platform_and_records_without_an_id(api, settings, owner, tmp_path):
    rows = [event(i) for i in range(30)]
    for row in rows[10:]:
        del row["clientEventId"]  # an id is derived from the record: still idempotent
    source = tmp_path / "consents.csv"
    write_csv(source, rows)
    code, out, err = await charter(settings, "consent", "import", str(source), "--site", "acme")
    assert code == 0, err
    assert out.strip() == "imported 30, duplicates 0, refused 0 (of 30 records)"
    code, out, err = await charter(settings, "consent", "import", str(source), "--site", "acme")
    assert code == 0, err
    assert out.strip() == "imported 0, duplicates 30, refused 0 (of 30 records)"
    assert await ConsentEvent.all().count() == 30
    assert (await verified(api, owner)) == {
        "ok": True,
        "checked": 30,
        "complete": True,
        "reason": None,
    }


async def test_refused_arguments(settings, owner, tmp_path):
    code, _, err = await charter(
        settings, "consent", "import", str(tmp_path / "nope.jsonl"), "--site", "acme"
    )
    assert code == 1 and err.strip().endswith("nope.jsonl: no such file")
    source = tmp_path / "x.jsonl"
    write_jsonl(source, [event(0)])
    code, _, err = await charter(settings, "consent", "import", str(source), "--site", "nobody")
    assert code == 1 and "no tenant" in err


async def test_100k_events_killed_midway_resumed_then_run_again(api, settings, owner, tmp_path):
    total = 100_000
    source = tmp_path / "big.jsonl"
    write_jsonl(source, [event(i) for i in range(total)])
    state = settings.data_dir / "imports"
    process = await asyncio.create_subprocess_exec(
        CHARTER,
        "consent",
        "import",
        str(source),
        "--site",
        "acme",
        env=environment(settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )

    def progress() -> int:
        saved = list(state.glob("*.json")) if state.exists() else []
        try:
            return json.loads(saved[0].read_text())["records"] if saved else 0
        except (OSError, ValueError):
            return 0

    for _ in range(1200):
        if progress() >= 20_000 or process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    process.send_signal(signal.SIGKILL)  # no goodbye, mid-batch
    await process.wait()
    killed_at = progress()
    assert 20_000 <= killed_at < total, "the import ended before it could be killed"
    assert killed_at <= await ConsentEvent.all().count() < total

    code, out, err = await charter(settings, "consent", "import", str(source), "--site", "acme")
    assert code == 0, err
    assert f"resuming after record {killed_at}" in err
    imported, duplicates = (int(part.split()[-1]) for part in out.split(",")[:2])
    # Whatever was committed after the last saved progress comes back as duplicates.
    assert imported + duplicates == total - killed_at
    assert await ConsentEvent.all().count() == total

    code, out, err = await charter(settings, "consent", "import", str(source), "--site", "acme")
    assert code == 0, err
    assert out.strip() == f"imported 0, duplicates {total}, refused 0 (of {total} records)"
    assert await ConsentEvent.all().count() == total
    ids = await ConsentEvent.all().distinct().values_list("client_event_id", flat=True)
    assert len(set(ids)) == total
    assert (await verified(api, owner)) == {
        "ok": True,
        "checked": total,
        "complete": True,
        "reason": None,
    }


async def test_a_batch_mixing_stored_new_and_reused_ids_keeps_each_apart(
    api, settings, owner, tmp_path
):
    # On PostgreSQL a prelinked batch is written without looking its ids up first: the
    # stored ids fail that write, and the batch is written again the careful way.
    first = tmp_path / "first.jsonl"
    write_jsonl(first, [event(i) for i in range(20)])
    code, out, err = await charter(settings, "consent", "import", str(first), "--site", "acme")
    assert code == 0
    assert out.strip() == "imported 20, duplicates 0, refused 0 (of 20 records)", err
    mixed = [event(i) for i in range(10, 30)] + [event(99, clientEventId="other-platform-3")]
    second = tmp_path / "second.jsonl"
    write_jsonl(second, mixed)
    code, out, err = await charter(settings, "consent", "import", str(second), "--site", "acme")
    assert code == 1  # a record refused
    assert out.strip() == "imported 10, duplicates 10, refused 1 (of 21 records)", err
    assert "CLIENT_EVENT_ID_REUSED" in err
    assert await ConsentEvent.all().count() == 30
    assert (await verified(api, owner))["ok"] is True
