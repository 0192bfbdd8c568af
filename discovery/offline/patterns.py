"""The offline planner's regex tables for quantities: data, compiled once.

Tokens, numbers and money, comparisons, dates and time windows, repeat counts, age words,
limits and analytics phrasing (how many / average / by X / top N X / which X). The word lists
are in discovery.offline.lexicon, the regexes for verbs and other phrases in .phrases; the
finders that use them (.numbers, .dates, .analytics) give them meaning. All match the
lowercased text of a Doc.
"""

from __future__ import annotations

import re

from discovery.offline.lexicon import DECADES, MONTHS, NUM_WORDS, SENIOR_MIN_AGE, YOUNG_MAX_AGE


def rx(*alternatives: str) -> re.Pattern[str]:
    """One regex of alternatives (written one per line)."""
    return re.compile("|".join(alternatives))


TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)?")

NUM = r"(?:\d+(?:[.,]\d+)*(?:\s?k\b)?|\b(?:" + "|".join(sorted(NUM_WORDS, key=len, reverse=True)) + r")\b)"
CUR = r"(?:€|\$|£|\beur\b|\beuros?\b|\busd\b|\bdollars?\b|\bpln\b|zł|\bzl\b|\bgbp\b|\bpounds?\b|\bczk\b|\bchf\b|\bbucks\b)"
MONEY = rf"(?:{CUR}\s*)?{NUM}(?:\s*{CUR})?"
PEOPLE = r"(?:customers|users|people|clients|buyers|shoppers|contacts|profiles|names|results|rows|records|members)"

# ---------------------------------------------------------------------------- comparisons

GE = r"at least|min(?:imum)?(?:\s+of)?|no less than|not less than|>=|≥|=>"
GT = r"more than|greater than|higher than|bigger than|larger than|older than|over|above|exceeding|in excess of|north of|>"
LE = r"at most|max(?:imum)?(?:\s+of)?|no more than|not more than|up to|<=|≤|=<"
LT = r"less than|fewer than|lower than|smaller than|younger than|under|below|<"
POST_GE = r"or more|or above|or over|or older|and above|and over|and up|\+"
POST_LE = r"or less|or below|or under|or younger|and below|and under"
RANGE_RE = re.compile(
    rf"(?:\bbetween\s+(?P<a>{MONEY})\s+and\s+(?P<b>{MONEY}))"
    rf"|(?:(?:\bfrom\s+)?(?<![\d.,])(?P<c>{MONEY})\s*(?:-|to)\s*(?P<d>{MONEY}))"
)
PREFIX_RE = re.compile(rf"(?<![\w<>=])(?P<op>{GE}|{GT}|{LE}|{LT})\s*(?P<v>{MONEY})")
POSTFIX_RE = re.compile(rf"(?<![\w.,])(?P<v>{MONEY})\s*(?P<op>{POST_GE}|{POST_LE})")
OPS = (("ge", GE), ("gt", GT), ("le", LE), ("lt", LT), ("ge", POST_GE), ("le", POST_LE))  # operator -> name

# ---------------------------------------------------------------------------- dates and windows

MON = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b"
UNIT = r"(?:days?|weeks?|months?|years?|fortnights?|quarters?)\b"


def date_pattern(g: str) -> str:
    return (
        rf"(?:(?P<iso{g}>\d{{4}}-\d{{1,2}}-\d{{1,2}})"
        rf"|(?P<d1{g}>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1{g}>{MON})\.?(?:,?\s+(?P<y1{g}>\d{{4}}))?"
        rf"|(?P<m2{g}>{MON})\.?\s+(?P<d2{g}>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y2{g}>\d{{4}}))?"
        rf"|(?P<m3{g}>{MON})\.?(?:\s+(?P<y3{g}>\d{{4}}))?"
        rf"|(?P<q{g}>q[1-4])\b(?:\s+(?P<yq{g}>\d{{4}}))?"
        rf"|(?P<y4{g}>(?:19|20)\d{{2}})\b)"
    )


REL_RE = re.compile(
    rf"\b(?:(?:in|during|within|over|for|from)\s+)?(?:the\s+)?(?:last|past|previous|prior|recent)\s+"
    rf"(?:(?P<n>{NUM})\s+)?(?P<unit>{UNIT})"
    rf"|\bwithin\s+(?:the\s+)?(?:a\s+)?(?P<n2>{NUM})?\s*(?P<unit2>{UNIT})"
    rf"|\b(?:since\s+)?(?P<n3>{NUM}|a)\s+(?P<unit3>{UNIT})\s+ago\b"
)
LATELY_RE = re.compile(r"\b(?:lately|recently|recent|of late|these days|nowadays)\b")
THIS_RE = re.compile(r"\b(?:this|current|the current)\s+(?P<unit>week|month|year|quarter)\b|\b(?:year to date|ytd)\b")
DAY_RE = re.compile(r"\b(?:today|yesterday)\b")
BETWEEN_RE = re.compile(
    rf"\b(?:between|from)\s+{date_pattern('a')}\s*(?:and|to|until|till|through|-)\s*{date_pattern('b')}"
)
SINCE_RE = re.compile(rf"\b(?P<w>since|after|from|starting(?:\s+from)?|as of)\s+{date_pattern('a')}")
UNTIL_RE = re.compile(rf"\b(?P<w>before|until|till|through|up to|up until)\s+{date_pattern('a')}")
IN_RE = re.compile(rf"\b(?:in|during|on|for|of)\s+{date_pattern('a')}")

# ---------------------------------------------------------------------------- quantities

