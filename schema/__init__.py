"""The GraphQL schema: Query and Mutation assembled from one module per domain."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.audit import AuditQuery
from schema.branding import BrandingMutation, BrandingQuery
from schema.breaches import BreachesMutation, BreachesQuery
from schema.coerced import CoercedExecution
from schema.consent import ConsentMutation, ConsentQuery, consent_item
from schema.converted import convert_in_one_pass
from schema.documents import GateDocuments
from schema.errors import CodedErrors, log_unexpected
from schema.ledger import LedgerMutation, LedgerQuery
from schema.live import Subscription
from schema.nodes import NodeQuery
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
    LedgerQuery,
    SubjectRequestsQuery,
    SubjectAssertionsQuery,
    BreachesQuery,
    OutboundQuery,
    AuditQuery,
    RulesQuery,
    BrandingQuery,
    NodeQuery,
):
    pass


@strawberry.type
class Mutation(
    TenancyMutation,
    PoliciesMutation,
    ConsentMutation,
    LedgerMutation,
    SubjectRequestsMutation,
    SubjectAssertionsMutation,
    BreachesMutation,
    OutboundMutation,
    BrandingMutation,
):
    pass


class CharterSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Expected errors (userErrors aside) are the client's business; log only the rest.
        log_unexpected(errors)


# The document step of the gate (parse, limits and cost, validation: all cached) is
# schema.documents; execution takes its result. Introspection is the gate's to allow
# (server.gate): one schema for every environment.
EXTENSIONS = [GateDocuments, CodedErrors]

CONFIG = StrawberryConfig(scalar_map={datetime: DateTime})

schema = CharterSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=EXTENSIONS,
    config=CONFIG,
    execution_context_class=CoercedExecution,
)
# The one list argument long enough for strawberry's per-item conversion to show.
convert_in_one_pass(
    schema, type_name="Mutation", field_name="recordConsents", argument="inputs", item=consent_item
)


def sdl() -> str:
    return schema.as_str() + "\n"
