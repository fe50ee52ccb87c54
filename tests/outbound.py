"""Real peers for outbound tests: an SMTP server (aiosmtpd), a webhook receiver (uvicorn),
and a drain that runs the worker's delivery in-process until nothing is due."""

from __future__ import annotations

import asyncio
import contextlib
import email
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import Message

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tenants.outbound import delivery


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """Collects what the SMTP server receives (it runs in its own thread)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def received(self) -> list[Message]:
        with self._lock:
            return list(self.messages)


@contextlib.contextmanager
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@dataclass
class Receiver:
    """A webhook receiver that fails the first ``failures`` calls with a 503."""

    failures: int = 0
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    async def endpoint(self, request: Request) -> Response:
        self.calls.append((dict(request.headers), await request.body()))
        if len(self.calls) <= self.failures:
            return Response(status_code=503)
        return Response(status_code=204)


@contextlib.asynccontextmanager
async def webhook_receiver(failures: int = 0):
    receiver = Receiver(failures=failures)
    port = free_port()
    app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    receiver.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


async def drain(*, smtp_port: int | None = None, rounds: int = 50) -> None:
    """Deliver until nothing is due, waiting out (short) backoffs in between."""
    async with httpx.AsyncClient() as http:
        channels = delivery.Channels(
            mailer=delivery.Mailer(
                host="127.0.0.1" if smtp_port else None,
                port=smtp_port or 25,
                tls="off",
                user=None,
                password=None,
                sender="Charter <no-reply@charter.test>",
            ),
            http=http,
            allow_private_webhooks=True,
            max_attempts=4,
            backoff_base=timedelta(milliseconds=20),
        )
        for _ in range(rounds):
            due = await delivery.due(
                limit=500,
                now=datetime.now(UTC) + timedelta(seconds=1),
                email_enabled=bool(smtp_port),
            )
            if not due:
                return
            for message_id, _ in due:
                await delivery.deliver(message_id, channels)
            await asyncio.sleep(0.05)
