"""Validation in SQL: staging rows (all text) become typed rows or rejects with a reason.

Each rule is (reason, SQL condition that is true when the row is bad); the first rule that
matches names the row's reason. Rules are evaluated in order inside one CASE, so a cast
only runs after the check that makes it safe.
"""

from __future__ import annotations

from ingest.files import FileSpec

_BAD_NUMBER = "lower(btrim({c})) IN ('nan', 'infinity', '+infinity', '-infinity', 'inf', '-inf')"


def _empty(col: str) -> tuple[str, str]:
    return (f"empty {col}", f"s.{col} IS NULL OR btrim(s.{col}) = ''")


def _typed(col: str, pg_type: str, label: str) -> tuple[str, str]:
    c = f"s.{col}"
    return (f"{col} is not {label}", f"NOT pg_input_is_valid(btrim({c}), '{pg_type}') OR " + _BAD_NUMBER.format(c=c))


# dd/mm/yyyy or mm/dd/yyyy (also with . or -): which is which is settled per column (dates.py).
SLASH_DATE = r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
_SWAP = {"DMY": r"\3-\2-\1", "MDY": r"\3-\1-\2"}


def ts_text(col: str, order: str) -> str:
    """The column's text with a day/month/year date rewritten to ISO in `order` (DMY or MDY)."""
    return f"regexp_replace(btrim({col}), '{SLASH_DATE}', '{_SWAP[order]}')"


def ts_value(col: str, order: str) -> str:
    """The column as a UTC timestamp: an offset is converted, a value without one is UTC (the
    validating transaction sets TimeZone to UTC)."""
    return f"({ts_text(col, order)})::timestamptz AT TIME ZONE 'UTC'"


def _timestamp(col: str, order: str) -> tuple[str, str]:
    c = f"s.{col}"
    return (
        f"unparseable {col}",
        f"NOT pg_input_is_valid({ts_text(c, order)}, 'timestamptz') OR lower(btrim({c})) IN ('infinity', '-infinity', 'epoch', 'now', 'today', 'tomorrow', 'yesterday')",
    )


def crm_rules(order: str) -> list[tuple[str, str]]:
    """What quarantines a CRM row: only its id (every other field is optional: optional_rules)."""
    return [
        _empty("customer_id"),
        _typed("customer_id", "bigint", "an integer"),
        ("duplicate customer_id", "s.dup_rank > 1"),
    ]


def event_rules(order: str) -> list[tuple[str, str]]:
    """What quarantines an event: its id, customer, type or time (product, color, price are optional)."""
    return [
        *(_empty(c) for c in ("event_id", "customer_id", "event_type", "event_timestamp")),
        _typed("event_id", "bigint", "an integer"),
        _typed("customer_id", "bigint", "an integer"),
        _timestamp("event_timestamp", order),
        ("unknown customer_id", "c.customer_id IS NULL"),
    ]


# Optional fields: a value that is missing or does not read is stored empty (NULL) and counted
# in the run record as "<field>: <reason> (stored empty)"; the row is kept. Per field, the rules
# (reason, condition on the staged text s.<field>) in order: the first that holds is the reason.
# COUNTED: what a mapped export's reader writes for a value it stored empty and counted itself
# (a date not in the mapping's format, a field the mapping leaves out): stored NULL, not counted again.
COUNTED = "\x1f"


def _blank(col: str) -> tuple[str, str]:
    return ("empty", f"s.{col} IS NULL OR btrim(s.{col}) = ''")


def _number(col: str, pg_type: str, label: str) -> tuple[str, str]:
    return (label, _typed(col, pg_type, label)[1])


def optional_rules(kind: str, order: str) -> dict[str, list[tuple[str, str]]]:
    if kind == "events":
        return {
            "product": [_blank("product")],
            "color": [_blank("color")],
            "price": [
                _blank("price"),
                _number("price", "numeric(14,2)", "not a number"),
                ("negative", "btrim(s.price)::numeric < 0"),
            ],
        }
    ts = _timestamp("created_at", order)[1]
    return {
        **{c: [_blank(c)] for c in ("first_name", "last_name", "email", "country", "favorite_color")},
        "age": [
            _blank("age"),
            _number("age", "integer", "not an integer"),
            ("negative", "btrim(s.age)::integer < 0"),
            ("above 150", "btrim(s.age)::integer > 150"),
        ],
        "total_spent": [
            _blank("total_spent"),
            _number("total_spent", "numeric(14,2)", "not a number"),
            ("negative", "btrim(s.total_spent)::numeric < 0"),
        ],
        "created_at": [_blank("created_at"), ("unparseable", ts)],
    }


