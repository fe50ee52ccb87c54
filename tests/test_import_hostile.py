"""`charter consent import` reads hostile files one refused record at a time: a lone
surrogate in any text, nesting too deep for the parser, a line or CSV cell past the
record bound (1 MiB), bytes that are not UTF-8, a line that is not an object. Each is ONE
record, refused with its line number, and every other line is still read; memory stays
flat whatever a line's length."""

from __future__ import annotations

import json
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.commands.consent import _text_checked
from tenants.consent import importing
from tenants.errors import Problem

GOOD = {
    "subjectId": "good",
    "decisions": [{"purpose": "analytics.reporting", "granted": True}],
    "occurredAt": "2026-11-01T10:00:00+00:00",
}
FIELDS = ("subjectId", "clientEventId", "locale", "purpose", "email", "sourceUrl")


def _surrogate(field: str) -> bytes:
    record = dict(GOOD)
    if field == "purpose":
        record["decisions"] = [{"purpose": "a\ud800", "granted": True}]
    else:
        record[field] = "a\udfff"
    return json.dumps(record).encode()


hostile = st.one_of(
    st.sampled_from(FIELDS).map(_surrogate),
    st.integers(9, 20_000).map(lambda n: b'{"subjectId": ' + b"[" * n + b"]" * n + b"}"),
    st.integers(9, 400).map(lambda n: b'{"a": ' + b'{"a": ' * n + b"1" + b"}" * (n + 1)),
    st.just(b'{"subjectId": "' + b"x" * (importing.MAX_RECORD + 10) + b'"}'),
    st.sampled_from([b"\xff\xfe", b"[1, 2]", b'"text"', b"{", b"null", b'{"a": NaN']),
)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.booleans(), hostile), min_size=1, max_size=6))
def test_each_hostile_line_is_one_refused_record_and_the_rest_are_read(rows):
    lines = [json.dumps(GOOD).encode() if good else bad for good, bad in rows]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hostile.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        read = list(_text_checked(importing.records(path, "jsonl")))
        assert [number for number, _ in read] == list(range(1, len(lines) + 1))
        for (good, _), (_, record) in zip(rows, read, strict=True):
            if good:
                item, _, problems = importing.parse(record)
                assert item is not None, problems.items
            elif not isinstance(record, Problem):  # the parse step refuses it instead
                item, _, problems = importing.parse(record)
                assert item is None or not isinstance(record, dict), record


def test_a_csv_cell_past_the_bound_is_one_record_and_reading_goes_on(tmp_path):
    path = tmp_path / "big.csv"
    cell = json.dumps(GOOD["decisions"]).replace('"', '""')
    with path.open("wb") as out:
        out.write(b"subjectId,decisions,occurredAt\n")
        out.write(f'a,"{cell}",{GOOD["occurredAt"]}\n'.encode())
        out.write(b'b,"' + b"x" * (2 * importing.MAX_RECORD) + b'",2026-11-01T10:00:00Z\n')
        out.write(f'c,"{cell}",{GOOD["occurredAt"]}\n'.encode())
    read = list(importing.records(path, "csv"))
    assert [number for number, _ in read] == [2, 3, 4]
    assert isinstance(read[1][1], Problem) and read[1][1].code.value == "TOO_LONG"
    assert read[2][1]["subjectId"] == "c"


def test_memory_stays_flat_whatever_a_lines_length(tmp_path):
    """A 64 MiB line costs no more memory than the record bound: it is read through in
    blocks and refused (TOO_LONG), and the line after it is read."""
    path = tmp_path / "long.jsonl"
    with path.open("wb") as out:
        out.write(json.dumps(GOOD).encode() + b"\n" + b'{"subjectId": "')
        for _ in range(64):
            out.write(b"x" * (1 << 20))
        out.write(b'"}\n' + json.dumps(GOOD).encode() + b"\n")
    tracemalloc.start()
    try:
        read = list(importing.records(path, "jsonl"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [number for number, _ in read] == [1, 2, 3]
    assert read[1][1].code.value == "TOO_LONG" and read[2][1]["subjectId"] == "good"
    assert peak < 4 * importing.MAX_RECORD, peak


@pytest.mark.xfail(
    strict=True,
    reason="tenants/consent/importing.py (being changed by another engineer): _version "
    "reads policyVersion with str.isdigit() then int(), which raises ValueError for '²' "
    "and past 4,300 digits; the whole import stops with a traceback. Fix: ASCII digits only, "
    "bounded length (as server.site.center.version_number), else INVALID.",
)
@pytest.mark.parametrize("spelling", ["²", "1" * 5000])
def test_a_policy_version_python_calls_digits_is_one_refused_record(spelling):
    """`"policyVersion": "²"` is one refused record (INVALID), never a ValueError."""
    item, _, problems = importing.parse({**GOOD, "policyVersion": spelling})
    assert item is None
    assert [p.code.value for p in problems.items] == ["INVALID"]
