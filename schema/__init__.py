"""The GraphQL schema: Query and Mutation assembled from one module per domain."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import strawberry
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
)
from strawberry.schema.config import StrawberryConfig

from schema.audit import AuditQuery
from schema.branding import BrandingMutation, BrandingQuery
from schema.breaches import BreachesMutation, BreachesQuery
from schema.consent import ConsentMutation, ConsentQuery
from schema.errors import CodedErrors, log_unexpected
from schema.limits import CachedParse, QueryLimits
from schema.live import Subscription
from schema.outbound import OutboundMutation, OutboundQuery
from schema.policies import PoliciesMutation, PoliciesQuery
from schema.rules import RulesQuery
from schema.scalars import DateTime
from schema.subject_assertions import SubjectAssertionsMutation, SubjectAssertionsQuery
from schema.subject_requests import SubjectRequestsMutation, SubjectRequestsQuery
from schema.tenancy import TenancyMutation, TenancyQuery


@strawberry.type
class Query(
    TenancyQuery,
    PoliciesQuery,
    ConsentQuery,
    SubjectRequestsQuery,
    SubjectAssertionsQuery,
    BreachesQuery,
    OutboundQuery,
    AuditQuery,
    RulesQuery,
    BrandingQuery,
):
    pass


@strawberry.type
class Mutation(
    TenancyMutation,
    PoliciesMutation,
    ConsentMutation,
    SubjectRequestsMutation,
    SubjectAssertionsMutation,
    BreachesMutation,
    OutboundMutation,
    BrandingMutation,
):
    pass


MAX_TOKENS = 5000


class CharterSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Expected errors (userErrors aside) are the client's business; log only the rest.
        log_unexpected(errors)


# Parsing and validating the same few documents again and again is much of a request's
# cost: both are cached per document. The limits run first, on the parsed document.
EXTENSIONS = [
    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    CachedParse,
    QueryLimits,  # also validates, through a cache
    CodedErrors,
]

CONFIG = StrawberryConfig(scalar_map={datetime: DateTime})

schema = CharterSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=EXTENSIONS,
    config=CONFIG,
)


@lru_cache(maxsize=1)
def production_schema() -> CharterSchema:
    """The same schema, with introspection refused: production clients know the contract."""
    return CharterSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[DisableIntrospection, *EXTENSIONS],
        config=CONFIG,
    )


def sdl() -> str:
    return schema.as_str() + "\n"
