"""GraphQL over WebSocket (graphql-transport-ws) through the gate.

A socket is a transport like HTTP: each ``subscribe`` message is an operation that
passes the gate (``server.gate``) with the socket's ``Caller``. So every query,
mutation and subscription sent over a socket is authenticated again (a key revoked
since the last one is refused at once), checked by the origin policy, the text rule and
the document limits, and charged to the same buckets, by the same table, as over HTTP.

Bounds (per process): ``MAX_OPERATIONS_PER_SOCKET`` operations in flight on one socket,
and ``MAX_SUBSCRIPTIONS_PER_CALLER`` subscriptions per key (per client IP without one);
messages are at most ``CHARTER_MAX_BODY_BYTES`` (uvicorn closes with 1009, `charter
serve` sets its ``ws_max_size``), as HTTP bodies are.

Revocation is heard over pub/sub (``tenants.live.REVOKED``): every subscription of the
revoked key ends at once with an ``UNAUTHENTICATED`` error, and its socket's next
operation is refused. When the process's feed was lost (it may have missed one), every
socket's key is checked again.

The handshake accepts any Origin: browsers on a tenant's domain may open a socket, and
what a socket may do is decided per operation by the gate's origin policy, the one CORS
applies (a publishable key only from its tenant's domains). Credentials never ride on
cookies here, so a page on another origin gains nothing a script could not do itself.

Only graphql-transport-ws is spoken. The legacy ``graphql-ws`` subprotocol
(subscriptions-transport-ws, unmaintained since 2021) is off: one protocol, one path
through the gate.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter, defaultdict

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from server import execution, limits
from server.gate import Caller, Gate, Operation, Refused

log = logging.getLogger("charter.websocket")

MAX_OPERATIONS_PER_SOCKET = 100
MAX_SUBSCRIPTIONS_PER_CALLER = 1000
SHUTDOWN_SECONDS = 5.0


def _coded(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class Sockets:
    """This process's open sockets: by key, for revocation; subscriptions per caller."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate
        self._by_key: dict[str, set[GatedSocket]] = defaultdict(set)
        self._subscriptions: Counter[str] = Counter()
        self._tasks: set[asyncio.Task] = set()

    def join(self, socket: GatedSocket) -> None:
        key = socket.key_id
        if key is not None:
            self._by_key[key].add(socket)

    def leave(self, socket: GatedSocket) -> None:
        key = socket.key_id
        if key is not None and key in self._by_key:
            self._by_key[key].discard(socket)
            if not self._by_key[key]:
                del self._by_key[key]

    def take(self, who: str) -> bool:
        if self._subscriptions[who] >= MAX_SUBSCRIPTIONS_PER_CALLER:
            return False
        self._subscriptions[who] += 1
        return True

    def release(self, who: str) -> None:
        self._subscriptions[who] -= 1
        if self._subscriptions[who] <= 0:
            del self._subscriptions[who]

    def revoked(self, key_id: str) -> None:
        """A key was revoked (heard over pub/sub, or in this process at once)."""
        for socket in list(self._by_key.get(key_id, ())):
            self._spawn(socket.end_all("the API key or token is unknown or revoked"))

    def recheck(self) -> None:
        """The feed may have missed a revocation: every socket's key is checked again."""
        for sockets in list(self._by_key.values()):
            for socket in list(sockets):
                self._spawn(socket.recheck())

    def _spawn(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class GatedSocket(BaseGraphQLTransportWSHandler):
    """strawberry's graphql-transport-ws handler, with every operation sent through the
    gate and run under its own admission."""

    @property
    def caller(self) -> Caller | None:
        return getattr(self.context, "caller", None)

    @property
    def key_id(self) -> str | None:
        key = self.context.principal.key
        return str(key.id) if key is not None else None

    @property
    def sockets(self) -> Sockets:
        return self.view.sockets

    async def handle_connection_init(self, message) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.sockets.join(self)

    async def shutdown(self) -> None:
        """strawberry's, but the socket's end waits at most SHUTDOWN_SECONDS for its
        operations' tasks to finish cancelling: one that does not (seen with a socket
        closed while a hundred operations were being admitted) must not keep the
        connection, and the server's shutdown, waiting for ever."""
        self.sockets.leave(self)
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.connection_init_timeout_task
        tasks = [operation.task for operation in self.operations.values() if operation.task]
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_SECONDS)
            if pending:
                log.warning("%d socket operations did not finish cancelling", len(pending))

    async def handle_message(self, message) -> None:
        """strawberry's dispatch, once the message has graphql-transport-ws's shape: a
        message of any other shape (not an object, no string ``type``, a ``subscribe``
        without a string ``id`` and an object ``payload``) closes the socket with 4400,
        as the protocol says, instead of failing in the handler (a TypeError there
        dropped the connection with no close frame)."""
        problem = _invalid(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message) -> None:
        if self.connection_acknowledged and len(self.operations) >= MAX_OPERATIONS_PER_SOCKET:
            error = _coded(
                "RATE_LIMITED", f"at most {MAX_OPERATIONS_PER_SOCKET} operations per socket"
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def run_operation(self, operation) -> None:
        try:
            admission = await self.view.gate.admit(self.caller, _operation(operation))
        except Refused as refused:
            await operation.send_initial_errors(refused.errors)
            return
        except Exception:
            log.exception("the gate failed on a socket operation")
            await operation.send_initial_errors([_coded("INTERNAL_SERVER_ERROR", "try again")])
            return
        if admission.kind != "subscription":
            try:
                return await execution.shielded(admission, self._execute(operation, admission))
            except asyncio.CancelledError:
                # A ``complete`` or a closed socket: a mutation goes on to its end
                # (``execution.shielded``), and nothing more is sent for it.
                operation.completed = True
                raise
        who = self.key_id or f"ip:{limits.client_network(self.caller.ip)}"
        if not self.sockets.take(who):
            message = f"at most {MAX_SUBSCRIPTIONS_PER_CALLER} subscriptions per key or address"
            await operation.send_initial_errors([_coded("RATE_LIMITED", message)])
            return
        try:
            await self._execute(operation, admission)
        finally:
            self.sockets.release(who)

    async def _execute(self, operation, admission) -> None:
        context = dataclasses.replace(
            self.context, principal=admission.principal, rejected=False, admission=admission
        )
        try:
            source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(source):
                first = True
                async for result in source:
                    if first and isinstance(result, PreExecutionError):
                        await operation.send_initial_errors(result.errors)
                        return
                    if not isinstance(result, ExecutionResult):
                        message = "incremental delivery is not supported over graphql-transport-ws"
                        await operation.send_initial_errors([GraphQLError(message)])
                        return
                    await operation.send_next(result)
                    first = False
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a socket operation failed")
            with contextlib.suppress(Exception):
                error = _coded("INTERNAL_SERVER_ERROR", "Internal server error")
                await operation.send_initial_errors([error])

    async def end_all(self, reason: str) -> None:
        """Every operation of this socket ends with UNAUTHENTICATED (its key is gone)."""
        error = _coded("UNAUTHENTICATED", reason)
        for operation in list(self.operations.values()):
            with contextlib.suppress(Exception):
                await operation.send_initial_errors([error])
            if operation.task is not None:
                operation.task.cancel()

    async def recheck(self) -> None:
        _, rejected = await self.view.gate.authenticate(self.caller)
        if rejected:
            await self.end_all("the API key or token is unknown or revoked")


def _invalid(message: object) -> str | None:
    """Why ``message`` is no graphql-transport-ws message, or None (PROTOCOL.md: every
    message is an object with a string ``type``; ``subscribe`` and ``complete`` carry a
    string ``id``, ``subscribe`` an object ``payload``, the others an optional one)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message is an object with a string type"
    kind = message["type"]
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"a {kind} message has a string id"
    payload = message.get("payload")
    if kind == "subscribe" and not isinstance(payload, dict):
        return "a subscribe message has an object payload"
    if payload is not None and not isinstance(payload, dict):
        return "a message's payload is an object"
    return None


def _operation(operation) -> Operation:
    """The message's payload as the gate's Operation; shapes no client sends are refused
    as the gate refuses a document (strawberry passes them on as they came)."""
    query, variables, name = operation.query, operation.variables, operation.operation_name
    if not isinstance(query, str):
        query = None
    if variables is not None and not isinstance(variables, dict):
        raise Refused.of("BAD_USER_INPUT", "variables must be an object")
    if name is not None and not isinstance(name, str):
        raise Refused.of("BAD_USER_INPUT", "operationName must be a string")
    return Operation(query, variables, name)
