"""Stage 2: feature engineering in SQL, then the profile text per customer (also in SQL, from
the sentences ingest.profile_text writes once per distinct value).

Per customer: weighted scores per product and per color (event weights configurable),
primary interests (top 2 products), preferred colors (top 2), luxury tag, event counts
per type, purchases, last activity. Ties break by name, so results are deterministic.
"""

from __future__ import annotations

import hashlib
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cdp.settings import Settings
from ingest import attributes
from ingest import profile_text as pt
from ingest.files import CopySource
from ingest.progress import Progress

log = logging.getLogger(__name__)


def _weights_values(settings: Settings) -> tuple[str, dict]:
    params: dict = {"default_weight": settings.default_event_weight}
    rows = []
    for i, (event_type, weight) in enumerate(sorted(settings.event_weights.items())):
        params[f"t{i}"], params[f"w{i}"] = event_type, float(weight)
        rows.append(f"(CAST(:t{i} AS text), CAST(:w{i} AS double precision))")
    if not rows:
        rows.append("(CAST(NULL AS text), CAST(NULL AS double precision))")
    return "VALUES " + ", ".join(rows), params


# Shared with the gate's customer_facts (ingest/facts.py), which must agree with the profiles.
# :luxury = Settings.luxury_threshold; an unknown spend is not luxury
LIKES_LUXURY_SQL = "COALESCE(c.total_spent > :luxury, false)"
PURCHASE_TYPE = "purchase"


