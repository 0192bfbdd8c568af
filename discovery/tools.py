"""The agent's tools, collected in a ToolBox beside the conversation: four, and `lookalike` when the thread
has a segment or the question names a saved audience (discovery.agent passes the resolver then).

Tools hand the model compact summaries (counts, ids, interests; never emails); the full segments and
tables stay in the ToolBox, so the customer list of the answer always comes from a tool, never from
the model's text. Each tool is described to the model once, by its docstring (purpose, then one line
of arguments), never as a JSON schema. A successful hybrid_discovery, semantic_search, lookalike or
sql_analytics ends the run (return_direct). When such a call gives the user nothing (an empty
segment, SQL refused), the tool raises ToolRetry: LlamaIndex shows the message to the model as an
error observation (return_direct does not apply to errors) and the model tries again or answers.

Errors:
    ToolRetry   a tool call gave no answer; the message says what was wrong and what to try
"""

# No `from __future__ import annotations` here: FunctionTool reads the tools' annotations at runtime.
import inspect
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool

from cdp.schema import LIVE_TABLES
from discovery.attribute_view import attributes_table_line
from discovery.compile_attributes import ATTRIBUTES_TABLE
from discovery.engine import DiscoveryEngine, Segment, Table
from discovery.errors import DiscoveryError
from discovery.limits import DEFAULT_LIMIT, clamp_limit
from discovery.lookalike import SeedResolver, SeedsUnknown, lookalike, resolve_seeds
from discovery.query import (
    AttributeCondition,
    AudienceQuery,
    Behaviour,
    CRMFilter,
    Lookalike,
    OrderBy,
    RefineMode,
    TimeWindow,
)  # fmt: skip
from discovery.sql_guard import SQLGuardError, SQLRejected, check_where, database_failure, run_guarded
from discovery.usage import MeteredOpenRouter

log = logging.getLogger(__name__)

TEXT_TO_SQL_PROMPT = """Write one PostgreSQL SELECT statement answering the question. Tables:
customers(customer_id bigint, first_name text, last_name text, email text, country text -- ISO code like 'DE',
  age int, total_spent numeric, favorite_color text, created_at timestamp)
events(event_id bigint, customer_id bigint, event_type text -- {event_types}, product text -- {products},
  color text -- {colors}, price numeric, event_timestamp timestamp)  -- {events} rows from {data_min} to {data_max}
customer_profiles(customer_id bigint, interests text[] -- top 2 products, preferred_colors text[],
  likes_luxury boolean, purchases bigint, events bigint, last_activity timestamp){attributes_table}
Never select email. Use only these tables. Return only the SQL, no explanation, no code fence.
Question: {question}
SQL:"""


class ToolRetry(DiscoveryError):
    """A tool call gave the user nothing (an empty segment, SQL refused): the message, which the model
    sees as an error observation, says what was wrong and what to try."""