BY_SPEND_RE = rx(
    r"\b(?:by|most|highest)\s+(?:total\s+)?(?:spend|spent|spending|revenue)\b", r"\bspends?\s+the\s+most\b"
)
_GROUP = (
    r"(?P<g>countr(?:y|ies)|favou?rite\s+colou?rs?|colou?rs?|age(?:\s+(?:bands?|groups?|brackets?|ranges?))?"
    r"|products?|items?|event\s+types?|events?|months?|luxury\s+(?:affinity|preference))"
)
GROUP_RE = rx(
    r"\b(?:by|per|for\s+each|each|across|in\s+each|split\s+by|broken\s+down\s+by|break\s*down\s+(?:by|of)|"
    r"breakdown\s+(?:by|of|per)|grouped\s+by|group\s+by)\s+(?:their\s+|the\s+)?" + _GROUP + r"\b",
    r"\b(?P<monthly>monthly)\b",
    r"\b(?P<vs>luxury\s+(?:vs\.?|versus|or|and)\s+non[\s-]?luxury)\b",
)
WHICH_RE = rx(r"\b(?:which|what)\s+" + _GROUP + r"\b")
POPULAR_RE = [
    re.compile(
        r"\b(?:(?P<n>"
        + NUM
        + r")\s+)?(?P<dir>most|least)\s+(?P<how>popular|common|frequent|bought|purchased|sold|viewed|carted)\s+"
        + _GROUP
        + r"\b"
    ),
    re.compile(r"\b(?P<how>best)[\s-]?selling\s+" + _GROUP + r"\b"),
    re.compile(r"\btop\s+(?:(?P<n>" + NUM + r")\s+)?" + _GROUP + r"\b"),
]
COUNT_Q_RE = rx(r"\bhow\s+many\b", r"\b(?:total\s+)?number\s+of\b", r"\bcount(?:\s+of)?\b")
AVG_RE = rx(r"\b(?:average|avg|mean|typical|median)\b", r"\bhow\s+old\b")
SUM_RE = rx(
    r"\btotal\s+(?:spend|spent|spending|revenue|sales|turnover|value)\b",
    r"\bsum\s+of\b",
    r"\bhow\s+much\b",
    r"\brevenue\b",
    r"\bturnover\b",
)
MINMAX_RE = rx(
    r"\bwhat(?:'s|\s+is|\s+was)?\s+(?:the\s+)?(?P<op>max(?:imum)?|highest|largest|biggest|min(?:imum)?|"
    r"lowest|smallest)\s+(?:(?:total|lifetime)\s+)?(?P<f>spend|spent|spending|age|price)\b",
    r"\b(?:how\s+old\s+is|(?:what(?:'s|\s+is)\s+)?the\s+age\s+of)\s+(?:our|the|my)\s+"
    r"(?P<op2>youngest|oldest)\b",
)
COUNT_RE = [
    (rx(r"\bat\s+least\s+(?:(?P<n>" + NUM + r")\s+times?|(?P<w>once|twice|thrice))\b"), 0),
    (rx(r"\b(?:more\s+than|over)\s+(?:(?P<n>" + NUM + r")\s+times?|(?P<w>once|twice|thrice))\b"), 1),
    (
        rx(
            r"\b(?P<n>" + NUM + r")\s*(?:\+\s*times?|times?\s+or\s+more|or\s+more\s+times|times?\s+(?:and|or)\s+"
            r"(?:up|above|over))"
        ),
        0,
    ),
    (rx(r"\b(?P<n>" + NUM + r")\s+times\b", r"\b(?P<w>twice|thrice)\b"), 0),
]
COUNT_NOUN_RE = rx(
    r"\b(?:(?P<op>at\s+least|min(?:imum)?(?:\s+of)?|more\s+than|over|above)\s+(?P<n>" + NUM + r")"
    r"|(?P<n2>" + NUM + r")\s*(?:\+|or\s+more))(?=\s+(?:purchases|orders|views|visits)\b)"
)  # "made at least 3 purchases", "5+ orders": a repeat count of that event
REPEAT_RE = rx(
    r"\b(?:repeat(?:ed)?|returning|repeatedly|again)\b",
    r"\bmultiple[\s-]times\b",
    r"\bseveral\s+times\b",
    r"\bfrequent(?:ly)?\b",
    r"\bregular(?:ly)?\b",
)
LIMIT_RE = rx(
    r"\b(?:top|first|best)\s+(?P<n>" + NUM + r")\b",
    r"\b(?P<n2>" + NUM + r")\s+(?:of\s+them|" + PEOPLE + r"|(?=(?:oldest|youngest|best|biggest|newest|latest|"
    r"most\s+\w+|top|highest[\s-]spending)\s+" + PEOPLE + r"\b))",
    r"\b(?:just|only|limit(?:\s+(?:it|them|that))?(?:\s+to)?|give\s+me|show\s+me|show|list|get|return|pick|select|"
    r"find)\s+(?P<n3>" + NUM + r")\b",  # "at most / up to N" are comparisons (find_comparisons) first
)
AGE_WORDS = [
    (rx(r"\b(?:young|younger|youth|youngsters?|young\s+adults?)\b"), (None, YOUNG_MAX_AGE)),
    (
        rx(r"\b(?:seniors?|elderly|retirees?|pensioners?)\b", r"\bolder\b(?=\s+" + PEOPLE + r")"),
        (SENIOR_MIN_AGE, None),
    ),
    (rx(r"\bmiddle[\s-]aged\b"), (40, 59)),
    (rx(r"\bteen(?:s|agers?)\b"), (13, 19)),
]
DECADE_RE = rx(r"\bin\s+(?:their|his|her)\s+(?:(?P<d>[1-9]0)'?s|(?P<w>" + "|".join(DECADES) + r"))\b")
EXACT_AGE_RE = rx(r"\b(?P<n>\d{1,3})[\s-]*(?:years?|yrs?)[\s-]*old\b", r"\baged?\s+(?P<n2>\d{1,3})\b")
