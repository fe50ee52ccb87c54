"""Waiting for a subscription to be live. graphql-transport-ws acknowledges no
`subscribe`: a subscription listens some moment after its message (once the gate admitted
it and its resolver runs), and an event raised before that moment is not delivered.
Sleeping a fixed half second for it is a race a loaded machine loses now and then, so
``until_heard`` raises events until every socket has heard one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

TRY_SECONDS = 3.0  # how long one event is waited for before another is raised
TRIES = 10


async def _message(ws, seconds: float) -> dict | None:
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), seconds))
            if message.get("type") != "ping":
                return message
    except TimeoutError:  # cancelling a websockets `recv` loses no message
        return None


async def until_heard(sockets: list, act: Callable[[int], Awaitable[None]]) -> list[dict]:
    """Calls ``act(0)``, ``act(1)``, ... (each raises one event) until each socket of
    ``sockets`` received a message; returns each socket's first message."""
    heard: dict[int, dict] = {}
    for attempt in range(TRIES):
        await act(attempt)
        for index, ws in enumerate(sockets):
            if index not in heard and (message := await _message(ws, TRY_SECONDS)) is not None:
                heard[index] = message
        if len(heard) == len(sockets):
            return [heard[index] for index in range(len(sockets))]
    raise AssertionError(f"{len(sockets) - len(heard)} of {len(sockets)} sockets heard nothing")
