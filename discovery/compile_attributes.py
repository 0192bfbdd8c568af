"""Custom attribute conditions → parameterized SQL (pure). Names are identifiers the query
model's pattern checked (lower-case letters, digits, _), always quoted; values are bound."""

from __future__ import annotations

import re

from discovery.query import ATTRIBUTE_NAME, AttributeCondition

ATTRIBUTES_TABLE = "customer_attributes"  # ingest/attributes.py: one typed column per attribute
ATTRIBUTE_NAME_RE = re.compile(ATTRIBUTE_NAME)


def attribute_conditions(
    conditions: list[AttributeCondition], alias: str = "a", prefix: str = "attr"
) -> tuple[list[str], dict]:
    """Typed conditions on customer_attributes; names are checked identifiers (the model's
    pattern), quoted; values are bound parameters."""
    conds, params = [], {}
    for i, a in enumerate(conditions):
        col = f'{alias}."{a.name}"'
        if a.values:
            params[f"{prefix}{i}_values"] = list(a.values)
            test = f"{col} = ANY(:{prefix}{i}_values)"
            conds.append(f"COALESCE(NOT ({test}), TRUE)" if a.exclude else test)
        for op, sql_op in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
            if (bound := getattr(a, op)) is not None:
                params[f"{prefix}{i}_{op}"] = bound
                conds.append(f"{col} {sql_op} :{prefix}{i}_{op}")
    return conds, params


def attributes_clause(conditions: list[AttributeCondition]) -> tuple[str, dict]:
    """The customers whose attributes meet every condition: one semi-join on the side table
    (its per-attribute indexes serve equals, in and ranges)."""
    conds, params = attribute_conditions(conditions)
    return f"c.customer_id IN (SELECT a.customer_id FROM {ATTRIBUTES_TABLE} a WHERE {' AND '.join(conds)})", params
