"""Errors of saved audiences; str(error) says what is wrong and what to do.

AudienceError          base
├── BadName            empty or too long
├── NameTaken          a saved audience already has the name (case-insensitive)
├── UnknownAudience    no saved audience has the name; carries the closest names
└── NotASegment        the answer to save is not a segment (a count, a table, a question back)
"""

from __future__ import annotations


class AudienceError(Exception):
    pass


class BadName(AudienceError):
    pass


class NameTaken(AudienceError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(
            f"An audience named “{name}” already exists. Pick another name, or overwrite it "
            f"(its history of refreshes starts again)."
        )


class UnknownAudience(AudienceError):
    def __init__(self, name: str, suggestions: list[str]):
        self.name = name
        self.suggestions = suggestions
        hint = (
            "Did you mean " + ", ".join(f"“{s}”" for s in suggestions) + "?"
            if suggestions
            else "List the saved audiences to see their names."
        )
        super().__init__(f"No saved audience is named “{name}”. {hint}")


class NotASegment(AudienceError):
    pass
