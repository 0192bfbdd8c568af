"""Saved audiences as lookalike seeds: the resolver discovery takes (discovery.lookalike.SeedResolver).

Discovery never imports this package; the composition roots inject the resolver: the bot's create_app
(bot/app.py) and `python -m discovery` (discovery/__main__.py). A name resolves to the members of the
audience's last successful evaluation (saving evaluates it at once); an unknown or invalid name to None,
which discovery words as "There is no saved audience named …".
"""

from __future__ import annotations

from audiences.errors import AudienceError
from audiences.store import AudienceStore


def seed_resolver(store: AudienceStore):
    """name -> the saved audience's member ids, or None when no audience has that name."""

    def members_of(name: str) -> list[int] | None:
        try:
            audience = store.find(name)
        except AudienceError:  # not a valid name: no audience has it
            return None
        if audience is None:
            return None
        _, members = store.members(audience.id)
        return [int(i) for i in members]

    return members_of
