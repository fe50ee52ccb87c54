"""Hostile JSON at every door: nesting is bounded by one decoder
(``tenants.untrusted_json``) that every HTTP entry point and the socket use, and a
socket message of any shape is answered (graphql-transport-ws: close 4400 when it is no
protocol message), never a dropped connection or a traceback."""

from __future__ import annotations

import asyncio
import json
import logging
from itertools import accumulate

import pytest
import websockets
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.requests import Request

from server.site import record
from tenants import untrusted_json
from tests.factories import create_draft, create_tenant, error_codes, publish
from tests.servers import serve

DEEP = "[" * 5000 + "]" * 5000


def _nested(levels: int) -> object:
    value: object = 1
    for level in range(levels):
        value = [value] if level % 2 else {"a": value}
    return value


@hypothesis_settings(max_examples=200, deadline=None)
@given(levels=st.integers(0, 3 * untrusted_json.MAX_DEPTH), spaced=st.booleans())
def test_depth_is_counted_exactly_and_bounded(levels, spaced):
    text = json.dumps(_nested(levels), indent=1 if spaced else None)
    text = text.replace('"a"', '"[{\\"]"')  # brackets in strings are no nesting
    assert untrusted_json.depth(text) == levels == untrusted_json.depth(text.encode())
    if levels > untrusted_json.MAX_DEPTH:
        with pytest.raises(untrusted_json.TooDeep):
            untrusted_json.loads(text)
    else:
        assert untrusted_json.loads(text) == json.loads(text)


def _regex_depth(document) -> int:
    """``depth`` by the regular expressions alone, the way every text was counted before
    text without a backslash took the bytes operations (``_plain_depth``)."""
    kind = bytes if isinstance(document, bytes | bytearray) else str
    strings, others = untrusted_json._STRING[kind], untrusted_json._NOT_BRACKET[kind]
    brackets = others.sub(kind(), strings.sub(kind(), document))
    return max(accumulate(map(untrusted_json._STEP.__getitem__, brackets)), default=0)


# Text of any shape, JSON or not: brackets, quotes (paired or not), backslashes,
# non-ASCII and lone surrogates among other characters.
STRUCTURE_TEXT = st.text(
    st.sampled_from('[]{}"\\ a,:é€😀') | st.characters(), max_size=60
) | st.builds("".join, st.lists(st.sampled_from(['"', "[", "]", "{", "}", "x"]), max_size=40))


@hypothesis_settings(max_examples=2000, deadline=None)
@given(text=STRUCTURE_TEXT)
@example(text='"[" [')
@example(text='["]')
@example(text='{"a":"[[[[","b":[{}]}')
@example(text='"\udc80[')
def test_depth_of_any_text_is_the_regular_expressions_count(text):
    expected = _regex_depth(text)
    assert untrusted_json.depth(text) == expected
    assert untrusted_json.depth(bytearray(text.encode("utf-8", "surrogatepass"))) == expected
    if all(not 0xD800 <= ord(c) <= 0xDFFF for c in text):  # UTF-8 has no lone surrogate
        assert untrusted_json.depth(text.encode()) == _regex_depth(text.encode()) == expected


@pytest.mark.parametrize("where", ["post", "get", "get-extensions", "fast"])
async def test_deep_json_is_bad_user_input_at_every_http_door(client, where):
    deep = f'{{"a": {DEEP}}}'
    if where == "post":
        body = f'{{"query": "{{ __typename }}", "variables": {deep}}}'
        answer = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
    elif where == "fast":  # the shape the fast path reads: publishedPolicy, no key
        body = (
            '{"query": "query($s: String!) { publishedPolicy(site: $s) { version } }",'
            f' "variables": {deep}}}'
        )
        answer = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
    else:
        member = "variables" if where == "get" else "extensions"
        answer = await client.get("/graphql", params={"query": "{ __typename }", member: deep})
    assert answer.status_code == 400, answer.text
    assert error_codes(answer.json()) == ["BAD_USER_INPUT"], answer.text


def test_a_deep_banner_cookie_is_no_record():
    # The privacy center reads the visitor's cookie (server.site.record): 4 KB of "["
    # was a RecursionError there, under every page of the center.
    cookie = f"{record.NAME}={'[' * 2000}".encode()
    request = Request({"type": "http", "headers": [(b"cookie", cookie)]})
    assert record.read(request) is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
MESSAGES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["subscribe", "complete", "ping", "pong", "next", "x"])},
        optional={
            "id": JSON_VALUES | st.text(max_size=3),
            "payload": JSON_VALUES
            | st.fixed_dictionaries(
                {},
                optional={
                    "query": JSON_VALUES | st.just("{ __typename }"),
                    "variables": JSON_VALUES,
                    "operationName": JSON_VALUES,
                },
            ),
        },
    ),
)


async def test_socket_messages_of_any_shape_are_answered_not_dropped(settings):
    loop = asyncio.get_running_loop()
    async with serve(settings) as http:
        url = f"ws://127.0.0.1:{http.base_url.port}/graphql"

        async def exchange(message: str):
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
                await socket.send(json.dumps({"type": "connection_init"}))
                assert json.loads(await socket.recv())["type"] == "connection_ack"
                await socket.send(message)
                # A ping after it: the pong says the server read the message and kept the
                # socket, where waiting out 2 s of silence after each message that gets
                # no answer (a `pong`, a `complete` of nothing) took most of this test.
                await socket.send(json.dumps({"type": "ping"}))
                running = '"subscribe"' in message  # may start an operation (or not: waited out)
                ponged = False
                try:
                    while True:  # answers until the server is done with it or closes
                        reply = json.loads(await asyncio.wait_for(socket.recv(), 2))
                        ponged = ponged or reply["type"] == "pong"
                        running = running and reply["type"] not in ("error", "complete")
                        if ponged and not running:  # an operation's end is awaited too
                            return None
                except TimeoutError:
                    return None  # still open: a valid message that awaits no answer
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd is not None else 1006

        @hypothesis_settings(
            max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(MESSAGES)
        @example({"type": "subscribe", "id": "1", "payload": None})
        @example({"type": "subscribe", "id": {"a": 1}, "payload": {"query": "{ __typename }"}})
        @example([])
        def check(message):
            text = json.dumps(message)
            code = asyncio.run_coroutine_threadsafe(exchange(text), loop).result()
            assert code in (None, 4400), (text, code)

        await loop.run_in_executor(None, check)
        for text in (DEEP, f'{{"type": "subscribe", "id": "1", "payload": {DEEP}}}'):
            assert await exchange(text) == 4400
    log = (settings.data_dir / f"serve-{http.base_url.port}.log").read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/graphql", b"application/json"),
        ("/t/acme/privacy/choices", b"application/x-www-form-urlencoded"),
    ],
)
async def test_a_caller_gone_mid_body_is_not_logged_as_a_failure(app, api, caplog, path, media):
    """A client that hangs up half way through its body (a dropped connection, or anyone
    at will) is nothing the operator must look at: not an ERROR with a traceback per
    request, which a caller could repeat to flood the log and hide real failures."""
    _, owner = await create_tenant(api, slug="acme")
    await publish(api, owner, (await create_draft(api, owner))["id"])
    messages = [{"type": "http.request", "body": b'{"query": "{ viewer', "more_body": True}]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    headers = [(b"content-type", media), (b"host", b"testserver")]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("203.0.113.9", 1234),
        "server": ("testserver", 80),
    }  # fmt: skip
    caplog.clear()
    await app(scope, receive, send)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert sent or path == "/graphql"  # the site's page was reached, not refused before
