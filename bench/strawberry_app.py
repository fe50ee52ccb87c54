"""The bench's bare strawberry peer: `{ publishedPolicy { version title body } }` answered
with the same 4 KB object as bench.raw_app, through strawberry's own ASGI app with its
ParserCache and ValidationCache, and nothing else (no database, no limiter, no auth).

    .venv/bin/python -m uvicorn bench.strawberry_app:app --port P --log-level warning
"""

from __future__ import annotations

import json
import os

import strawberry
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

from bench.raw_app import constant_body

ANSWER = json.loads(constant_body(int(os.environ.get("BENCH_RAW_BYTES", "4096"))))
POLICY = ANSWER["data"]["publishedPolicy"]


@strawberry.type
class Policy:
    version: int
    title: str
    body: str


@strawberry.type
class Query:
    @strawberry.field
    def published_policy(self) -> Policy:
        return Policy(**POLICY)


schema = strawberry.Schema(Query, extensions=[ParserCache(), ValidationCache()])
app = GraphQL(schema, graphql_ide=None)
