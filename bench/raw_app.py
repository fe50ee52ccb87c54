"""The edge benchmark's floor: a bare Starlette app answering one constant JSON body.

    .venv/bin/python -m uvicorn bench.raw_app:app --port P --log-level warning

`BENCH_RAW_BYTES` sets the body's size (default 4096), so it can match the size of the
`publishedPolicy` answer it is compared with. `GET /graphql` answers it, whatever the
query string.
"""

from __future__ import annotations

import json
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def constant_body(size: int) -> bytes:
    """A GraphQL-shaped JSON document of exactly ``size`` bytes (at least ~100)."""
    shell = {"data": {"publishedPolicy": {"version": 1, "title": "Privacy", "body": ""}}}
    padding = max(0, size - len(json.dumps(shell, separators=(",", ":"))))
    words = ("lorem ipsum dolor sit amet " * (padding // 27 + 1))[:padding]
    shell["data"]["publishedPolicy"]["body"] = words
    return json.dumps(shell, separators=(",", ":")).encode()


BODY = constant_body(int(os.environ.get("BENCH_RAW_BYTES", "4096")))


async def graphql(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["GET"])])
