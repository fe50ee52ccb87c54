"""A body in UTF-16 or UTF-32, or UTF-8 behind a byte order mark. json.loads reads all of
those bytes (it detects the encoding), and UTF-16 of ASCII text is valid UTF-8 as well
(with NULs), which the edge's json.loads of the text refuses; so is a BOM. The edge took
such a body for one "strawberry will refuse on its own terms" and ran it without the
gate (no text rule, no rate-limit charge), and strawberry decoded and executed it.
The edge reads JSON as UTF-8 (RFC 8259 §8.1): UTF-16 and UTF-32 are refused as UTF-16
with a BOM already was; a UTF-8 BOM is dropped (§8.1: parsers MAY ignore it) and the
body goes through the gate like any other."""

from __future__ import annotations

import json

import pytest

from tests.factories import create_tenant, error_codes

ENCODINGS = ["utf-8-sig", "utf-16-le", "utf-16-be", "utf-16", "utf-32-le", "utf-32-be"]
NUL_QUERY = "query($s: String!) { consentState(subjectId: $s) { purpose } }"


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_nul_in_a_body_of_another_encoding_is_bad_user_input(api, client, encoding):
    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    document = {"query": NUL_QUERY, "variables": {"s": "a\u0000b"}}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {owner}"}
    utf8 = await client.post("/graphql", content=json.dumps(document).encode(), headers=headers)
    assert utf8.status_code == 400 and error_codes(utf8.json()) == ["BAD_USER_INPUT"], utf8.text
    answer = await client.post(
        "/graphql", content=json.dumps(document).encode(encoding), headers=headers
    )
    assert answer.status_code == 400, answer.text
    assert error_codes(answer.json()) == ["BAD_USER_INPUT"], answer.text


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_a_body_of_another_encoding_is_answered_through_the_gate_or_refused(client, encoding):
    body = json.dumps({"query": "{ __typename }"}).encode(encoding)
    answer = await client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    if encoding == "utf-8-sig":
        assert answer.json() == {"data": {"__typename": "Query"}}, answer.text
        assert "ratelimit" in {k.lower() for k in answer.headers}, answer.headers  # charged
    else:
        assert answer.status_code == 400, answer.text
        assert error_codes(answer.json()) == ["BAD_USER_INPUT"], answer.text


PUBLISHED = "query($s: String!) { publishedPolicy(site: $s) { version } }"


@pytest.mark.parametrize("encoding", ENCODINGS)
async def test_the_fast_path_reads_a_body_as_the_edge_does(api, client, encoding):
    """A public read the fast path answers (publishedPolicy, no key) takes the same rule
    for its body's encoding as every other request: one reading of a JSON body."""
    from tests.test_consent import publish_policy

    _, owner = await create_tenant(api, slug="acme", domains=["acme.example"])
    await publish_policy(api, owner)
    body = json.dumps({"query": PUBLISHED, "variables": {"s": "acme"}})
    headers = {"Content-Type": "application/json"}
    for _ in range(2):  # the second time from the response cache
        answer = await client.post("/graphql", content=body.encode(encoding), headers=headers)
        if encoding == "utf-8-sig":
            assert answer.json() == {"data": {"publishedPolicy": {"version": 1}}}, answer.text
        else:
            assert answer.status_code == 400, answer.text
            assert error_codes(answer.json()) == ["BAD_USER_INPUT"], answer.text
        warm = await client.post("/graphql", content=body.encode(), headers=headers)
        assert warm.json() == {"data": {"publishedPolicy": {"version": 1}}}, warm.text
