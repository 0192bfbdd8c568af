"""Why a customer is in a segment: one human-readable line (no e-mail, no name)."""

from __future__ import annotations

import re

from discovery.attribute_view import attribute_reasons, attribute_values
from discovery.query import AudienceQuery

_WORD = re.compile(r"[a-z0-9]+")


def why(r, q: AudienceQuery, score: float | None, counts: list[int]) -> str:
    """A human-readable reason this customer is in the segment (no email, no name)."""
    parts = []
    for b, n in zip(q.behaviours, counts, strict=False):
        if b.negate:
            parts.append(b.describe())
        else:
            parts.append(f"{b.describe()} ({n}×)")
    f = q.crm
    if f.countries or f.exclude_countries:
        parts.append(f"country {r.country}")
    if f.min_spent is not None or f.max_spent is not None:
        parts.append(f"spent {float(r.total_spent):,.2f}")  # the gate keeps no unknown spend (NULL)
    if f.min_age is not None or f.max_age is not None:
        parts.append(f"age {r.age}")
    if f.favorite_colors:
        parts.append(f"favourite color {r.favorite_color}")
    if f.likes_luxury:
        parts.append("likes luxury")
    parts += attribute_reasons(attribute_values(r), q)
    if score is not None and q.intent:
        words = set(_WORD.findall(q.intent.lower()))
        facets = []
        if r.likes_luxury and words & {"luxury", "premium", "high", "end", "exclusive", "upscale"}:
            facets.append("likes luxury")
        facets += [f"interested in {i}" for i in (r.interests or []) if set(_WORD.findall(i.lower())) & words]
        facets += [f"prefers {col}" for col in (r.preferred_colors or []) if col.lower() in words]
        if r.favorite_color and r.favorite_color.lower() in words:
            facets.append(f"favourite color {r.favorite_color}")
        sim = f"similarity {score:.2f} to “{q.intent}”"
        parts.append(sim + (" (" + ", ".join(dict.fromkeys(facets)) + ")" if facets else ""))
    return "; ".join(parts) or "matches all customers"
