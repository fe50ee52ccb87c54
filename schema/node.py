"""Relay's Node interface (Relay Global Object Identification spec).

Every object a client may refetch by id alone implements ``Node``: its ``id`` is a
UUID, unique across every type and tenant and meaningless to read (opaque), so it serves
as the global id as it is, and the same id stays valid in the API, webhooks, receipts and
the audit log. ``Query.node(id:)`` and ``Query.nodes(ids:)`` (``schema.nodes``) find it.
"""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a globally unique id (Relay).")
class Node:
    id: strawberry.ID
