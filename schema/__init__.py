"""The GraphQL schema: Query and Mutation assembled from one module per domain."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxTokensLimiter

from schema.audit import AuditQuery
from schema.breaches import BreachesMutation, BreachesQuery
from schema.consent import ConsentMutation, ConsentQuery
from schema.errors import CodedErrors, log_unexpected
from schema.limits import QueryLimits
from schema.live import Subscription
from schema.outbound import OutboundMutation, OutboundQuery
from schema.policies import PoliciesMutation, PoliciesQuery
from schema.rules import RulesQuery
from schema.subject_requests import SubjectRequestsMutation, SubjectRequestsQuery
from schema.tenancy import TenancyMutation, TenancyQuery


@strawberry.type
class Query(
    TenancyQuery,
    PoliciesQuery,
    ConsentQuery,
    SubjectRequestsQuery,
    BreachesQuery,
    OutboundQuery,
    AuditQuery,
    RulesQuery,
):
    pass


@strawberry.type
class Mutation(
    TenancyMutation,
    PoliciesMutation,
    ConsentMutation,
    SubjectRequestsMutation,
    BreachesMutation,
    OutboundMutation,
):
    pass


MAX_TOKENS = 5000


class CharterSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Expected errors (userErrors aside) are the client's business; log only the rest.
        log_unexpected(errors)


schema = CharterSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        QueryLimits,
        CodedErrors,
    ],
)


def sdl() -> str:
    return schema.as_str() + "\n"