def optional_columns(kind: str, order: str, mapped: bool) -> str:
    """`, CASE … END AS e_<field>` per optional field: why it is stored empty (NULL: it is not;
    '': a mapped export's reader counted it already)."""
    out = []
    for col, rules in optional_rules(kind, order).items():
        if mapped:
            rules = [("", f"s.{col} = chr({ord(COUNTED)})"), *rules]
        out.append(f"{reason_case(rules)} AS e_{col}")
    return "".join(f",\n    {e}" for e in out)


# The same on the typed rows of the fast path (PostgreSQL's COPY has parsed every value).
TYPED_OPTIONAL: dict[str, dict[str, list[tuple[str, str]]]] = {
    "crm": {
        **{
            c: [("empty", f"t.{c} IS NULL OR btrim(t.{c}) = ''")]
            for c in ("first_name", "last_name", "email", "country", "favorite_color")
        },
        "age": [("empty", "t.age IS NULL"), ("negative", "t.age < 0"), ("above 150", "t.age > 150")],
        "total_spent": [
            ("empty", "t.total_spent IS NULL"),
            ("not a number", "t.total_spent = 'NaN'"),
            ("negative", "t.total_spent < 0"),
        ],
        "created_at": [
            ("empty", "t.created_at IS NULL"),
            ("unparseable", "t.created_at NOT BETWEEN '1900-01-01' AND '2200-01-01'"),
        ],
    },
    # product / color: empty ones are found on the vocabulary (ingest/vocabulary.py)
    "events": {
        "price": [("empty", "t.price IS NULL"), ("not a number", "t.price = 'NaN'"), ("negative", "t.price < 0")]
    },
}


def stored_empty_counts(table: str, columns: list[str] | tuple[str, ...], where: str = "reason IS NULL") -> str:
    """Per field and reason, how many kept rows of `table` (with e_<field> columns) store it empty."""
    values = ", ".join(f"('{c}', e_{c})" for c in columns)
    return (
        f"SELECT x.field || ': ' || x.why || ' (stored empty)', count(*) FROM {table} "
        f"CROSS JOIN LATERAL (VALUES {values}) AS x(field, why) "
        f"WHERE {where} AND x.why <> '' GROUP BY 1"
    )


def reason_case(rules: list[tuple[str, str]]) -> str:
    whens = "\n".join(f"        WHEN {cond} THEN '{reason}'" for reason, cond in rules)
    return f"CASE\n{whens}\n    END"


def raw_line(spec: FileSpec, prefix: str = "") -> str:
    """The record as it was parsed, re-joined with commas (for the rejects table)."""
    cols = ", ".join(f"{prefix}{c}" for c in spec.columns)
    return f"array_to_string(ARRAY[{cols}], ',', '')"


def crm_source(order: str, mapped: bool = False) -> str:
    """Staged CRM rows with the duplicate rank, the reject reason (NULL = good) and why each
    optional field is stored empty (e_<field>)."""
    return f"""
    SELECT s.*, {reason_case(crm_rules(order))} AS reason{optional_columns("crm", order, mapped)}
    FROM (
        SELECT st.*, CASE WHEN pg_input_is_valid(btrim(st.customer_id), 'bigint')
                     THEN row_number() OVER (PARTITION BY CASE WHEN pg_input_is_valid(btrim(st.customer_id), 'bigint')
                                                          THEN btrim(st.customer_id)::bigint END
                                             ORDER BY st.line_no) END AS dup_rank
        FROM stg_crm st
    ) s"""


def events_source(order: str, mapped: bool = False) -> str:
    """Staged events joined to the valid customers, with the reject reason (NULL = good) and
    why each optional field is stored empty (e_<field>)."""
    return f"""
    SELECT s.*, {reason_case(event_rules(order))} AS reason{optional_columns("events", order, mapped)}
    FROM stg_events s
    LEFT JOIN customers_new c
      ON c.customer_id = CASE WHEN pg_input_is_valid(btrim(s.customer_id), 'bigint')
                              THEN btrim(s.customer_id)::bigint END"""


def _kept(col: str, value: str) -> str:
    return f"CASE WHEN e_{col} IS NULL THEN {value} END"


def crm_typed(order: str) -> str:
    return f"""
    btrim(customer_id)::bigint, {_kept("first_name", "btrim(first_name)")}, {_kept("last_name", "btrim(last_name)")},
    {_kept("email", "btrim(email)")}, {_kept("country", "btrim(country)")}, {_kept("age", "btrim(age)::integer")},
    {_kept("total_spent", "btrim(total_spent)::numeric(14,2)")}, {_kept("favorite_color", "lower(btrim(favorite_color))")},
    {_kept("created_at", ts_value("created_at", order))}"""


def events_typed(order: str) -> str:
    return f"""
    btrim(event_id)::bigint, btrim(customer_id)::bigint, lower(btrim(event_type)), {_kept("product", "lower(btrim(product))")},
    {_kept("color", "lower(btrim(color))")}, {_kept("price", "btrim(price)::numeric(14,2)")},
    {ts_value("event_timestamp", order)}"""
