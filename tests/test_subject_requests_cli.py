"""`charter request export` and `charter requests due`, and the rule table over GraphQL."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests import backends as tb
from tests.factories import create_tenant
from tests.test_subject_requests import SUBMIT, UPDATE

CHARTER = str(Path(sys.executable).with_name("charter"))


async def charter(settings, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    process = await asyncio.create_subprocess_exec(
        CHARTER, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def test_export_file_and_due_report(api, settings, tmp_path):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["KZ"])
    made = await api(
        SUBMIT, {"input": {"type": "ACCESS", "subjectId": "v-1", "verified": True}}, token=owner
    )
    request_id = made["data"]["submitSubjectRequest"]["subjectRequest"]["id"]

    code, _, err = await charter(settings, "request", "export", request_id)
    assert code == 1 and "has no export" in err
    await api(UPDATE, {"id": request_id, "action": "COMPLETE"}, token=owner)
    target = tmp_path / "export.json"
    code, _, err = await charter(settings, "request", "export", request_id, "--output", str(target))
    assert code == 0, err
    assert json.loads(target.read_text())["subject"]["ids"] == ["v-1"]

    # KZ: 3 working days, so a fresh request falls due within a week, not within an hour.
    soon = await api(
        SUBMIT, {"input": {"type": "ERASURE", "subjectId": "v-2", "verified": True}}, token=owner
    )
    soon_id = soon["data"]["submitSubjectRequest"]["subjectRequest"]["id"]
    code, out, err = await charter(settings, "requests", "due", "--within", "8d")
    assert code == 0 and soon_id in out and request_id not in out  # completed ones are done
    assert out.startswith("acme\t")
    code, out, _ = await charter(settings, "requests", "due", "--within", "1h")
    assert code == 0 and soon_id not in out
    code, _, err = await charter(settings, "requests", "due", "--within", "soon")
    assert code == 1 and "--within" in err


async def test_the_rule_table_is_public_data(api):
    body = await api(
        """{ jurisdictions { code timezone localization minimumAge
               access { amount unit from extension source }
               breachAuthority { amount unit from }
               breachSubjects { amount }
               obligations { name undueDelay deadline { amount unit } } } }"""
    )
    table = {row["code"]: row for row in body["data"]["jurisdictions"]}
    assert set(table) == {"EU", "UK", "US-CA", "RU", "KZ", "UZ", "KG", "BR"}
    assert table["EU"]["access"] == {
        **table["EU"]["access"],
        "amount": 1,
        "unit": "MONTHS",
        "extension": 2,
    }
    assert table["RU"]["access"]["unit"] == "WORKING_DAYS" and table["RU"]["access"]["amount"] == 10
    assert table["RU"]["breachAuthority"]["amount"] == 24 and table["RU"]["localization"] is True
    assert table["EU"]["breachSubjects"] is None  # "without undue delay": no fixed figure
    undue = {o["name"]: o["undueDelay"] for o in table["EU"]["obligations"]}
    assert undue["breach_subjects"] is True
    assert all(row["access"]["source"] for row in table.values())


@pytest.mark.parametrize("text", ["99999999999d", "1e9d", "infd", "nanh", "99999999999999999999h"])
def test_a_window_past_what_a_date_can_hold_is_one_line(text):
    """`--within` past timedelta's range was an OverflowError traceback."""
    from server.commands.base import CommandError
    from server.commands.requests import _duration

    with pytest.raises(CommandError, match="--within"):
        _duration(text)
