"""Assembling the typed query: the previous (or an empty) AudienceQuery refined by one reading.

A fresh question fills an empty query. In a follow-up, countries are replaced ("only Germany")
or added ("also Austria"), excluded ("exclude Poland"); bounds, luxury, order and limit are
replaced; behaviours are appended ("also bought shoes"); a bare product replaces the products
of a single previous behaviour ("only jackets"); intent words are appended. Windows, repeats
and prices said outside any verb clause apply to every positive behaviour (with none: "any
event in the window", i.e. active customers; a bare repeat means purchases). An explicit sort
("sorted by spend") drops the semantic ranking that would override it.
"""

from __future__ import annotations

from discovery.offline.parsed import Parsed
from discovery.offline.phrases import ADD_MODE_RE
from discovery.query import AudienceQuery, Behaviour, CRMFilter


def apply(base: AudienceQuery, p: Parsed, *, followup: bool) -> AudienceQuery:
    """The previous (or an empty) query refined by what this message says."""
    crm = _merge_crm(base.crm, p, followup)
    behaviours = [b.model_copy(deep=True) for b in base.behaviours]
    new = list(zip(p.behaviours, p.verbless, strict=True))
    positives = [b for b in behaviours if not b.negate]
    single = positives[0] if followup and len(positives) == 1 else None
    if single and new and all(v and not b.negate for b, v in new) and not ADD_MODE_RE.search(p.doc.text):
        single.products = [x for b, _ in new for x in b.products]  # "only jackets"
        single.colors = [x for b, _ in new for x in b.colors] or single.colors
        p.notes.append("replaced the products of the previous behaviour")
        new = []
    for b, verbless in new:
        if single and verbless and b.negate:
            b.event_types = list(single.event_types)  # "but not socks": the same kind of event
        if single and id(b) in p.back_refs and not b.products and not b.colors:
            b.products, b.colors = list(single.products), list(single.colors)  # "... but never bought one"
            p.notes.append("the verb refers to the previous products")
        behaviours.append(b)
    _apply_loose(behaviours, p, only_unset=not followup)
    intent = base.intent
    if p.intent:
        intent = " ".join(dict.fromkeys(f"{intent or ''} {p.intent}".split())) if followup else p.intent
    if p.explicit_sort and intent:  # a semantic ranking would override the order asked for
        p.notes.append(f"sorted as asked, not by similarity to “{intent}”")
        intent = None
    return AudienceQuery(
        behaviours=behaviours,
        crm=crm,
        attributes=_merge_attributes(base, p),
        intent=intent,
        order_by=p.order_by or base.order_by,
        limit=p.limit or base.limit,
        like=base.like,  # a lookalike's seeds survive its refinements
    )


def _merge_crm(base: CRMFilter, p: Parsed, followup: bool) -> CRMFilter:
    data = base.model_dump()
    add_mode = followup and ADD_MODE_RE.search(p.doc.text) is not None
    for key, value in p.crm.items():
        if key in ("countries", "favorite_colors") and add_mode or key == "exclude_countries":
            data[key] = list(dict.fromkeys(data[key] + value))
        else:
            data[key] = value
    data["countries"] = [c for c in data["countries"] if c not in p.crm.get("exclude_countries", [])]
    data["exclude_countries"] = [c for c in data["exclude_countries"] if c not in p.crm.get("countries", [])]
    return CRMFilter(**data)


def _apply_loose(behaviours: list[Behaviour], p: Parsed, *, only_unset: bool) -> None:
    """Windows / repeats / prices said outside any verb clause apply to every (positive) behaviour."""
    if p.loose_window is None and p.loose_count is None and p.loose_price is None:
        return
    targets = [b for b in behaviours if not b.negate] or behaviours
    if not targets:
        types = p.repeat_types if p.loose_repeat and not p.loose_price else []
        targets = [Behaviour(event_types=types)]
        behaviours.extend(targets)
        p.notes.append("a time window / repeat / price without a product: any matching event")
    for b in targets:
        if p.loose_window is not None and (b.window is None or not only_unset):
            b.window = p.loose_window
        if p.loose_count is not None and (b.min_events == 1 or not only_unset):
            b.min_events = p.loose_count
        if p.loose_price is not None:
            lo, hi = p.loose_price
            b.min_price = lo if lo is not None else b.min_price
            b.max_price = hi if hi is not None else b.max_price


def _merge_attributes(base: AudienceQuery, p: Parsed) -> list:
    """A follow-up's condition on an attribute replaces the previous one on it; others are kept."""
    said = {a.name for a in p.attributes}
    return [a for a in base.attributes if a.name not in said] + list(p.attributes)
