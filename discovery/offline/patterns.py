"""The offline planner's regex tables: data, compiled once (the word lists are in discovery.offline.lexicon).

Numbers and money, comparisons, dates and time windows, analytics phrasing (how many / average /
by X / top N X / which X), orderings, repeat counts, age words, limits, event and interest verbs,
e-mail engagement, predictions, negations and luxury words, and the follow-up markers. The
finders that use them (offline.numbers, .dates, .mentions, .analytics, .walk, .followup) give
them meaning. All match the lowercased text of a Doc.
"""

from __future__ import annotations

import re

from discovery.offline.lexicon import DECADES, MONTHS, NUM_WORDS, SENIOR_MIN_AGE, YOUNG_MAX_AGE

_R = re.compile


def _rx(*alternatives: str) -> re.Pattern[str]:
    return _R("|".join(alternatives))


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

# ---------------------------------------------------------------------------- phrases

BY_SPEND_RE = _rx(
    r"\b(?:by|most|highest)\s+(?:total\s+)?(?:spend|spent|spending|revenue)\b", r"\bspends?\s+the\s+most\b"
)
SORT_RE = [
    (
        _rx(
            r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?(?:total\s+)?"
            r"(?:spend|spent|spending|revenue|value|money\s+spent)\b",
            r"\b"
            + PEOPLE
            + r"\s+by\s+(?:their\s+|the\s+)?(?:total\s+|lifetime\s+)?(?:spend|spent|spending|revenue|value)\b",
        ),
        "total_spent",
    ),
    (
        _rx(
            r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?"
            r"(?:recency|recent\s+activity|last\s+activity|activity|date)\b"
        ),
        "recent_activity",
    ),
    (
        _rx(
            r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?(?:number\s+of\s+)?"
            r"(?:purchases|orders|purchase\s+count)\b"
        ),
        "purchases",
    ),
    (_rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?age\b"), "age"),
    (_rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+relevance\b"), "relevance"),
]
ORDER_RE = [
    (
        _rx(
            r"\b(?:best|top|biggest|highest|big|heavy|high)[\s-]+(?:spenders?|spending)\b",
            r"\bmost\s+valuable\b",
            r"\bbest\s+" + PEOPLE + r"\b",
            r"\btop\s+(?:customers|clients|buyers)\b",
            r"\bvips?\b",
            r"\bhigh[\s-]value\b",
            r"\b(?:spent|spend|spends)\s+(the\s+most)\b",
        ),
        "total_spent",
    ),
    (_rx(r"\bmost\s+recent(?:ly)?(?:\s+active)?\b", r"\blatest\b", r"\bnewest\b"), "recent_activity"),
    (
        _rx(
            r"\bmost\s+(?:purchases|orders)\b",
            r"\bmost\s+frequent(?:ly)?\b",
            r"\bmost\s+(?:active|loyal)\b",
            r"\b(?:bought|buy|buys|purchased|purchase|ordered|order|shop|shopped)\s+(the\s+most)\b",
        ),
        "purchases",
    ),
    (_rx(r"\boldest\b"), "age_desc"),
    (_rx(r"\byoungest\b"), "age"),
]
_GROUP = (
    r"(?P<g>countr(?:y|ies)|favou?rite\s+colou?rs?|colou?rs?|age(?:\s+(?:bands?|groups?|brackets?|ranges?))?"
    r"|products?|items?|event\s+types?|events?|months?|luxury\s+(?:affinity|preference))"
)
GROUP_RE = _rx(
    r"\b(?:by|per|for\s+each|each|across|in\s+each|split\s+by|broken\s+down\s+by|break\s*down\s+(?:by|of)|"
    r"breakdown\s+(?:by|of|per)|grouped\s+by|group\s+by)\s+(?:their\s+|the\s+)?" + _GROUP + r"\b",
    r"\b(?P<monthly>monthly)\b",
    r"\b(?P<vs>luxury\s+(?:vs\.?|versus|or|and)\s+non[\s-]?luxury)\b",
)
WHICH_RE = _rx(r"\b(?:which|what)\s+" + _GROUP + r"\b")
POPULAR_RE = [
    _R(
        r"\b(?:(?P<n>"
        + NUM
        + r")\s+)?(?P<dir>most|least)\s+(?P<how>popular|common|frequent|bought|purchased|sold|viewed|carted)\s+"
        + _GROUP
        + r"\b"
    ),
    _R(r"\b(?P<how>best)[\s-]?selling\s+" + _GROUP + r"\b"),
    _R(r"\btop\s+(?:(?P<n>" + NUM + r")\s+)?" + _GROUP + r"\b"),
]
COUNT_Q_RE = _rx(r"\bhow\s+many\b", r"\b(?:total\s+)?number\s+of\b", r"\bcount(?:\s+of)?\b")
AVG_RE = _rx(r"\b(?:average|avg|mean|typical|median)\b", r"\bhow\s+old\b")
SUM_RE = _rx(
    r"\btotal\s+(?:spend|spent|spending|revenue|sales|turnover|value)\b",
    r"\bsum\s+of\b",
    r"\bhow\s+much\b",
    r"\brevenue\b",
    r"\bturnover\b",
)
MINMAX_RE = _rx(
    r"\bwhat(?:'s|\s+is|\s+was)?\s+(?:the\s+)?(?P<op>max(?:imum)?|highest|largest|biggest|min(?:imum)?|"
    r"lowest|smallest)\s+(?:(?:total|lifetime)\s+)?(?P<f>spend|spent|spending|age|price)\b",
    r"\b(?:how\s+old\s+is|(?:what(?:'s|\s+is)\s+)?the\s+age\s+of)\s+(?:our|the|my)\s+"
    r"(?P<op2>youngest|oldest)\b",
)
COUNT_RE = [
    (_rx(r"\bat\s+least\s+(?:(?P<n>" + NUM + r")\s+times?|(?P<w>once|twice|thrice))\b"), 0),
    (_rx(r"\b(?:more\s+than|over)\s+(?:(?P<n>" + NUM + r")\s+times?|(?P<w>once|twice|thrice))\b"), 1),
    (
        _rx(
            r"\b(?P<n>" + NUM + r")\s*(?:\+\s*times?|times?\s+or\s+more|or\s+more\s+times|times?\s+(?:and|or)\s+"
            r"(?:up|above|over))"
        ),
        0,
    ),
    (_rx(r"\b(?P<n>" + NUM + r")\s+times\b", r"\b(?P<w>twice|thrice)\b"), 0),
]
COUNT_NOUN_RE = _rx(
    r"\b(?:(?P<op>at\s+least|min(?:imum)?(?:\s+of)?|more\s+than|over|above)\s+(?P<n>" + NUM + r")"
    r"|(?P<n2>" + NUM + r")\s*(?:\+|or\s+more))(?=\s+(?:purchases|orders|views|visits)\b)"
)  # "made at least 3 purchases", "5+ orders": a repeat count of that event
REPEAT_RE = _rx(
    r"\b(?:repeat(?:ed)?|returning|repeatedly|again)\b",
    r"\bmultiple[\s-]times\b",
    r"\bseveral\s+times\b",
    r"\bfrequent(?:ly)?\b",
    r"\bregular(?:ly)?\b",
)
LIMIT_RE = _rx(
    r"\b(?:top|first|best)\s+(?P<n>" + NUM + r")\b",
    r"\b(?P<n2>" + NUM + r")\s+(?:of\s+them|" + PEOPLE + r"|(?=(?:oldest|youngest|best|biggest|newest|latest|"
    r"most\s+\w+|top|highest[\s-]spending)\s+" + PEOPLE + r"\b))",
    r"\b(?:just|only|limit(?:\s+(?:it|them|that))?(?:\s+to)?|give\s+me|show\s+me|show|list|get|return|pick|select|"
    r"find)\s+(?P<n3>" + NUM + r")\b",  # "at most / up to N" are comparisons (find_comparisons) first
)
EXPLAIN_RE = _rx(r"\b(?:why|explain|how\s+come)\b[^0-9?]*?(?:#\s*)?(?P<id>\d+)\b(?:\s+(?:in(?:cluded)?|there|here))?")
JSON_RE = _rx(
    r"\b(?:(?:show|give|send|export|return|print|output|get)\s+(?:me\s+)?(?:them|it|this|that|those|these|"
    r"the\s+(?:list|segment|results?|audience))?\s*)?(?:as|in|to|into)?\s*(?:a\s+)?json(?:\s+(?:format|file))?\b"
)
AGE_WORDS = [
    (_rx(r"\b(?:young|younger|youth|youngsters?|young\s+adults?)\b"), (None, YOUNG_MAX_AGE)),
    (
        _rx(r"\b(?:seniors?|elderly|retirees?|pensioners?)\b", r"\bolder\b(?=\s+" + PEOPLE + r")"),
        (SENIOR_MIN_AGE, None),
    ),
    (_rx(r"\bmiddle[\s-]aged\b"), (40, 59)),
    (_rx(r"\bteen(?:s|agers?)\b"), (13, 19)),
]
DECADE_RE = _rx(r"\bin\s+(?:their|his|her)\s+(?:(?P<d>[1-9]0)'?s|(?P<w>" + "|".join(DECADES) + r"))\b")
EXACT_AGE_RE = _rx(r"\b(?P<n>\d{1,3})[\s-]*(?:years?|yrs?)[\s-]*old\b", r"\baged?\s+(?P<n2>\d{1,3})\b")
VERB_RE = [
    (
        "add_to_cart",
        False,
        _rx(
            r"\badd(?:ed|s|ing)?[\s-]+(?:(?:it|them)\s+)?(?:to|into|in)[\s-]+(?:the\s+|their\s+|a\s+|his\s+|her\s+|my\s+)?"
            r"(?:shopping\s+)?(?:cart|basket)s?\b",
            r"\bcarted\b",
            r"\bcart\s+abandoners?\b",
            r"\babandoned\s+(?:shopping\s+)?(?:carts?|baskets?)\b",
            r"\badd(?:ed|s|ing)?\b(?=(?:\W+\w+){1,6}?\W+(?:to|into|in)\W+(?:(?:the|their|a|his|her|my)\W+)?"
            r"(?:shopping\W+)?(?:cart|basket)s?\b)",
        ),
    ),
    (
        "add_to_cart",
        True,
        _rx(
            r"\b(?:to|into|in)\s+(?:the\s+|their\s+|a\s+|his\s+|her\s+|my\s+)?(?:shopping\s+)?"
            r"(?:cart|basket)s?\b",
            r"\b(?:carts?|baskets?)\b",
        ),
    ),
    (
        "purchase",
        False,
        _rx(
            r"\b(?:bought|buy|buys|buying|purchased|purchase|purchasing|ordered|ordering|order|"
            r"sold|sells|selling)\b",
            r"\b(?:paid|pay|shopped)\s+for\b",
        ),
    ),
    ("purchase", True, _rx(r"\b(?:buyers?|purchasers?|purchases|orders)\b")),
    (
        "view",
        False,
        _rx(
            r"\b(?:viewed|view|viewing|browsed|browse|browses|browsing|visited|visit|visits|visiting|"
            r"saw|seen)\b",
            r"\b(?:looked|look|looking|looks)\s+at\b",
            r"\b(?:clicked|click|clicks|clicking)(?:\s+on)?\b",
        ),
    ),
    ("view", True, _rx(r"\b(?:viewers?|views|visitors?)\b")),
    ("return", False, _rx(r"\b(?:returned|refunded|sent\s+back)\b")),
    ("return", True, _rx(r"\b(?:returns|refunds)\b")),
    ("subscription", False, _rx(r"\b(?:subscribed|subscribe|subscribes|unsubscribed|signed\s+up|opted\s+in)\b")),
    ("subscription", True, _rx(r"\b(?:subscribers?|subscriptions?|sign[\s-]?ups?)\b")),
]
_MAIL = r"(?:e-?mails?|newsletters?|mailings?|mailers?|mails?|e-?blasts?|campaigns?)"
EMAIL_VERB_RE = _rx(
    r"\b(?:opened|opens|open|opening|clicked|clicks|click|clicking|bounced|bounces|replied|replies|"
    r"reply|replying|responded|responds|respond|read|reads|reading|ignored|ignores|forwarded|"
    r"engaged?\s+with)\b"
)
EMAIL_TAIL_RE = _R(r"(?:\W+(?:on|in|to|with|at|of)?\W*[\w']+){0,5}?\W+(?P<noun>" + _MAIL + r")\b")
EMAIL_NOUN_RE = _rx(
    r"\b" + _MAIL + r"\s+(?:opens|openers?|clicks|clickers?|click[\s-]?throughs?|engagement|"
    r"responders?|responses|replies|bounces|readers)\b",
    r"\b(?:opened|clicked|read|ignored|bounced)\s+" + _MAIL + r"\b",
)
CART_TAIL_RE = _R(
    r"(?:\W+[\w']+){0,6}?(?P<tail>\W+(?:to|into|in)\W+(?:(?:the|their|a|his|her|my)\W+)?"
    r"(?:shopping\W+)?(?:cart|basket)s?\b)"
)
INTEREST_RE = _rx(
    r"\b(?:interested|interest|interests)\s+in\b",
    r"\binto\b",
    r"\b(?:likes?|liked|loves?|loved|enjoys?|enjoyed|"
    r"prefers?|preferred|wants?|wanted)\b",
    r"\bfans?\s+of\b",
    r"\blovers?\s+of\b",
    r"\bkeen\s+on\b",
    r"\bpassionate\s+about\b",
    r"\bcares?\s+about\b",
    r"\bengaged?\s+with\b",
    r"\baffinity\s+(?:for|to|with)\b",
    r"\blooking\s+for\b",
    r"\bshopping\s+for\b",
    r"\bin\s+the\s+market\s+for\b",
)
LUX_FALSE_RE = _rx(r"\bnon[\s-]?luxury\b", r"\bnot\s+(?:into\s+|interested\s+in\s+)?luxury\b")
LUX_WORDS_FALSE_RE = _rx(
    r"\b(?:budget|bargains?|bargain[\s-]hunters?|cheap|discount(?:s|ed)?|low[\s-]?cost|"
    r"price[\s-]?sensitive|thrifty|frugal)\b"
)
LUX_TRUE_RE = _rx(
    r"\b(?:luxury|luxurious|high[\s-]?end|premium|upscale|up[\s-]?market|exclusive|designer|"
    r"prestigious|prestige|affluent|high[\s-]?class|posh|lavish)\b"
)
NEG_RE = _rx(
    r"\b(?:never|not|no|without|nor|neither|[a-z]+n't|didnt|dont|doesnt|havent|hasnt|hadnt|wasnt|werent|"
    r"isnt|arent|except(?:\s+for)?|excluding|exclude|excludes|remove|drop|other\s+than|apart\s+from|"
    r"outside(?:\s+of)?|non)\b"
)


LOOKALIKE_RE = _rx(r"\b(?:like|similar\s+to|lookalikes?\s+(?:of|for)|resembling)\s+(?:customer|user|client)\s*#?\s*\d+")


PREDICTION_RE = _rx(
    r"\b(?:churn(?:s|ed|ing|ers?)?|predict(?:s|ed|ion|ions)?|forecast(?:s|ed|ing)?|propensity\s+to\s+churn)\b",
    r"\b(?:will|going\s+to)\s+(?:stop\s+buying|leave|cancel)\b",
)
_FUTURE = (
    r"(?:next|in\s+the\s+(?:next|coming)|over\s+the\s+(?:next|coming)|(?:the\s+)?(?:coming|upcoming))\s+"
    r"(?:(?:\d+|few|couple\s+of)\s+)?(?:days?|weeks?|months?|quarters?|years?|seasons?|holidays?|"
    r"christmas|summer|winter|spring|autumn|fall|sale)\b"
)
FUTURE_BUY_RE = _rx(  # buying said in the future: a prediction, not past purchases
    r"(?:\b(?:will|shall|going\s+to|gonna|likely\s+to|about\s+to|expected\s+to|set\s+to|plan(?:s|ning)?\s+to|"
    r"intend(?:s|ing)?\s+to)|'ll)\s+(?:(?:probably|likely|definitely|soon|actually|still|also|most\s+likely)\s+)?"
    r"(?:buy|purchase|order|shop|spend|convert|repurchase|come\s+back)\b",
    r"\b(?:likely|future|next)\s+(?:buyers|purchasers|converters)\b",
    r"\bnext\s+(?:week|month|quarter|year|season)(?:'s)?\s+(?:buyers|purchasers|customers)\b",
    rf"\b(?:buy|buys|purchase|purchases|order|orders|shop|shops|spend|spends)\b(?=(?:\W+[\w']+){{0,6}}?\W+{_FUTURE})",
)


# ---------------------------------------------------------------------------- follow-ups and the walk

THEMED_AFTER_RE = _R(r"[\s-]*(?:themed|theme|colou?red|lovers?|fans?|enthusiasts?)\b")
FAV_AFTER_RE = _R(r"\s+(?:as\s+)?(?:their\s+|a\s+|the\s+)?(?:favou?rite|preferred)(?:\s+colou?rs?)?\b")
FAV_BEFORE_RE = _R(r"(?:favou?rite|preferred)\s+colou?rs?\s*(?:is|are|was|of|=|:)?\s*(?:either\s+)?$")
CONJ_GAP_RE = _R(r"(?:[\s,&/+]|\b(?:and|or|plus|as\s+well\s+as|either|both|also|the|some|any|a|an|of)\b)*")
COLOR_AFTER_GAP_RE = _R(r"\s*(?:in|colou?red|in\s+colou?r)\s*")
ADD_MODE_RE = _rx(r"\b(?:also|add|plus|too|as\s+well|include|including)\b")
FOLLOW_START_RE = _rx(
    r"^\W*(?:and|but|also|only|just|now|then|plus|add|remove|drop|exclude|excluding|except|without|same|instead|"
    r"limit|make\s+it|narrow|filter|what\s+about|how\s+about|of\s+(?:those|them|these)|among\s+(?:them|those|these)|"
    r"from\s+(?:those|them|these)|sort|order|rank|why|explain|how\s+come|show\s+(?:them|those|me\s+them))\b"
)
PRONOUN_RE = _rx(r"\b(?:them|those|these|they|ones|instead)\b")
SEGMENT_REQUEST_RE = _rx(r"\b(?:list|show|who\s+are|give\s+me|export)\b")
