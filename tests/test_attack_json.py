"""Hostile JSON in an encoding other than UTF-8. ``json.loads`` reads bytes in UTF-16 or
UTF-32 as well (it detects the encoding from the first bytes), and a UTF-16 body of
ASCII text is valid UTF-8 too (NULs), so the edge lets it by as "not JSON" and
strawberry decodes it as UTF-16. Counted byte by byte, such a body can hide its nesting:
U+2200 is the bytes 00 22 in UTF-16-LE (22 00 in -BE), a quote byte inside a string
that pairs the quotes around the nesting as one string."""

from __future__ import annotations

import pytest

from tenants import untrusted_json
from tests.factories import error_codes

NESTED = "[" * 200 + "1" + "]" * 200
# Two U+2200 strings: an even number of quote bytes, the nesting between the odd ones.
HIDING = '{"query": "{ __typename }", "variables": {"a": "\u2200", "b": %s, "c": "\u2200"}}'
ENCODINGS = ["utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be", "utf-8-sig"]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_depth_of_bytes_in_any_encoding_json_reads(encoding):
    document = (HIDING % NESTED).encode(encoding)
    assert untrusted_json.depth(document) == 202
    with pytest.raises(untrusted_json.TooDeep):
        untrusted_json.loads(document)
    legal = (HIDING % "[[1]]").encode(encoding)
    assert untrusted_json.loads(legal)["variables"]["b"] == [[1]]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le"])
async def test_a_deep_body_in_utf16_is_bad_user_input(client, encoding):
    body = (HIDING % NESTED).encode(encoding)
    answer = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert error_codes(answer.json()) == ["BAD_USER_INPUT"], answer.text