@dataclass
class ToolBox:
    """What the tools produced during one question (beside the conversation)."""

    engine: DiscoveryEngine
    llm: MeteredOpenRouter
    now: datetime
    progress: object = None
    segments: list[tuple[AudienceQuery | None, Segment]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    answered: Literal["segment", "table"] | None = None  # set when a return_direct tool ended the run
    last_segment: list[int] = field(default_factory=list)  # the thread's last segment: lookalike seeds
    seed_resolver: SeedResolver | None = None  # saved audience name -> member ids (discovery.lookalike)

    # -- tools -------------------------------------------------------------------------------
    def hybrid_discovery(
        self,
        event_types: list[str] | None = None,
        products: list[str] | None = None,
        colors: list[str] | None = None,
        last_days: int | None = None,
        since: str | None = None,
        until: str | None = None,
        min_events: int = 1,
        never: bool = False,
        min_price: float | None = None,
        max_price: float | None = None,
        countries: list[str] | None = None,
        exclude_countries: list[str] | None = None,
        min_age: int | None = None,
        max_age: int | None = None,
        min_spent: float | None = None,
        max_spent: float | None = None,
        favorite_colors: list[str] | None = None,
        likes_luxury: bool | None = None,
        intent: str | None = None,
        order_by: OrderBy = "relevance",
        limit: int = DEFAULT_LIMIT,
        sql_where: str | None = None,
        refine: RefineMode = "auto",
        attributes: list[dict] | None = None,
        event_attributes: list[dict] | None = None,
    ) -> str:
        """Segments ("find/suggest/recommend customers who ..."): facts in the arguments, tastes
        ("fashion", "outdoor lifestyle") in intent, which cuts the gate by similarity.
        Args: event_types, products, colors: lists; last_days: int, or since, until: "YYYY-MM-DD";
        min_events: int; never: true = WITHOUT such events; min_price, max_price; countries,
        exclude_countries: code lists; min_age, max_age; min_spent, max_spent; favorite_colors: list;
        likes_luxury: bool; intent: words; order_by: relevance|total_spent|recent_activity|purchases|age
        (youngest first)|age_desc; limit (20); sql_where: SQL on events (event_type, product, color, price,
        event_timestamp); refine: auto|wider|narrower|off; attributes, event_attributes: [{name, values|exclude|
        gt|gte|lt|lte}] on the attributes listed"""
        args = {k: v for k, v in locals().items() if k not in ("self", "sql_where", "attributes", "event_attributes")}
        on_customers = self._attribute_conditions(attributes or [])
        on_events = self._attribute_conditions(event_attributes or [], "event")
        return self.run_query(typed_query(args, on_customers, on_events), sql_where=sql_where)

    def _attribute_conditions(self, given: list[dict], scope: str = "customer") -> list[AttributeCondition]:
        """The model's attribute conditions, each on an attribute of the catalogue (ToolRetry otherwise)."""
        cat = self.engine.catalogue
        known = {a.name for a in cat.attributes if a.filterable and a.scope == scope}
        out = []
        for item in given:
            name = item.get("name") if isinstance(item, dict) else None
            if name not in known:
                raise ToolRetry(
                    f"Unknown attribute {name!r}: use one of {', '.join(sorted(known)) or 'none (the data has none)'}."
                )
            try:
                out.append(AttributeCondition.model_validate(item))
            except ValueError as exc:
                raise ToolRetry(f"Attribute condition {item!r} is not valid: {exc}") from exc
        return out

    def run_query(self, q: AudienceQuery, sql_where: str | None = None) -> str:
        where = None
        if sql_where:
            try:
                where = check_where(sql_where)
            except SQLRejected as exc:
                self.rejected.append(str(exc))
                raise ToolRetry(
                    f"sql_where rejected: {exc} Put the condition in the typed arguments, or fix sql_where."
                ) from exc
        self.calls.append({"tool": "hybrid_discovery", "query": q.model_dump(mode="json", exclude_defaults=True)})
        log.info("tool hybrid_discovery %s", q.model_dump_json(exclude_defaults=True))
        try:
            seg = self.engine.hybrid(q, now=self.now, sql_where=where, progress=self.progress)
        except sa.exc.DBAPIError as exc:
            if where is None:
                raise
            failure = database_failure(exc, self.engine.settings.sql_statement_timeout_ms)
            self.rejected.append(f"sql_where: {failure}")
            raise ToolRetry(
                f"sql_where failed: {failure}. Put the condition in the typed arguments, or fix sql_where."
            ) from exc
        return self._segment(q, seg)

    def _segment(self, q: AudienceQuery, seg: Segment) -> str:
        self.segments.append((q, seg))
        if not seg.customers:
            windowed = any(b.window is not None for b in q.behaviours)
            loosen = "a longer window, fewer products or filters" if windowed else "fewer products or filters"
            raise ToolRetry(
                f"No customers found: {'; '.join(seg.notes)}. Loosen a condition ({loosen}) and call again, "
                "or Answer why."
            )
        self.answered = "segment"
        return summarize(seg)

    def lookalike(
        self,
        audience: str | None = None,
        limit: int = DEFAULT_LIMIT,
        countries: list[str] | None = None,
        event_types: list[str] | None = None,
        products: list[str] | None = None,
        never: bool = False,
        min_spent: float | None = None,
        min_age: int | None = None,
        max_age: int | None = None,
        likes_luxury: bool | None = None,
    ) -> str:
        """Customers like the last segment ("more like these") or a saved audience, seeds left out.
        Args: audience: saved audience name (omit: the last segment); limit (20); countries; event_types,
        products, never: as hybrid_discovery; min_spent; min_age, max_age; likes_luxury"""
        args = {k: v for k, v in locals().items() if k not in ("self", "audience")}
        q = typed_query(args)
        q = q.model_copy(update={"like": Lookalike(seed_audience=audience or None)})
        try:
            q, seeds = resolve_seeds(q, self.last_segment, self.seed_resolver)
        except SeedsUnknown as exc:
            raise ToolRetry(f"{exc} Or Answer why.") from exc
        self.calls.append({"tool": "lookalike", "query": q.model_dump(mode="json", exclude_defaults=True)})
        log.info("tool lookalike seeds=%d audience=%r", len(seeds), audience)
        return self._segment(q, lookalike(self.engine, q, seeds, now=self.now, progress=self.progress))

    def semantic_search(
        self,
        intent: str,
        countries: list[str] | None = None,
        min_age: int | None = None,
        max_age: int | None = None,
        min_spent: float | None = None,
        likes_luxury: bool | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> str:
        """Only for purely descriptive requests, with no behaviour: the profiles closest to intent.
        Args: intent*: words; countries: code list; min_age, max_age, min_spent; likes_luxury: bool;
        limit (20)"""
        crm = CRMFilter(
            countries=countries or [], min_age=min_age, max_age=max_age, min_spent=min_spent, likes_luxury=likes_luxury
        )
        self.calls.append({"tool": "semantic_search", "intent": intent, "crm": crm.model_dump(exclude_defaults=True)})
        log.info("tool semantic_search intent=%r crm=%s", intent, crm.model_dump_json(exclude_defaults=True))
        seg = self.engine.semantic(intent, crm, clamp_limit(limit))
        return self._segment(AudienceQuery(crm=crm, intent=intent, limit=limit), seg)

    def sql_analytics(self, question: str) -> str:
        """Counts, averages, sums, breakdowns, top-N of groups ("how many", "average", "by country").
        Args: question*: the question in plain words"""
        cat = self.engine.catalogue
        prompt = TEXT_TO_SQL_PROMPT.format(
            question=question, events=cat.events, data_min=iso_day(cat.data_min), data_max=iso_day(cat.data_max),
            event_types=", ".join(cat.event_types), products=", ".join(cat.products), colors=", ".join(cat.colors),
            attributes_table=attributes_table_line(cat),
        )  # fmt: skip
        text = complete_sql(self.llm, prompt)
        log.info("tool sql_analytics question=%r sql=%r", question, text)
        self.calls.append({"tool": "sql_analytics", "question": question, "sql": text})
        try:
            res = run_guarded(
                self.engine.engine, text,
                timeout_ms=self.engine.settings.sql_statement_timeout_ms, row_limit=self.engine.settings.sql_row_limit,
                allowed_tables=(*LIVE_TABLES, ATTRIBUTES_TABLE) if cat.attributes else LIVE_TABLES,
            )  # fmt: skip
        except SQLGuardError as exc:
            self.rejected.append(str(exc))
            raise ToolRetry(f"SQL not run: {exc} Rephrase the question, or Answer why it cannot be answered.") from exc
        table = Table(list(res.columns), [list(r) for r in res.rows], [res.sql])
        self.tables.append(table)
        self.answered = "table"
        return json.dumps(
            {"columns": table.columns, "rows": table.rows[:30], "row_count": len(table.rows)}, default=str
        )

    def sql_data_retriever(self, customer_ids: list[int]) -> str:
        """Profiles (no emails) of given customers, e.g. "why is customer 17 in?": country, age, spend,
        interests, colors, luxury, event counts, last activity.
        Args: customer_ids*: list of ints"""
        ids = [int(i) for i in customer_ids][:50]
        self.calls.append({"tool": "sql_data_retriever", "ids": len(ids)})
        log.info("tool sql_data_retriever ids=%d", len(ids))
        table = self.engine.profiles(ids)
        self.tables.append(table)
        return json.dumps([dict(zip(table.columns, r, strict=True)) for r in table.rows], default=str)

    def tools(self) -> list[FunctionTool]:
        """The tools as the agent gets them: described by their docstrings alone (no signature, no JSON
        schema); the segment and analytics tools end the run when they succeed."""
        direct = (self.hybrid_discovery, self.semantic_search, self.sql_analytics, self.lookalike)
        offered: list[Callable[..., str]] = [
            self.hybrid_discovery, self.semantic_search, self.sql_analytics, self.sql_data_retriever
        ]  # fmt: skip
        if self.last_segment or self.seed_resolver is not None:  # lookalikes need seeds
            offered.insert(3, self.lookalike)
        return [
            FunctionTool.from_defaults(
                fn=fn, name=fn.__name__, description=tool_description(fn), return_direct=fn in direct
            )
            for fn in offered
        ]


def typed_query(
    args: dict,
    attributes: list[AttributeCondition] | None = None,
    event_attributes: list[AttributeCondition] | None = None,
) -> AudienceQuery:
    """The typed query of a segment tool's arguments (hybrid_discovery's names; an absent one: its default), with
    conditions on the customers' and on the events' attributes (already checked against the catalogue)."""
    get = args.get
    event_types, products, colors = get("event_types"), get("products"), get("colors")
    last_days, since, until, never = get("last_days"), get("since"), get("until"), get("never", False)
    min_price, max_price, min_events = get("min_price"), get("max_price"), get("min_events", 1)
    has_behaviour = (
        any([event_types, products, colors, last_days, since, until, min_price, max_price, event_attributes])
        or min_events > 1
    )
    window = None
    if last_days:
        window = TimeWindow(last=last_days, unit="days")
    elif since or until:
        window = TimeWindow(
            start=date.fromisoformat(since) if since else None, end=date.fromisoformat(until) if until else None
        )
    behaviours = []
    if has_behaviour or never:
        behaviours.append(
            Behaviour(
                event_types=event_types or [],
                products=products or [],
                colors=colors or [],
                min_price=min_price,
                max_price=max_price,
                window=window,
                min_events=max(1, min_events),
                negate=never,
                attributes=list(event_attributes or []),
            )  # fmt: skip
        )
    return AudienceQuery(
        behaviours=behaviours,
        crm=CRMFilter(
            countries=get("countries") or [],
            exclude_countries=get("exclude_countries") or [],
            min_age=get("min_age"),
            max_age=get("max_age"),
            min_spent=get("min_spent"),
            max_spent=get("max_spent"),
            favorite_colors=get("favorite_colors") or [],
            likes_luxury=get("likes_luxury"),
        ),  # fmt: skip
        intent=get("intent") or None,
        refine=get("refine", "auto"),
        order_by=get("order_by", "relevance"),
        limit=clamp_limit(get("limit", DEFAULT_LIMIT)),
        attributes=list(attributes or []),
    )


def tool_description(fn) -> str:
    """A tool's docstring as the prompt shows it: the purpose on one line, the arguments on the next."""
    purpose, _, args = (inspect.getdoc(fn) or "").partition("\nArgs: ")
    return f"{' '.join(purpose.split())}\n  {' '.join(args.split())}"


def summarize(seg: Segment) -> str:
    """A segment tool's output: counts, ids, facets — no emails, no names. It ends the run (return_direct),
    so it is the run's final text, which discovery.service replaces by a worded answer."""
    f = seg.funnel
    top = [
        {
            "id": c.customer_id,
            "country": c.country,
            "age": c.age,
            "spent": None if c.total_spent is None else round(c.total_spent),
            "interests": c.calculated_interests,
            "luxury": c.likes_luxury,
            "score": c.score,
        }  # fmt: skip
        for c in seg.customers[:10]
    ]
    return json.dumps(
        {
            "funnel": {
                "population": f.population,
                "after_gate": f.after_gate,
                "after_semantic": f.after_semantic,
                "returned": f.returned,
            },
            "top": top,
            "notes": seg.notes,
        }
    )


_FENCE = re.compile(r"^```(?:sql)?\s*|\s*```$", re.IGNORECASE)


def complete_sql(llm: MeteredOpenRouter, prompt: str) -> str:
    response = llm.chat([ChatMessage(role=MessageRole.USER, content=prompt)])
    return _FENCE.sub("", (response.message.content or "").strip()).strip()


def iso_day(d: date | None) -> str:
    """A date as the prompts show it: YYYY-MM-DD, or "none"."""
    return f"{d:%Y-%m-%d}" if d else "none"
