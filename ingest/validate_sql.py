"""Validation in SQL: staging rows (all text) become typed rows or rejects with a reason.

Each rule is (reason, SQL condition that is true when the row is bad); the first rule that
matches names the row's reason. Rules are evaluated in order inside one CASE, so a cast
only runs after the check that makes it safe.
"""

from __future__ import annotations

from ingest.files import CRM, EVENTS, FileSpec

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


def _timestamp(col: str, order: str, nullable: bool = False) -> tuple[str, str]:
    c = f"s.{col}"
    return (
        f"unparseable {col}",
        (f"btrim({c}) <> '' AND " if nullable else "")
        + f"NOT pg_input_is_valid({ts_text(c, order)}, 'timestamptz') OR lower(btrim({c})) IN ('infinity', '-infinity', 'epoch', 'now', 'today', 'tomorrow', 'yesterday')",
    )


def crm_rules(order: str, nullable: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """`nullable`: columns an empty value is allowed in (stored NULL): optional fields of a mapped export."""
    return [
        *(_empty(c) for c in CRM.columns if c not in nullable),
        _typed("customer_id", "bigint", "an integer"),
        _typed("age", "integer", "an integer"),
        ("negative age", "btrim(s.age)::integer < 0"),
        ("age above 150", "btrim(s.age)::integer > 150"),
        _typed("total_spent", "numeric(14,2)", "a number"),
        ("negative total_spent", "btrim(s.total_spent)::numeric < 0"),
        _timestamp("created_at", order, "created_at" in nullable),
        ("duplicate customer_id", "s.dup_rank > 1"),
    ]


def event_rules(order: str) -> list[tuple[str, str]]:
    return [
        *(_empty(c) for c in EVENTS.columns),
        _typed("event_id", "bigint", "an integer"),
        _typed("customer_id", "bigint", "an integer"),
        _typed("price", "numeric(14,2)", "a number"),
        ("negative price", "btrim(s.price)::numeric < 0"),
        _timestamp("event_timestamp", order),
        ("unknown customer_id", "c.customer_id IS NULL"),
    ]


def reason_case(rules: list[tuple[str, str]]) -> str:
    whens = "\n".join(f"        WHEN {cond} THEN '{reason}'" for reason, cond in rules)
    return f"CASE\n{whens}\n    END"


def raw_line(spec: FileSpec, prefix: str = "") -> str:
    """The record as it was parsed, re-joined with commas (for the rejects table)."""
    cols = ", ".join(f"{prefix}{c}" for c in spec.columns)
    return f"array_to_string(ARRAY[{cols}], ',', '')"


def crm_source(order: str, nullable: tuple[str, ...] = ()) -> str:
    """Staged CRM rows with the duplicate rank and the reject reason (NULL = good)."""
    return f"""
    SELECT s.*, {reason_case(crm_rules(order, nullable))} AS reason
    FROM (
        SELECT st.*, CASE WHEN pg_input_is_valid(btrim(st.customer_id), 'bigint')
                     THEN row_number() OVER (PARTITION BY CASE WHEN pg_input_is_valid(btrim(st.customer_id), 'bigint')
                                                          THEN btrim(st.customer_id)::bigint END
                                             ORDER BY st.line_no) END AS dup_rank
        FROM stg_crm st
    ) s"""


def events_source(order: str) -> str:
    """Staged events joined to the valid customers, with the reject reason (NULL = good)."""
    return f"""
    SELECT s.*, {reason_case(event_rules(order))} AS reason
    FROM stg_events s
    LEFT JOIN customers_new c
      ON c.customer_id = CASE WHEN pg_input_is_valid(btrim(s.customer_id), 'bigint')
                              THEN btrim(s.customer_id)::bigint END"""


def crm_typed(order: str, nullable: tuple[str, ...] = ()) -> str:
    created = ts_value("created_at", order)
    if "created_at" in nullable:
        created = f"CASE WHEN btrim(created_at) = '' THEN NULL ELSE {created} END"
    return f"""
    btrim(customer_id)::bigint, btrim(first_name), btrim(last_name), btrim(email), btrim(country),
    btrim(age)::integer, btrim(total_spent)::numeric(14,2), lower(btrim(favorite_color)), {created}"""


def events_typed(order: str) -> str:
    return f"""
    btrim(event_id)::bigint, btrim(customer_id)::bigint, lower(btrim(event_type)), lower(btrim(product)),
    lower(btrim(color)), btrim(price)::numeric(14,2), {ts_value("event_timestamp", order)}"""
