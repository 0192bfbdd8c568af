"""The scripted questions of bench llm-calls: the seven example questions of the original demo and a
follow-up, each played as an efficient model would play that side's prompt. Ours: one tool call, whose
result ends the run (return_direct; the answer is worded from the Result, no final LLM step). The
original designs: one call per tool needed, then the scripted final answer. Data: the demo's own
500 customers / 5,000 events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

NOW = datetime(2026, 3, 1, 12, 0)  # the seed data's events end 2026-02-19


@dataclass
class Step:
    """One tool call: the tool, its arguments, and the replies to the LLM calls the tool itself makes."""

    tool: str
    args: dict
    replies: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    question: str
    answer: str  # the original designs' final answer (ours is worded from the tool's result)
    ours: list[Step]
    original: dict[str, list[Step]]  # by design (bench.original_design.DESIGNS)
    follow_up: bool = False  # asked in the same conversation as the previous question


def react(action: str, args: dict) -> str:
    return f"Thought: I need a tool to answer.\nAction: {action}\nAction Input: {json.dumps(args)}"


def final(text: str) -> str:
    return f"Thought: I can answer without using any more tools.\nAnswer: {text}"


def script(steps: list[Step], answer: str | None) -> list[str]:
    """The LLM replies of `steps`, then the final answer; `answer` None: the last tool ends the run."""
    out = []
    for step in steps:
        out.append(react(step.tool, step.args))
        out.extend(step.replies)
    return out if answer is None else [*out, final(answer)]


def _nlsql(tool: str, input_: str, sql: str, synthesis: str) -> Step:
    return Step(tool, {"input": input_}, [f"SQLQuery: {sql}", synthesis])


def _qe_sql(input_: str, sql: str, synthesis: str) -> Step:
    return _nlsql("customer_sql", input_, sql, synthesis)


def _qe_vec(input_: str, synthesis: str) -> Step:
    return Step("customer_profiles", {"input": input_}, [synthesis])


def _hyb(query: str, synthesis: str, sql_where: str | None = None, filters: dict | None = None) -> Step:
    args = (
        {"query": query} | ({"sql_where": sql_where} if sql_where else {}) | ({"filters": filters} if filters else {})
    )
    return Step("hybrid_discovery", args, [synthesis])


COUNT_SYN = "There are 500 customers in the database."
BLUE_SQL = "SELECT customer_id, first_name, last_name, total_spent FROM customers WHERE country = 'DE' AND favorite_color = 'blue' AND total_spent > 500 ORDER BY total_spent DESC LIMIT 20"
BLUE_SYN = "These German customers have blue as their favourite color and spent more than 500; the biggest spenders come first."
JACKET_SYN = "Customers interested in jackets and shoes include several from Germany and Poland whose primary interests are jacket and shoes; most prefer black or blue items and a few like luxury items."
RED_SOCKS_WHERE = "event_type = 'purchase' AND product = 'socks' AND color = 'red' AND event_timestamp >= '2025-09-01'"
LUXURY_SYN = "Customers who like luxury items are the high spenders tagged as liking luxury; their interests are mostly jackets and shoes."
POLAND_SYN = "Good candidates are customers from Poland who like luxury items and are interested in fashion products such as jackets and shoes."
RED_SYN = "Customers who like luxury items and prefer red are the best fit; several have red as favourite color and are interested in fashion items."
SOCKS_WHERE = "event_type = 'purchase' AND product = 'socks'"
HIGH_END_SYN = "Customers interested in a high-end lifestyle like luxury items and are interested in jackets and shoes."

SCENARIOS = [
    Scenario(
        "How many customers are in the database?",
        "There are 500 customers in the database.",
        ours=[Step("sql_analytics", {"question": "How many customers are there?"}, ["SELECT count(*) AS customers FROM customers"])],
        original={
            "query-engine tools": [_qe_sql("How many customers are there?", "SELECT COUNT(*) FROM customers", COUNT_SYN)],
            "hybrid tool": [_nlsql("sql_analytics", "How many customers are there?", "SELECT COUNT(*) FROM customers", COUNT_SYN)],
        },
    ),
    Scenario(
        "Find blue-themed customers from Germany who spent more than 500.",
        "I found customers from Germany whose favourite color is blue and who spent more than 500, ranked by how well their profile fits a blue theme; the funnel shows how many passed each step.",
        ours=[Step("hybrid_discovery", {"countries": ["DE"], "favorite_colors": ["blue"], "min_spent": 500, "intent": "blue"})],
        original={
            "query-engine tools": [_qe_sql("Customers from Germany whose favorite color is blue and who spent more than 500", BLUE_SQL, BLUE_SYN)],
            "hybrid tool": [_nlsql("sql_analytics", "Customers from Germany whose favorite color is blue and who spent more than 500", BLUE_SQL, BLUE_SYN)],
        },
    ),
    Scenario(
        "Suggest a list of customers interested in jacket and shoes.",
        "Here are the customers whose profiles show the strongest interest in jackets and shoes, best matches first.",
        ours=[Step("hybrid_discovery", {"products": ["jacket", "shoes"], "intent": "jacket and shoes"})],
        original={
            "query-engine tools": [_qe_vec("customers interested in jacket and shoes", JACKET_SYN)],
            "hybrid tool": [_hyb("customers interested in jacket and shoes", JACKET_SYN)],
        },
    ),
    Scenario(
        "Find customers who bought red socks in the last 6 months and like luxury. Show them as JSON.",
        "These customers bought red socks in the last 6 months and like luxury; the JSON file has the full list with why each one is in.",
        ours=[Step("hybrid_discovery", {"event_types": ["purchase"], "products": ["socks"], "colors": ["red"], "last_days": 183, "likes_luxury": True, "intent": "luxury"})],
        original={
            "query-engine tools": [
                _qe_sql(
                    "Customers who purchased red socks since 2025-09-01",
                    "SELECT DISTINCT c.customer_id, c.first_name, c.last_name, c.total_spent FROM customers c JOIN events e ON e.customer_id = c.customer_id WHERE e.event_type = 'purchase' AND e.product = 'socks' AND e.color = 'red' AND e.event_timestamp >= '2025-09-01' ORDER BY c.total_spent DESC LIMIT 20",
                    "These customers purchased red socks since 2025-09-01; the biggest spenders come first.",
                ),
                _qe_vec("customers who like luxury items", LUXURY_SYN),
            ],
            "hybrid tool": [
                _hyb("customers who like luxury items", LUXURY_SYN, sql_where=RED_SOCKS_WHERE),
                Step("sql_data_retriever", {"query": f"SELECT customer_id, first_name, last_name, email, country, total_spent FROM customers WHERE customer_id IN (SELECT customer_id FROM events WHERE {RED_SOCKS_WHERE}) AND total_spent > 800 ORDER BY total_spent DESC LIMIT 10"}),
            ],
        },
    ),
    Scenario(
        "Recommend an audience for a luxury high-end fashion campaign in Poland.",
        "For a luxury high-end fashion campaign in Poland I recommend these Polish customers who like luxury, ranked by how well their profile fits high-end fashion.",
        ours=[Step("hybrid_discovery", {"countries": ["PL"], "likes_luxury": True, "intent": "luxury high-end fashion"})],
        original={
            "query-engine tools": [_qe_vec("customers from Poland who like luxury high-end fashion", POLAND_SYN)],
            "hybrid tool": [_hyb("luxury high-end fashion", POLAND_SYN, filters={"country": "PL"})],
        },
    ),
    Scenario(
        "Suggest customers for a luxury red-themed fashion campaign.",
        "These customers like luxury and favour red; they fit a luxury red-themed fashion campaign best.",
        ours=[Step("hybrid_discovery", {"likes_luxury": True, "intent": "luxury red fashion"})],
        original={
            "query-engine tools": [_qe_vec("customers who like luxury and red fashion items", RED_SYN)],
            "hybrid tool": [_hyb("luxury red-themed fashion", RED_SYN)],
        },
    ),
    Scenario(
        "Find users who bought socks and are interested in high-end lifestyle.",
        "These customers bought socks and their profiles are closest to a high-end lifestyle.",
        ours=[Step("hybrid_discovery", {"event_types": ["purchase"], "products": ["socks"], "intent": "high-end lifestyle"})],
        original={
            "query-engine tools": [
                _qe_sql(
                    "Customers who purchased socks",
                    "SELECT DISTINCT c.customer_id, c.first_name, c.last_name, c.country FROM customers c JOIN events e ON e.customer_id = c.customer_id WHERE e.event_type = 'purchase' AND e.product = 'socks' LIMIT 20",
                    "These customers purchased socks; they come from Germany, Poland, Austria and the Czech Republic.",
                ),
                _qe_vec("customers interested in a high-end lifestyle", HIGH_END_SYN),
            ],
            "hybrid tool": [_hyb("high-end lifestyle", HIGH_END_SYN, sql_where=SOCKS_WHERE)],
        },
    ),
    Scenario(
        "Only those from Germany, please.",
        "Narrowed to Germany: these sock buyers from Germany are closest to a high-end lifestyle.",
        ours=[Step("hybrid_discovery", {"event_types": ["purchase"], "products": ["socks"], "countries": ["DE"], "intent": "high-end lifestyle"})],
        original={
            "query-engine tools": [
                _qe_sql(
                    "Customers from Germany who purchased socks",
                    "SELECT DISTINCT c.customer_id, c.first_name, c.last_name FROM customers c JOIN events e ON e.customer_id = c.customer_id WHERE e.event_type = 'purchase' AND e.product = 'socks' AND c.country = 'DE' LIMIT 20",
                    "These customers from Germany purchased socks.",
                ),
                _qe_vec("customers from Germany interested in a high-end lifestyle", "Customers from Germany interested in a high-end lifestyle like luxury items and are interested in jackets and shoes."),
            ],
            "hybrid tool": [_hyb("high-end lifestyle", HIGH_END_SYN, sql_where=SOCKS_WHERE, filters={"country": "DE"})],
        },
        follow_up=True,
    ),
]  # fmt: skip
