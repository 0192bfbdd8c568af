"""A customer's custom attributes as the card, the why and the segment JSON show them (pure)."""

from __future__ import annotations

from typing import Any

from discovery.catalogue import Catalogue
from discovery.query import AudienceQuery


def attribute_values(row: Any) -> dict[str, Any]:
    """The `attributes` object of an enrich row (compile.enrich_sql), empty when it has none."""
    values = getattr(row, "attributes", None)
    return dict(values) if isinstance(values, dict) else {}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "unknown"
    return str(value)


def attribute_reasons(values: dict[str, Any], q: AudienceQuery) -> list[str]:
    """One phrase per attribute the query filtered on: "loyalty tier gold", "lifetime orders 12"."""
    return [f"{a.name.replace('_', ' ')} {_shown(values.get(a.name))}" for a in q.attributes if a.name in values]


def attributes_line(cat: Catalogue) -> str:
    """The custom attributes for the agent's prompt (one line; empty when the data has none)."""
    lines = ""
    for scope, argument in (("customer", "attributes"), ("event", "event_attributes")):
        shown = [a.describe() for a in cat.attributes if a.filterable and a.scope == scope]
        if shown:
            lines += f"\nCustom {scope} attributes (hybrid_discovery `{argument}`): " + "; ".join(shown) + "."
    return lines


def attributes_table_line(cat: Catalogue) -> str:
    """customer_attributes for the text-to-SQL prompt (empty when the data has none)."""
    cols = [f"{a.name} {a.type}" for a in cat.attributes if not a.pii and a.scope == "customer"]
    events = [f"{a.name} {a.type}" for a in cat.attributes if not a.pii and a.scope == "event"]
    out = ""
    if cols:
        out += (
            f"\ncustomer_attributes(customer_id bigint, {', '.join(cols)})  -- custom attributes, one row per customer"
        )
    if events:
        out += f"\nevents also has: {', '.join(events)}"
    return out
