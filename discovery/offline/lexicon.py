"""The offline planner's word lists: data, not code (the regex tables are in discovery.offline.patterns).

Language only — number words, keywords that say what a number is, filler and stop words,
demonyms — never the data's vocabulary: products, colors and countries come from the Catalogue.
"""

from __future__ import annotations

import calendar


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one string (readable word lists)."""
    return frozenset(text.split())


def _numbered(text: str) -> dict[str, int]:
    """'one=1 a_dozen=12' -> {'one': 1, 'a dozen': 12}."""
    pairs = (item.split("=") for item in text.split())
    return {word.replace("_", " "): int(value) for word, value in pairs}


LATELY_DAYS = 30  # "lately", "recently", "recent buyers"
YOUNG_MAX_AGE = 29  # "young"
SENIOR_MIN_AGE = 60  # "senior", "elderly", "older customers"

NUM_WORDS = _numbered(
    """zero=0 one=1 two=2 three=3 four=4 five=5 six=6 seven=7 eight=8 nine=9 ten=10 eleven=11 twelve=12
    thirteen=13 fourteen=14 fifteen=15 sixteen=16 seventeen=17 eighteen=18 nineteen=19 twenty=20 thirty=30
    forty=40 fifty=50 sixty=60 seventy=70 eighty=80 ninety=90 hundred=100 a_hundred=100 a_thousand=1000
    a_dozen=12 dozen=12"""
)
REPEAT_WORDS = {"once": 1, "twice": 2, "thrice": 3}
DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70}

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9

# The nearest of these keywords decides what a number compares: an age, a spend or a price.
AGE_KW = word_set("age aged ages old older younger young years year yo yrs")
SPEND_KW = word_set("spent spend spends spending spender spenders total ltv lifetime revenue")
PRICE_KW = word_set("price priced prices cost costs costing worth pricing expensive item items")
SPEND_WORDS = word_set("spent spend spends spending spender spenders revenue")  # "spent 500 on shoes"

# Analytics: which nouns a count is about, which words near "average" name its field.
PURCHASE_NOUNS = ("purchases", "orders", "sales")
VIEW_NOUNS = ("views", "clicks", "visits")
AVG_AGE_WORDS = word_set("age old ages")
AVG_PRICE_WORDS = word_set("price prices order basket ticket")
GROUP_NAMES = (  # the start of a grouping word -> AnalyticsQuery.group_by ("likes_luxury" otherwise)
    ("countr", "country"),
    ("favo", "favorite_color"),
    ("colo", "color"),
    ("age", "age_band"),
    ("product", "product"),
    ("item", "product"),
    ("event", "event_type"),
    ("month", "month"),
)

# A small language resource (not data vocabulary): demonyms and everyday aliases, by ISO code.
DEMONYMS = {
    "PL": "polish pole poles",
    "DE": "german germans",
    "CZ": "czech czechs",
    "AT": "austrian austrians",
    "FR": "french",
    "IT": "italian italians",
    "ES": "spanish spaniard spaniards",
    "NL": "dutch holland",
    "BE": "belgian belgians",
    "CH": "swiss",
    "GB": "british brits uk britain england english",
    "IE": "irish",
    "PT": "portuguese",
    "GR": "greek greeks",
    "HU": "hungarian hungarians",
    "SK": "slovak slovaks slovakian",
    "SI": "slovenian slovenians",
    "HR": "croatian croatians",
    "RO": "romanian romanians",
    "BG": "bulgarian bulgarians",
    "RS": "serbian serbians",
    "UA": "ukrainian ukrainians",
    "LT": "lithuanian lithuanians",
    "LV": "latvian latvians",
    "EE": "estonian estonians",
    "SE": "swedish swede swedes",
    "NO": "norwegian norwegians",
    "DK": "danish dane danes",
    "FI": "finnish finn finns",
    "TR": "turkish",
    "RU": "russian russians",
    "US": "american americans usa america",
    "CA": "canadian canadians",
    "MX": "mexican mexicans",
    "BR": "brazilian brazilians",
    "JP": "japanese",
    "CN": "chinese",
    "IN": "indian indians",
    "AU": "australian australians",
    "NZ": "newzealander kiwi kiwis",
    "LU": "luxembourgish",
}
# Country names that are also English words: a country only after "from", "in", ...
AMBIGUOUS_NAMES = word_set("jersey chad turkey china jordan georgia guinea kiwi kiwis pole poles")
ENGLISH_SHORT = word_set("a am an as at be by do go he hi id if in is it me my no of oh ok on or so to up us we pm tv")
COUNTRY_CONTEXT = word_set("from in to living based outside except excluding exclude than not")

STOP = word_set(
    """a an the of with in and or for to from on at by as is are was were be been being am do does did have has had
    who whom whose which what that this these those them they their there here it its i me my we us our you your
    find show list give get suggest recommend identify pull select target fetch search build create send return
    display tell let see want need would could can should will may might please thanks thank hi hello hey help
    customers customer users user people person persons audience audiences campaign campaigns segment segments
    shoppers shopper clients client consumers consumer members member contacts contact profiles profile everyone
    everybody anyone anybody someone cohort group groups crowd base database data db table records record rows
    all any some every each only just also too very really more most less least much many than then so such
    how why when where whether not no never yet ever already still about into like likes liked love loves
    interested interest interests fan fans keen lovers lover items item products product things thing stuff
    goods article articles something anything everything one ones other others else same new existing current
    ad ads email emails newsletter promo promotion promotions marketing offer offers push message messages
    based living live lives located country countries region market markets city
    years year old aged age ages spent spend spends spending spender spenders total price priced prices cost costs
    costing worth value money euro euros eur dollars usd times time period days day weeks week months month
    lists top first best last recent number count amount average avg mean sum
    potential online active loyal frequent regular big high low good great nice
    among amongst but however though although per vs versus via including include using use used well
    either both neither nor
    name names called named type types kind sort order ordered rank ranked favourite favorite preferred color colour
    colors colours theme themed pick event events
    made make makes placed place break breakdown down split often next upcoming coming"""
)
GENERIC_OBJECTS = word_set(
    """items item products product things thing stuff goods anything something everything article articles
    history count value amount"""
)
BOUNDARY = word_set(
    """in from who that which and or with during over since at for but last past than more less on to are is were
    have has this within between before after until ago where whose living based"""
)
SUBJECTS = word_set(
    """customers customer users user people persons audience audiences segment shoppers clients buyers purchasers
    consumers members contacts everyone everybody anyone profiles cohort lovers fans enthusiasts"""
)
ALL_WORDS = word_set("all every everyone everybody whole entire")
REQUESTS = word_set(
    "find show list give get suggest recommend identify pull select target build create export fetch search who "
    "which how count"
)
NEG_FILLER = word_set(
    """have has had ever yet did do does been to any the from in living based also really actually even once who
    customers people users are is those ones for a an made make placed"""
)
POSTFIX_FILLER = word_set("in their the a to")
REFERS_BACK = ("them", "it", "those", "these", "one", "ones")

# The event types of the data (as stored) are matched to what a verb means by these word parts.
CONCEPT_WORDS = {
    "purchase": ("purchase", "order", "buy", "checkout", "transaction", "sale"),
    "add_to_cart": ("cart", "basket"),
    "view": ("view", "visit", "browse", "click", "impression"),
    "return": ("return", "refund"),
    "subscription": ("subscri", "signup", "sign_up", "newsletter"),
    "email": ("mail", "newsletter"),
}
CONCEPT_LABELS = {"email": "e-mail engagement events such as opens, clicks or replies"}
# Words that judge customers without describing them: an intent of only these ranks everyone by noise.
EVALUATIVE = word_set(
    """right correct proper appropriate suitable relevant ideal perfect optimal good better great nice fine excellent
    awesome amazing best interesting valuable important key main target targeted promising qualified worthwhile
    useful strong solid decent real specific particular certain quality"""
)
NOT_INTENT = STOP | EVALUATIVE  # words that never describe a customer