def build_core(engine: Engine, settings: Settings) -> None:
    """profile_core: one row per valid customer with its behavioural features.

    Three plain GROUP BYs (per product, per color, per event type): at 20 M events they
    stay linear, where one GROUPING SETS query spilled and took minutes.
    """
    values, params = _weights_values(settings)
    params["luxury"] = settings.luxury_threshold
    weighted = f"""FROM events_new e LEFT JOIN ({values}) AS w(event_type, weight) ON w.event_type = e.event_type"""
    score = "sum(COALESCE(w.weight, :default_weight))"
    with engine.begin() as conn:
        # per hash table and parallel worker (a hash may take twice that): 512 MB took PostgreSQL's real footprint
        # (summed PSS) to 2.3-2.4 GB at 1 M customers while the index and facts stages ran beside; 256 MB: 1.8 GB,
        # the stage as fast (bench/RESULTS.md)
        conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
        for t in ("facet_product", "facet_color", "facet_type", "profile_core"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {t}"))
        conn.execute(
            sa.text(
                f"CREATE UNLOGGED TABLE facet_product AS SELECT e.customer_id, e.product, {score} AS score {weighted} "
                "WHERE e.product IS NOT NULL GROUP BY 1, 2"
            ),
            params,
        )
        conn.execute(
            sa.text(
                f"CREATE UNLOGGED TABLE facet_color AS SELECT e.customer_id, e.color, {score} AS score {weighted} "
                "WHERE e.color IS NOT NULL GROUP BY 1, 2"
            ),
            params,
        )
        conn.execute(
            sa.text(
                """CREATE UNLOGGED TABLE facet_type AS
                   SELECT customer_id, event_type, count(*) AS n, max(event_timestamp) AS last_ts
                   FROM events_new GROUP BY 1, 2"""
            )
        )
        conn.execute(
            sa.text(
                f"""
            CREATE UNLOGGED TABLE profile_core AS
            SELECT c.customer_id,
                   COALESCE(p.interests, '{{}}') AS interests,
                   COALESCE(k.preferred_colors, '{{}}') AS preferred_colors,
                   {LIKES_LUXURY_SQL} AS likes_luxury,
                   COALESCE(p.product_scores, '{{}}'::jsonb) AS product_scores,
                   COALESCE(k.color_scores, '{{}}'::jsonb) AS color_scores,
                   COALESCE(t.event_counts, '{{}}'::jsonb) AS event_counts,
                   COALESCE(t.purchases, 0) AS purchases,
                   COALESCE(t.events, 0) AS events,
                   t.last_activity
            FROM customers_new c
            LEFT JOIN (
                SELECT customer_id,
                       (array_agg(product ORDER BY score DESC, product))[1:2] AS interests,
                       jsonb_object_agg(product, round(score::numeric, 3)) AS product_scores
                FROM facet_product GROUP BY customer_id
            ) p USING (customer_id)
            LEFT JOIN (
                SELECT customer_id,
                       (array_agg(color ORDER BY score DESC, color))[1:2] AS preferred_colors,
                       jsonb_object_agg(color, round(score::numeric, 3)) AS color_scores
                FROM facet_color GROUP BY customer_id
            ) k USING (customer_id)
            LEFT JOIN (
                SELECT customer_id,
                       jsonb_object_agg(event_type, n) AS event_counts,
                       sum(n) FILTER (WHERE event_type = '{PURCHASE_TYPE}') AS purchases,
                       sum(n) AS events,
                       max(last_ts) AS last_activity
                FROM facet_type GROUP BY customer_id
            ) t USING (customer_id)
            """
            ),
            params,
        )
        for t in ("facet_product", "facet_color", "facet_type"):
            conn.execute(sa.text(f"DROP TABLE {t}"))


def text_hash(text: str) -> str:
    """The profile text's hash as customer_profiles.text_hash holds it (PostgreSQL's md5 of the UTF-8 text)."""
    return hashlib.md5(text.encode()).hexdigest()


# Each sentence of the profile text depends on one part of the profile (ingest.profile_text):
# the table of that part's distinct values, the columns holding them, and the sentence per value.
# An unknown country, age or favourite colour (NULL) is keyed as KEY_NONE (never a value: empty
# values are stored NULL, ages are not negative), so the joins stay equi-joins (hashable).
KEY_NONE = {"country": "''", "age": "-1", "favorite_color": "''"}


def _key(column: str, alias: str = "") -> str:
    return f"COALESCE({alias}{column}, {KEY_NONE[column]})"


def _unkeyed(sentence):
    """The sentence function taking KEY_NONE keys as None."""
    return lambda *keys: sentence(*(None if k in ("", -1) else k for k in keys))


_SENTENCES = (
    (
        "tx_place",
        f"SELECT DISTINCT {_key('country')} AS country, {_key('age')} AS age FROM customers_new",
        _unkeyed(pt.place_sentence),
    ),
    (
        "tx_favourite",
        f"SELECT DISTINCT {_key('favorite_color')} AS favorite_color FROM customers_new",
        _unkeyed(pt.favourite_sentence),
    ),
    ("tx_interests", "SELECT DISTINCT interests FROM profile_core", pt.interest_sentence),
    ("tx_preferences", "SELECT DISTINCT preferred_colors FROM profile_core", pt.preference_sentence),
)

TEXTS_SQL = """CREATE TABLE customer_profiles_new AS
    SELECT q.*, md5(q.profile_text) AS text_hash
    FROM (SELECT p.*,
                 concat_ws(' ', a.s, f.s, i.s, k.s,
                           CASE WHEN p.likes_luxury THEN CAST(:luxury_yes AS text) ELSE CAST(:luxury_no AS text) END,
                           {attribute_sentence}
                 ) AS profile_text
          FROM profile_core p
          JOIN customers_new c USING (customer_id)
          JOIN tx_place a ON a.country = {country} AND a.age = {age}
          JOIN tx_favourite f ON f.favorite_color = {favorite_color}
          JOIN tx_interests i ON i.interests = p.interests
          JOIN tx_preferences k ON k.preferred_colors = p.preferred_colors
          {attribute_join}) q"""


def _attribute_sentences(conn: sa.Connection) -> tuple[str, str, int]:
    """(sentence expression, joins, values) for the custom attributes marked semantic: each customer's
    phrases in tx_phrases, each distinct phrase list's sentence (profile_text.attribute_sentence) in
    tx_attributes. No such attributes: NULL and no join."""
    join, phrases, params = attributes.semantic_sql(conn)
    if not join:
        return "CAST(NULL AS text)", "", 0
    conn.execute(
        sa.text(
            f"CREATE TEMP TABLE tx_phrases ON COMMIT DROP AS "
            f"SELECT c.customer_id, {phrases} AS phrases FROM customers_new c {join}"
        ),
        params,
    )
    conn.execute(sa.text("ALTER TABLE tx_phrases ADD PRIMARY KEY (customer_id)"))
    values = _write_sentences(
        conn, "tx_attributes", "SELECT DISTINCT phrases FROM tx_phrases", lambda ph: pt.attribute_sentence(ph or [])
    )
    joins = "JOIN tx_phrases ph USING (customer_id) JOIN tx_attributes t ON t.phrases = ph.phrases"
    return "t.s", joins, values


def _write_sentences(conn: sa.Connection, table: str, distinct_sql: str, sentence) -> int:
    """`table`: each distinct value of one part of the profile with its sentence (NULL: none),
    written by the profile-text function itself. Returns the number of values."""
    conn.execute(sa.text(f"CREATE TEMP TABLE {table} ON COMMIT DROP AS {distinct_sql}"))
    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN id bigserial, ADD COLUMN s text"))
    rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()  # the key columns, id, s
    sentences = ([row[-2], sentence(*row[:-2])] for row in rows)
    conn.execute(sa.text(f"CREATE TEMP TABLE {table}_s (id bigint, s text) ON COMMIT DROP"))
    cursor = conn.connection.dbapi_connection.cursor()
    source = CopySource(sentences)
    try:
        cursor.copy_expert(f"COPY {table}_s FROM STDIN WITH (FORMAT csv)", source)
    except Exception:
        if source.error is not None:
            raise source.error from None
        raise
    conn.execute(sa.text(f"UPDATE {table} t SET s = x.s FROM {table}_s x WHERE x.id = t.id"))
    conn.execute(sa.text(f"ANALYZE {table}"))
    return len(rows)


def build_texts(engine: Engine, progress: Progress) -> None:
    """customer_profiles_new: profile_core with each customer's profile text and its hash.

    The texts are assembled in SQL from sentences the profile-text function writes once per
    distinct value of each part (a few hundred at 1 M customers, against 1 M calls)."""
    bar = progress.bar("profile texts", unit="sentences")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL work_mem = '64MB'"))
            conn.execute(sa.text("DROP TABLE IF EXISTS customer_profiles_new"))
            for table, distinct_sql, sentence in _SENTENCES:
                bar.update(_write_sentences(conn, table, distinct_sql, sentence))
            sentence, joins, values = _attribute_sentences(conn)
            bar.update(values)
            params = {"luxury_yes": pt.luxury_sentence(True), "luxury_no": pt.luxury_sentence(False)}
            keys = {c: _key(c, "c.") for c in KEY_NONE}
            sql = TEXTS_SQL.format(attribute_sentence=sentence, attribute_join=joins, **keys)
            conn.execute(sa.text(sql), params)
            conn.execute(sa.text("ALTER TABLE customer_profiles_new ADD PRIMARY KEY (customer_id)"))
            conn.execute(sa.text("DROP TABLE profile_core"))
            conn.execute(sa.text("ANALYZE customer_profiles_new"))
    finally:
        bar.close()


def profile_diff(conn: sa.Connection) -> dict[str, int]:
    """Customers added / changed (profile text) / removed against the live profiles."""
    if not conn.execute(sa.text("SELECT to_regclass('customer_profiles') IS NOT NULL")).scalar():
        added = conn.execute(sa.text("SELECT count(*) FROM customer_profiles_new")).scalar()
        return {"added": added, "changed": 0, "removed": 0}
    row = conn.execute(
        sa.text(
            """SELECT count(*) FILTER (WHERE o.customer_id IS NULL),
                      count(*) FILTER (WHERE n.customer_id IS NOT NULL AND o.customer_id IS NOT NULL
                                        AND n.text_hash <> o.text_hash),
                      count(*) FILTER (WHERE n.customer_id IS NULL)
               FROM customer_profiles_new n FULL JOIN customer_profiles o USING (customer_id)"""
        )
    ).one()
    return {"added": row[0], "changed": row[1], "removed": row[2]}
