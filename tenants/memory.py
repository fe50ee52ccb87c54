"""In-process caches bounded in bytes as well as entries.

Clients choose what these caches hold (documents, hashes, variables, sites), so a count
alone bounds nothing: 2,048 documents of 1.9 MB each are 4 GB. Every cache a request can
fill is a ``Bounded``: least recently used entries go first once either budget is spent,
and an entry weighing more than the whole budget is never kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

__all__ = ["Bounded"]


class Bounded:
    """An LRU map holding at most ``entries`` entries weighing at most ``budget`` bytes
    together; each entry's weight is what the caller says it is."""

    def __init__(self, *, entries: int, budget: int) -> None:
        self.entries = entries
        self.budget = budget
        self.weight = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, default: Any = None) -> Any:
        found = self._items.get(key)
        if found is None:
            return default
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: Any, *, weight: int) -> None:
        if weight > self.budget:
            return  # would evict everything and still not fit
        old = self._items.pop(key, None)
        if old is not None:
            self.weight -= old[1]
        self._items[key] = (value, weight)
        self.weight += weight
        while self.weight > self.budget or len(self._items) > self.entries:
            _, (_, dropped) = self._items.popitem(last=False)
            self.weight -= dropped

    def clear(self) -> None:
        self._items.clear()
        self.weight = 0
