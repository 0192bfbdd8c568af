"""The semantic profile of a customer as text for embedding, and its Qdrant payload.

Pure functions. The text holds semantic facts (country, age band, favourite color,
interests, preferred colors, luxury) and never the name, email, id or exact amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

LUXURY_SENTENCE = "This customer likes luxury items."

AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))


def age_band(age: int) -> str:
    for upper, label in AGE_BANDS:
        if age < upper:
            return label
    return "65 or older"


@lru_cache(maxsize=4096)
def country_name(code: str) -> str:
    """'DE' -> 'Germany'; unknown codes and names are returned as given."""
    try:
        import pycountry

        found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
        if found is None and len(code) == 3:
            found = pycountry.countries.get(alpha_3=code.upper())
    except (ImportError, LookupError, KeyError):
        found = None
    return getattr(found, "common_name", None) or getattr(found, "name", None) or code


def _and(items: Sequence[str]) -> str:
    items = [i.replace("_", " ") for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# The text is one sentence per fact, each depending on one part of the profile only, so the
# ingestion can write each distinct sentence once and assemble the texts in SQL
# (ingest.profiles.build_texts); profile_text is the definition both follow.


# A value that is unknown (an optional field stored empty: None) leaves its part out; a
# sentence with nothing known is left out whole.


def place_sentence(country: str | None, age: int | None) -> str | None:
    if country is None and age is None:
        return None
    where = f" from {country_name(country)}" if country is not None else ""
    aged = f"{',' if where else ''} aged {age_band(age)}" if age is not None else ""
    return f"Customer{where}{aged}."


def favourite_sentence(favorite_color: str | None) -> str | None:
    return f"Favourite color: {favorite_color}." if favorite_color is not None else None


def interest_sentence(interests: Sequence[str]) -> str:
    return f"Interested in {_and(interests)}." if interests else "No shopping activity yet."


def preference_sentence(preferred_colors: Sequence[str]) -> str | None:
    return f"Prefers {_and(preferred_colors)} items." if preferred_colors else None


def luxury_sentence(likes_luxury: bool) -> str | None:
    return LUXURY_SENTENCE if likes_luxury else None


def attribute_sentence(phrases: Sequence[str]) -> str | None:
    """The custom attributes marked semantic, as one sentence ("Loyalty tier gold, city Munich.")."""
    if not phrases:
        return None
    text = ", ".join(phrases)
    return text[:1].upper() + text[1:] + "."


def profile_text(
    *,
    country: str | None,
    age: int | None,
    favorite_color: str | None,
    interests: Sequence[str],
    preferred_colors: Sequence[str],
    likes_luxury: bool,
    attributes: Sequence[str] = (),
) -> str:
    """`attributes`: phrases of the custom attributes marked semantic ("loyalty tier gold")."""
    parts = (
        place_sentence(country, age),
        favourite_sentence(favorite_color),
        interest_sentence(interests),
        preference_sentence(preferred_colors),
        luxury_sentence(likes_luxury),
        attribute_sentence(attributes),
    )
    return " ".join(p for p in parts if p is not None)


def payload(row: Mapping[str, Any], text: str) -> dict:
    """The original demo's payload shape, so points are inspectable (an unknown value: None)."""
    meta = {
        "customer_id": int(row["customer_id"]),
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": row["email"],
        "country": row["country"],
        "age": None if row["age"] is None else int(row["age"]),
        "total_spent": None if row["total_spent"] is None else float(row["total_spent"]),
        "favorite_color": row["favorite_color"],
        "calculated_interests": list(row["interests"] or []),
        "likes_luxury": bool(row["likes_luxury"]),
    }
    return {"customer_id": meta["customer_id"], "text": text, "metadata": meta}
