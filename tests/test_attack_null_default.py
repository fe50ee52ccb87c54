"""A variable declared nullable with a default, sent as an explicit null where the
argument is non-null: the document is valid (the default makes the position allowed), and
graphql-core refuses the argument as it executes the field. That is the request's fault,
located at the value it sent: BAD_USER_INPUT, not a masked INTERNAL_SERVER_ERROR logged
with a traceback (which anyone could fill the error log with)."""

from __future__ import annotations

import logging

from tests.factories import error_codes
from tests.test_consent import acme as _acme

acme = _acme  # the fixture, under its own name

MANY = """mutation($i: [ConsentInput!] = [{subjectId: "d", method: BANNER, decisions: []}]) {
  recordConsents(inputs: $i) { recorded }
}"""
ONE = """mutation($i: ConsentInput = {subjectId: "d", method: BANNER, decisions: []}) {
  recordConsent(input: $i) { userErrors { code } }
}"""
STATE = """query($s: String = "visitor-1") { consentState(subjectId: $s) { purpose } }"""


async def test_a_null_sent_for_a_defaulted_variable_is_the_callers_error(api, acme, caplog):
    caplog.set_level(logging.ERROR, logger="charter.graphql")
    for document, name in ((MANY, "i"), (ONE, "i"), (STATE, "s")):
        body = await api(document, {name: None}, token=acme["owner"])
        assert body["data"] is None, body
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert (
            "must not be null" in body["errors"][0]["message"]
            or "None" in (body["errors"][0]["message"])
        )
    assert not [r for r in caplog.records if "unexpected error" in r.getMessage()]


async def test_the_default_still_applies_when_the_variable_is_left_out(api, acme):
    body = await api(STATE, {}, token=acme["owner"])
    assert body == {"data": {"consentState": []}}
