"""What an operation costs: one table, read by the query limits and the rate limiter.

Modelled on Saleor's ``query_cost_map``: a field costs ``complexity`` units, plus what is
under it times its page (a connection's ``first``/``last``, asked or default; a plain
list: its ``items`` cap where the server caps it, as ``nodes(ids:)``, else
``LIST_GUESS``). The sum must stay within the budget (``MAX_COST``, or the tenant's
``max_cost``), or the document is refused with QUERY_TOO_COMPLEX.

The same table says what an executed operation is charged against the caller's
rate-limit buckets: each root field selected (each alias counts) adds its ``charge``,
by default ``DEFAULT_CHARGE`` for its operation type. So a mutation costs 5, a batch of
consents 50, and thirty aliases of ``verifyConsentLedger`` cost thirty times one.

Fields not listed cost the defaults. Introspection fields are priced here too: their
subtrees are bounded by graphql-core's ``MaxIntrospectionDepthRule`` instead of
counted field by field, so the standard introspection query of every client fits.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["COSTS", "DEFAULT_CHARGE", "DEFAULT_PAGE", "LIST_GUESS", "MAX_COST", "FieldCost", "of"]

MAX_COST = 5000
DEFAULT_PAGE = 20  # a connection asked for no page size pays for the server's default
LIST_GUESS = 5  # a plain list (translations, clocks): a few items, paid for as such
PAGE_ARGUMENTS = ("first", "last")  # Relay's page sizes; a field taking one is a connection
DEFAULT_CHARGE = {"query": 1, "mutation": 5, "subscription": 1}


@dataclass(frozen=True)
class FieldCost:
    complexity: int = 1  # units for the field itself
    charge: int | None = None  # rate-limit units when selected at the root; None: default
    walk: bool = True  # False: the subtree is priced by `complexity` alone
    items: int | None = None  # a plain list the server caps: its children paid this often


DEFAULT = FieldCost()
INTROSPECTION = FieldCost(complexity=500, charge=10, walk=False)  # the whole schema, ~20 ms

COSTS: dict[str, dict[str, FieldCost]] = {
    "Query": {
        # Walks and re-hashes the tenant's whole ledger (about 60 µs an event).
        "verifyConsentLedger": FieldCost(complexity=500, charge=50),
        "__schema": INTROSPECTION,
        "__type": FieldCost(complexity=10, walk=False),
        # Relay's refetch by id (schema.nodes): a lookup per kind of node, at most MAX_IDS ids.
        "node": FieldCost(complexity=5),
        "nodes": FieldCost(complexity=5, items=20),
    },
    "Mutation": {
        "recordConsents": FieldCost(charge=50),  # up to 1000 events, one chain lock
    },
    # A whole person's data, decrypted and parsed on the loop when selected: a page of
    # them is refused (100 cost 5000) and 20 cost 1000.
    "SubjectRequest": {"export": FieldCost(complexity=50)},
}


def of(type_name: str | None, field_name: str) -> FieldCost:
    if type_name is None:
        return DEFAULT
    return COSTS.get(type_name, {}).get(field_name, DEFAULT)
