"""The question as a document: lowercase word tokens that the finders *consume*.

Each finder (numbers, dates, vocabulary, mentions, analytics) marks the tokens it understood
with a tag; whatever is left over can become the semantic intent. What a finder understood at
a place in the text is a `Mention`, which the walk (discovery.offline.walk) turns into conditions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from discovery.offline.patterns import TOKEN_RE


@dataclass
class Token:
    text: str
    start: int
    end: int
    tag: str | None = None  # what consumed it; None = not understood (yet)
    keep: bool = False  # understood, but still part of the semantic intent ("luxury")


class Doc:
    def __init__(self, question: str) -> None:
        raw = re.sub(r"[\u2018\u2019\u02bc`]", "'", question)
        raw = re.sub(r"[\u2010-\u2015]", "-", raw).replace("\u00a0", " ")
        self.raw = raw
        self.text = "".join(c.lower() if len(c.lower()) == 1 else c for c in raw)
        self.tokens = [Token(m.group(), m.start(), m.end()) for m in TOKEN_RE.finditer(self.text)]

    def span_tokens(self, start: int, end: int) -> list[Token]:
        return [t for t in self.tokens if t.start < end and t.end > start]

    def is_free(self, start: int, end: int) -> bool:
        return all(t.tag is None for t in self.span_tokens(start, end))

    def find(self, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        """Matches of `pattern` on the lowercase text that touch no consumed token."""
        for m in pattern.finditer(self.text):
            if m.group().strip() and self.span_tokens(*m.span()) and self.is_free(*m.span()):
                yield m

    def consume(self, start: int, end: int, tag: str, keep: bool = False) -> None:
        for t in self.span_tokens(start, end):
            t.tag, t.keep = tag, keep

    def words_between(self, start: int, end: int) -> list[str]:
        return [t.text for t in self.tokens if t.start >= start and t.end <= end]

    def words_before(self, pos: int, n: int) -> list[str]:
        return [t.text for t in self.tokens if t.end <= pos][-n:]

    def words_after(self, pos: int, n: int) -> list[str]:
        return [t.text for t in self.tokens if t.start >= pos][:n]


@dataclass
class Mention:
    """Something understood at a place in the text; the planner walks these in text order."""

    kind: str  # event interest neg product color country foreign_country lux window count price
    start: int
    end: int
    value: Any = None
    neg: bool = False
    postfix: bool = False  # a noun-form event ("sock buyers") that may follow its product
    role: str = ""  # colors: favourite | themed | attached; counts: repeat


def base_word(word: str) -> str:
    """A token without its clitic: "customer's" -> "customer"."""
    return re.sub(r"'(?:s|re|ll|d|ve|m)$", "", word)
