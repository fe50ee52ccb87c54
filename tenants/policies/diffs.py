"""Unified diffs of two policy bodies, computed off the event loop.

difflib is quadratic on some inputs: a body of 10,000 numbered lines against the same
lines with a new one after each takes 11 s. Bodies are up to a million characters, so
the diff runs in a worker process within ``offload.BUDGET`` CPU seconds; past it the caller gets
TOO_COMPLEX instead of a stalled server.
"""

from __future__ import annotations

import difflib

from tenants import offload
from tenants.errors import DomainError, ErrorCode
from tenants.tenancy.models import Tenant

__all__ = ["between", "unified"]


def unified(before: str, after: str, fromfile: str, tofile: str) -> str:
    """The unified diff (``diff -u``) of ``before`` and ``after``, line by line."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=fromfile,
        tofile=tofile,
    )
    return "".join(lines)


async def between(*, tenant: Tenant, before: str, after: str, fromfile: str, tofile: str) -> str:
    """``unified`` in a worker process; DomainError TOO_COMPLEX past the budget."""
    try:
        return await offload.run(unified, before, after, fromfile, tofile, lane=tenant.id)
    except offload.TooSlow as error:
        raise DomainError.one(
            ErrorCode.TOO_COMPLEX,
            f"the diff {error}; compare the two bodies with a tool of your own",
            "diff",
        ) from error
