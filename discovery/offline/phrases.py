"""The offline planner's regex tables for phrases: data, compiled once.

Orderings, JSON and "why is customer N in" requests, event verbs (purchase, cart, view, return,
subscription) and e-mail engagement, interest verbs, luxury words, negations, lookalikes and
predictions, and the markers the walk and the follow-up rules read (themed / favourite colors,
conjunctions, "also", refinement openers, pronouns). Quantities are in .patterns, word lists in
.lexicon; the finders in .mentions, .walk and .followup give them meaning.
"""

from __future__ import annotations

import re

from discovery.offline.patterns import NUM, PEOPLE, rx

SORT_RE = [
    (
        rx(
            r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?(?:total\s+)?"
            r"(?:spend|spent|spending|revenue|value|money\s+spent)\b",
            r"\b"
            + PEOPLE
            + r"\s+by\s+(?:their\s+|the\s+)?(?:total\s+|lifetime\s+)?(?:spend|spent|spending|revenue|value)\b",
        ),
        "total_spent",
    ),
    (
        rx(
            r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?"
            r"(?:recency|recent\s+activity|last\s+activity|activity|date)\b"
        ),
        "recent_activity",
    ),
    (
        rx(
            r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?(?:number\s+of\s+)?"
            r"(?:purchases|orders|purchase\s+count)\b"
        ),
        "purchases",
    ),
    (rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+(?:their\s+|the\s+)?age\b"), "age"),
    (rx(r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+(?:them\s+)?by\s+relevance\b"), "relevance"),
]
ORDER_RE = [
    (
        rx(
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
    (rx(r"\bmost\s+recent(?:ly)?(?:\s+active)?\b", r"\blatest\b", r"\bnewest\b"), "recent_activity"),
    (
        rx(
            r"\bmost\s+(?:purchases|orders)\b",
            r"\bmost\s+frequent(?:ly)?\b",
            r"\bmost\s+(?:active|loyal)\b",
            r"\b(?:bought|buy|buys|purchased|purchase|ordered|order|shop|shopped)\s+(the\s+most)\b",
        ),
        "purchases",
    ),
    (rx(r"\boldest\b"), "age_desc"),
    (rx(r"\byoungest\b"), "age"),
]
EXPLAIN_RE = rx(r"\b(?:why|explain|how\s+come)\b[^0-9?]*?(?:#\s*)?(?P<id>\d+)\b(?:\s+(?:in(?:cluded)?|there|here))?")
JSON_RE = rx(
    r"\b(?:(?:show|give|send|export|return|print|output|get)\s+(?:me\s+)?(?:them|it|this|that|those|these|"
    r"the\s+(?:list|segment|results?|audience))?\s*)?(?:as|in|to|into)?\s*(?:a\s+)?json(?:\s+(?:format|file))?\b"
)
VERB_RE = [
    (
        "add_to_cart",
        False,
        rx(
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
        rx(
            r"\b(?:to|into|in)\s+(?:the\s+|their\s+|a\s+|his\s+|her\s+|my\s+)?(?:shopping\s+)?"
            r"(?:cart|basket)s?\b",
            r"\b(?:carts?|baskets?)\b",
        ),
    ),
    (
        "purchase",
        False,
        rx(
            r"\b(?:bought|buy|buys|buying|purchased|purchase|purchasing|ordered|ordering|order|"
            r"sold|sells|selling)\b",
            r"\b(?:paid|pay|shopped)\s+for\b",
        ),
    ),
    ("purchase", True, rx(r"\b(?:buyers?|purchasers?|purchases|orders)\b")),
    (
        "view",
        False,
        rx(
            r"\b(?:viewed|view|viewing|browsed|browse|browses|browsing|visited|visit|visits|visiting|"
            r"saw|seen)\b",
            r"\b(?:looked|look|looking|looks)\s+at\b",
            r"\b(?:clicked|click|clicks|clicking)(?:\s+on)?\b",
        ),
    ),
    ("view", True, rx(r"\b(?:viewers?|views|visitors?)\b")),
    ("return", False, rx(r"\b(?:returned|refunded|sent\s+back)\b")),
    ("return", True, rx(r"\b(?:returns|refunds)\b")),
    ("subscription", False, rx(r"\b(?:subscribed|subscribe|subscribes|unsubscribed|signed\s+up|opted\s+in)\b")),
    ("subscription", True, rx(r"\b(?:subscribers?|subscriptions?|sign[\s-]?ups?)\b")),
]
_MAIL = r"(?:e-?mails?|newsletters?|mailings?|mailers?|mails?|e-?blasts?|campaigns?)"
EMAIL_VERB_RE = rx(
    r"\b(?:opened|opens|open|opening|clicked|clicks|click|clicking|bounced|bounces|replied|replies|"
    r"reply|replying|responded|responds|respond|read|reads|reading|ignored|ignores|forwarded|"
    r"engaged?\s+with)\b"
)
EMAIL_TAIL_RE = re.compile(r"(?:\W+(?:on|in|to|with|at|of)?\W*[\w']+){0,5}?\W+(?P<noun>" + _MAIL + r")\b")
EMAIL_NOUN_RE = rx(
    r"\b" + _MAIL + r"\s+(?:opens|openers?|clicks|clickers?|click[\s-]?throughs?|engagement|"
    r"responders?|responses|replies|bounces|readers)\b",
    r"\b(?:opened|clicked|read|ignored|bounced)\s+" + _MAIL + r"\b",
)
CART_TAIL_RE = re.compile(
    r"(?:\W+[\w']+){0,6}?(?P<tail>\W+(?:to|into|in)\W+(?:(?:the|their|a|his|her|my)\W+)?"
    r"(?:shopping\W+)?(?:cart|basket)s?\b)"
)
INTEREST_RE = rx(
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
LUX_FALSE_RE = rx(r"\bnon[\s-]?luxury\b", r"\bnot\s+(?:into\s+|interested\s+in\s+)?luxury\b")
LUX_WORDS_FALSE_RE = rx(
    r"\b(?:budget|bargains?|bargain[\s-]hunters?|cheap|discount(?:s|ed)?|low[\s-]?cost|"
    r"price[\s-]?sensitive|thrifty|frugal)\b"
)
LUX_TAG_WORD = "luxury"  # the word of the profiles' luxury sentence (ingest.profile_text.LUXURY_SENTENCE)
LUX_TRUE_RE = rx(
    r"\b(?:luxury|luxurious|high[\s-]?end|premium|upscale|up[\s-]?market|exclusive|designer|"
    r"prestigious|prestige|affluent|high[\s-]?class|posh|lavish)\b"
)
NEG_RE = rx(
    r"\b(?:never|not|no|without|nor|neither|[a-z]+n't|didnt|dont|doesnt|havent|hasnt|hadnt|wasnt|werent|"
    r"isnt|arent|except(?:\s+for)?|excluding|exclude|excludes|remove|drop|other\s+than|apart\s+from|"
    r"outside(?:\s+of)?|non)\b"
)
LOOKALIKE_RE = rx(r"\b(?:like|similar\s+to|lookalikes?\s+(?:of|for)|resembling)\s+(?:customer|user|client)\s*#?\s*\d+")
PREDICTION_RE = rx(
    r"\b(?:churn(?:s|ed|ing|ers?)?|predict(?:s|ed|ion|ions)?|forecast(?:s|ed|ing)?|propensity\s+to\s+churn)\b",
    r"\b(?:will|going\s+to)\s+(?:stop\s+buying|leave|cancel)\b",
)
_FUTURE = (
    r"(?:next|in\s+the\s+(?:next|coming)|over\s+the\s+(?:next|coming)|(?:the\s+)?(?:coming|upcoming))\s+"
    r"(?:(?:\d+|few|couple\s+of)\s+)?(?:days?|weeks?|months?|quarters?|years?|seasons?|holidays?|"
    r"christmas|summer|winter|spring|autumn|fall|sale)\b"
)
FUTURE_BUY_RE = rx(  # buying said in the future: a prediction, not past purchases
    r"(?:\b(?:will|shall|going\s+to|gonna|likely\s+to|about\s+to|expected\s+to|set\s+to|plan(?:s|ning)?\s+to|"
    r"intend(?:s|ing)?\s+to)|'ll)\s+(?:(?:probably|likely|definitely|soon|actually|still|also|most\s+likely)\s+)?"
    r"(?:buy|purchase|order|shop|spend|convert|repurchase|come\s+back)\b",
    r"\b(?:likely|future|next)\s+(?:buyers|purchasers|converters)\b",
    r"\bnext\s+(?:week|month|quarter|year|season)(?:'s)?\s+(?:buyers|purchasers|customers)\b",
    rf"\b(?:buy|buys|purchase|purchases|order|orders|shop|shops|spend|spends)\b(?=(?:\W+[\w']+){{0,6}}?\W+{_FUTURE})",
)
THEMED_AFTER_RE = re.compile(r"[\s-]*(?:themed|theme|colou?red|lovers?|fans?|enthusiasts?)\b")
FAV_AFTER_RE = re.compile(r"\s+(?:as\s+)?(?:their\s+|a\s+|the\s+)?(?:favou?rite|preferred)(?:\s+colou?rs?)?\b")
FAV_BEFORE_RE = re.compile(r"(?:favou?rite|preferred)\s+colou?rs?\s*(?:is|are|was|of|=|:)?\s*(?:either\s+)?$")
CONJ_GAP_RE = re.compile(r"(?:[\s,&/+]|\b(?:and|or|plus|as\s+well\s+as|either|both|also|the|some|any|a|an|of)\b)*")
COLOR_AFTER_GAP_RE = re.compile(r"\s*(?:in|colou?red|in\s+colou?r)\s*")
ADD_MODE_RE = rx(r"\b(?:also|add|plus|too|as\s+well|include|including)\b")
FOLLOW_START_RE = rx(
    r"^\W*(?:and|but|also|only|just|now|then|plus|add|remove|drop|exclude|excluding|except|without|same|instead|"
    r"limit|make\s+it|narrow|filter|what\s+about|how\s+about|of\s+(?:those|them|these)|among\s+(?:them|those|these)|"
    r"from\s+(?:those|them|these)|sort|order|rank|why|explain|how\s+come|show\s+(?:them|those|me\s+them))\b"
)
PRONOUN_RE = rx(r"\b(?:them|those|these|they|ones|instead)\b")
SEGMENT_REQUEST_RE = rx(r"\b(?:list|show|who\s+are|give\s+me|export)\b")

# ---------------------------------------------------------------------------- lookalikes (discovery.offline.lookalikes)
# One regex per phrasing (they share the group names n and name); n: how many, name: a saved audience's name.
_THESE = (
    r"(?:these|those|them|this\s+(?:segment|audience|group|list|one)|the(?:se|m)?\s+(?:ones|customers|people|results))"
)
_LIKE = r"(?:like|similar\s+to|resembling|matching|comparable\s+to)"
_N = rf"(?:(?P<n>{NUM})\s+)?"
_ALIKES = r"look[\s-]?alikes?"
_WHO = rf"(?:(?:{PEOPLE}|ones|{_ALIKES})\s+)?"  # "customers like ...", "lookalikes of ..."
_OF = rf"(?:{_LIKE}|(?:{_ALIKES}\s+)?(?:of|for))"
_NAME = r"[\"“‘']?(?P<name>[^\"”’'.,;!?]+?)[\"”’']?"
_NAME_END = r"(?=\s*$|\s*[.,;!?]|\s+(?:in|from|who|that|with|but|and|only|please)\b)"
MORE_LIKE_RES = tuple(  # seeds: the thread's last segment
    re.compile(p)
    for p in (
        rf"{_N}\b(?:more|other|additional|further|extra|new)\s+(?:{PEOPLE}\s+|ones\s+)?{_LIKE}\s+{_THESE}\b",
        rf"{_N}\b(?:{PEOPLE}|ones)\s+{_LIKE}\s+{_THESE}\b",
        rf"{_N}\b(?:{_ALIKES}|look[\s-]?alike\s+{PEOPLE})(?:\s+(?:of|for|to)\s+{_THESE})?",
        rf"{_N}\b(?:more\s+)?similar\s+(?:{PEOPLE}|ones)\b(?:\s+to\s+{_THESE})?",
        rf"\b(?:expand|extend|grow)\s+(?:this|the|these|that)\s+(?:segment|audience|group|list)\b"
        rf"(?:\s+(?:to|by)\s+(?P<n>{NUM}))?",
    )
)
AUDIENCE_LIKE_RES = tuple(  # seeds: a saved audience ("customers like the Luxury PL audience")
    re.compile(p)
    for p in (
        rf"{_N}\b{_WHO}{_OF}\s+(?:the\s+|our\s+|my\s+)?(?:saved\s+)?audience\s+(?:called\s+|named\s+)?{_NAME}{_NAME_END}",
        rf"{_N}\b{_WHO}{_OF}\s+(?:the\s+|our\s+|my\s+){_NAME}\s+(?:saved\s+)?audience\b",
    )
)

# Widening or narrowing the semantic refinement of the previous segment (AudienceQuery.refine).
_MATCHES = r"(?:matches|matching\s+(?:ones|profiles)|ones|candidates|profiles|fits)"
_CUT = r"(?:the\s+)?(?:cut(?:off)?|threshold|refinement|match(?:es|ing)?|semantic\s+(?:cut|filter))"
REFINE_WIDER_RE = rx(
    rf"\b(?:weaker|weak|looser|loose|broader|less\s+(?:similar|close|strict)|borderline|partial)\s+{_MATCHES}\b",
    rf"\b(?:widen|broaden|loosen|relax|lower)\s+{_CUT}\b",
    r"\b(?:be\s+)?less\s+strict\b",
    r"\bmore\s+(?:loosely|broadly)\b",
)
REFINE_NARROWER_RE = rx(
    rf"\b(?:strongest|strong|closest|clearest|tightest|strict(?:er)?|exact)\s+{_MATCHES}\b",
    rf"\b(?:tighten|narrow|raise|sharpen)\s+{_CUT}\b",
    r"\b(?:be\s+)?(?:more\s+strict|stricter)\b",
)
REFINE_OFF_RE = rx(
    rf"\b(?:no|without(?:\s+any)?|drop|remove|skip|turn\s+off|switch\s+off)\s+{_CUT}\b",
    r"\b(?:all|every(?:one)?)\s+(?:of\s+)?(?:the\s+)?gate(?:d)?(?:\s+customers)?\b",
)
REFINE_AUTO_RE = rx(rf"\b(?:default|normal|natural|usual)\s+{_CUT}\b", r"\bnatural\s+break\b")
