"""How big an operation may be, measured from its parsed document in time linear in
the document's size: depth, aliases, fields, repeated fields, cost and charge.

Each fragment is measured once and remembered, so a spread costs a lookup however
often the fragment is spread (``...F0`` fanning out twenty levels deep measures in
microseconds, where walking each path would take hours). Totals saturate just past
their limit, so no count grows beyond what a refusal needs, and the first limit
passed ends the walk. strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` walk
every path through every fragment, which is what made fan-out exponential; graphql-core's
visitor does not follow spreads at all, so the walk here is our own.

What the limits bound is what graphql-core's validation then spends: at most
``MAX_REPEATS`` fields share a response name in one selection set and at most
``MAX_WIDTH`` names appear in one, so its overlapping-fields rule (quadratic in same-name
fields) stays small; introspection subtrees count no depth and no cost of their own
(``schema.costs`` prices them whole) and are bounded by ``MaxIntrospectionDepthRule``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from schema import costs

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_FIELDS",
    "MAX_REPEATS",
    "MAX_WIDTH",
    "Measured",
    "TooComplex",
    "measure",
]

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_FIELDS = 2000  # field selections once fragments are expanded
MAX_REPEATS = 25  # fields sharing one response name in one selection set
MAX_WIDTH = 120  # response names in one selection set


class TooComplex(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "QUERY_TOO_COMPLEX"})


@dataclass(frozen=True)
class Measured:
    """One operation's measures. ``charge`` is in rate-limit units (``schema.costs``)."""

    operation: str  # "query", "mutation" or "subscription"
    depth: int
    cost: int
    charge: int
    introspection: bool  # selects __schema or __type somewhere
    # Each `site` the root fields name, ("literal", v) or ("variable", name), with the
    # charge of the root fields naming it, in the document's order.
    sites: tuple[tuple[tuple[str, str], int], ...]
    uses_variables: bool  # a page size came from the variables: not cacheable by text


@dataclass
class _Sum:
    depth: int = 0
    cost: int = 0
    aliases: int = 0
    fields: int = 0
    repeats: int = 0
    introspection: bool = False
    variables: bool = False  # a page size below came from a variable
    # This set's own fields, fragments expanded: (response name, field, site) -> count.
    level: Counter = field(default_factory=Counter)

    def absorb(self, other: _Sum, *, same_level: bool) -> None:
        self.depth = max(self.depth, other.depth)
        self.cost += other.cost
        self.aliases += other.aliases
        self.fields += other.fields
        self.repeats = max(self.repeats, other.repeats)
        self.introspection |= other.introspection
        self.variables |= other.variables
        if same_level:
            self.level.update(other.level)


class _Walk:
    """One document's walk. Fragments are remembered across its operations, except those
    whose page sizes came from variables (another operation's defaults may differ)."""

    def __init__(self, schema, fragments, variables, budget: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults: dict = {}
        self.budget = budget
        self.memo: dict[tuple[str, bool], _Sum] = {}
        self.open: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> _Sum:
        self.defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
        self.memo = {key: found for key, found in self.memo.items() if not found.variables}
        root = self.schema.get_root_type(operation.operation)
        return self.selection_set(operation.selection_set, root, True)

    def selection_set(self, selections: SelectionSetNode, parent, priced: bool) -> _Sum:
        total = _Sum()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total.absorb(self.field(selection, parent, priced), same_level=False)
                total.level[_key(selection)] += 1
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                owner = self.schema.get_type(condition.name.value) if condition else parent
                inner = self.selection_set(selection.selection_set, owner, priced)
                total.absorb(inner, same_level=True)
            elif isinstance(selection, FragmentSpreadNode):
                total.absorb(self.spread(selection.name.value, priced), same_level=True)
            self.check(total)
        if len(total.level) > MAX_WIDTH:
            raise TooComplex(f"a selection set asks for more than {MAX_WIDTH} fields")
        names = Counter()
        for (name, _, _), count in total.level.items():
            names[name] += count
        total.repeats = max(total.repeats, max(names.values(), default=0))
        self.check(total)
        return total

    def field(self, node: FieldNode, parent, priced: bool) -> _Sum:
        name = node.name.value
        price = costs.of(getattr(parent, "name", None), name)
        definition = getattr(parent, "fields", {}).get(name) if parent is not None else None
        below = _Sum()
        if node.selection_set is not None:
            child = get_named_type(definition.type) if definition is not None else None
            below = self.selection_set(node.selection_set, child, priced and price.walk)
        own = _Sum(
            aliases=below.aliases + (node.alias is not None),
            fields=below.fields + 1,
            repeats=below.repeats,
            introspection=below.introspection or name in ("__schema", "__type"),
            variables=below.variables,
        )
        if priced:
            own.depth = below.depth + 1 if price.walk else 1
            page, from_variable = self.page(node, definition, price)
            own.cost = price.complexity + below.cost * page
            own.variables |= from_variable
        own.cost = min(own.cost, self.budget + 1)
        return own

    def spread(self, name: str, priced: bool) -> _Sum:
        key = (name, priced)
        known = self.memo.get(key)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:  # unknown or cyclic: validation says so
            return _Sum()
        self.open.add(name)
        owner = self.schema.get_type(fragment.type_condition.name.value)
        found = self.memo[key] = self.selection_set(fragment.selection_set, owner, priced)
        self.open.discard(name)
        return found

    def page(self, node: FieldNode, definition, price: costs.FieldCost) -> tuple[int, bool]:
        """How many times the field's children are paid for, and whether a variable said."""
        if definition is None:
            return 1, False
        if any(argument in definition.args for argument in costs.PAGE_ARGUMENTS):
            sizes = [self.argument(node, name) for name in costs.PAGE_ARGUMENTS]
            asked = [size for size, _ in sizes if isinstance(size, int) and size > 0]
            from_variable = any(variable for _, variable in sizes)
            return (max(asked) if asked else costs.DEFAULT_PAGE), from_variable
        kind = definition.type
        kind = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
        if isinstance(kind, GraphQLList) and node.name.value != "edges":  # edges: paid by first
            return price.items or costs.LIST_GUESS, False
        return 1, False

    def argument(self, node: FieldNode, name: str) -> tuple[int | None, bool]:
        value = next((a.value for a in node.arguments or () if a.name.value == name), None)
        if isinstance(value, VariableNode):
            variable = value.name.value
            if variable in self.variables:
                given = self.variables[variable]
                usable = isinstance(given, int) and not isinstance(given, bool)
                return (given if usable else None), True
            value = self.defaults.get(variable)  # the operation's default, as execution uses
            return (int(value.value) if isinstance(value, IntValueNode) else None), True
        return (int(value.value) if isinstance(value, IntValueNode) else None), False

    def check(self, total: _Sum) -> None:
        """Ends the walk at the first limit passed."""
        if total.cost > self.budget:
            raise TooComplex(f"the query would cost more than {self.budget}")
        if total.depth > MAX_DEPTH:
            raise TooComplex(f"the query is more than {MAX_DEPTH} levels deep")
        if total.aliases > MAX_ALIASES:
            raise TooComplex(f"the query has more than {MAX_ALIASES} aliases")
        if total.fields > MAX_FIELDS:
            raise TooComplex(f"the query selects more than {MAX_FIELDS} fields")
        if total.repeats > MAX_REPEATS:
            raise TooComplex(f"a selection repeats one field more than {MAX_REPEATS} times")


MAX_OPERATIONS = 50  # operations in one document (GraphiQL sends its whole editor)


def measure(
    schema: GraphQLSchema, document, variables: dict | None, *, budget: int
) -> dict[OperationDefinitionNode, Measured]:
    """Each operation's measures. Every operation and every fragment of the document is
    held to the limits, executed or not: validation walks them all. Raises TooComplex
    at the first limit passed."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > MAX_OPERATIONS:
        raise TooComplex(f"the document holds more than {MAX_OPERATIONS} operations")
    walk = _Walk(schema, fragments, variables or {}, budget)
    found = {operation: _measured(walk, operation) for operation in operations}
    spare = _Sum()  # fragments no operation spreads: validation walks them too
    for name, fragment in fragments.items():
        if (name, True) not in walk.memo and (name, False) not in walk.memo:
            owner = schema.get_type(fragment.type_condition.name.value)
            spare.absorb(walk.selection_set(fragment.selection_set, owner, True), same_level=False)
            walk.check(spare)
    return found


def _measured(walk: _Walk, operation: OperationDefinitionNode) -> Measured:
    total = walk.operation(operation)
    kind = operation.operation.value
    root = walk.schema.get_root_type(operation.operation)
    charge, sites = 0, {}
    for (_, name, site), count in total.level.items():
        price = costs.of(getattr(root, "name", None), name)
        units = count * (price.charge if price.charge is not None else costs.DEFAULT_CHARGE[kind])
        charge += units
        if site is not None:
            sites[site] = sites.get(site, 0) + units
    return Measured(
        operation=kind,
        depth=total.depth,
        cost=total.cost,
        charge=max(1, charge),
        introspection=total.introspection,
        sites=tuple(sites.items()),
        uses_variables=total.variables,
    )


def _key(node: FieldNode) -> tuple[str, str, tuple | None]:
    """A field as its selection set counts it: response name, field name, and the
    `site` it names, if any (the rate limiter's bucket for public reads)."""
    site = next((a.value for a in node.arguments or () if a.name.value == "site"), None)
    if isinstance(site, VariableNode):
        named = ("variable", site.name.value)
    elif site is not None and isinstance(getattr(site, "value", None), str):
        named = ("literal", site.value)
    else:
        named = None
    return ((node.alias or node.name).value, node.name.value, named)
