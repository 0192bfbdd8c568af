"""Marketer phrasings the answer-quality evaluation (bench/eval) found the offline planner
missing, each pinned here. Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from discovery.query import AnalyticsQuery, AudienceQuery, Behaviour, CRMFilter, TimeWindow
from tests.discovery.test_planner import CART, PURCHASE, SYNTH, VIEW, analytics, ask, segment

# ---------------------------------------------------------------------------- negations and light verbs


def test_never_made_a_purchase_is_a_negated_purchase():
    a = analytics("How many customers have never made a purchase?", SYNTH)
    assert a.audience == AudienceQuery(behaviours=[Behaviour(event_types=PURCHASE, negate=True)])


def test_but_never_a_product_negates_that_product():
    q = segment("German customers who bought hiking boots but never a tent", SYNTH)
    assert q.behaviours == [
        Behaviour(event_types=PURCHASE, products=["hiking boots"]),
        Behaviour(event_types=PURCHASE, products=["tent"], negate=True),
    ]
    assert q.crm == CRMFilter(countries=["DE"])


def test_never_added_anything_to_the_cart_is_one_negated_cart_behaviour():
    q = segment("Customers who have never added anything to their cart", SYNTH)
    assert q.behaviours == [Behaviour(event_types=CART, negate=True)]
    q = segment("people who added socks to their basket", SYNTH)
    assert q.behaviours == [Behaviour(event_types=CART, products=["socks"])]


@pytest.mark.parametrize(
    ("question", "n"),
    [
        ("Show me customers who made at least 3 purchases", 3),
        ("customers with more than 2 orders", 3),
        ("customers with 5+ purchases", 5),
        ("customers who placed 4 or more orders", 4),
    ],
)
def test_a_number_of_purchases_is_a_repeat_count_not_an_age(question, n):
    q = segment(question, SYNTH)
    assert q.behaviours == [Behaviour(event_types=PURCHASE, min_events=n)]
    assert q.crm == CRMFilter() and q.intent is None


# ---------------------------------------------------------------------------- aggregates


def test_highest_total_spend_is_a_maximum():
    a = analytics("What's the highest total spend in Poland?", SYNTH)
    assert (a.measure, a.field, a.audience.crm.countries) == ("max", "total_spent", ["PL"])


@pytest.mark.parametrize(("question", "measure"), [("How old is our youngest customer?", "min"),
                                                   ("how old is the oldest customer", "max"),
                                                   ("what is the age of our oldest customer?", "max")])  # fmt: skip
def test_the_age_of_the_youngest_or_oldest_customer(question, measure):
    a = analytics(question, SYNTH)
    assert (a.measure, a.field, a.group_by) == (measure, "age", None)


def test_break_down_purchases_by_colour():
    a = analytics("Break down purchases by colour", SYNTH)
    assert (a.measure, a.field, a.group_by) == ("count", "events", "color")
    assert a.audience.behaviours == [Behaviour(event_types=PURCHASE)]


def test_the_n_most_viewed_products_in_a_window_count_views_in_that_window():
    a = analytics("What were the 3 most viewed products in the last 30 days?", SYNTH)
    assert (a.field, a.group_by, a.top) == ("events", "product", 3)
    assert a.audience.behaviours == [Behaviour(event_types=VIEW, window=TimeWindow(last=30))]


def test_which_product_gets_added_to_the_cart_most_often():
    a = analytics("Which product gets added to the cart most often?", SYNTH)
    assert a == AnalyticsQuery(
        field="events", group_by="product", top=1, audience=AudienceQuery(behaviours=[Behaviour(event_types=CART)])
    )


# ---------------------------------------------------------------------------- orderings


def test_top_customers_by_total_spend_is_a_ranked_segment():
    q = segment("Who are our top 10 customers by total spend?", SYNTH)
    assert q == AudienceQuery(order_by="total_spent", limit=10)


def test_a_number_before_an_ordering_word_is_the_limit():
    q = segment("Show me the 5 oldest customers in Poland", SYNTH)
    assert (q.limit, q.order_by, q.crm.countries) == (5, "age_desc", ["PL"])  # oldest first


def test_an_explicit_sort_in_a_follow_up_wins_over_the_semantic_ranking():
    first = ask("Find luxury customers in France", SYNTH)
    assert first.query is not None and first.query.intent == "luxury"
    q = segment("sort them by spend and show the top 5", SYNTH, previous=first)
    assert q == AudienceQuery(crm=CRMFilter(countries=["FR"], likes_luxury=True), order_by="total_spent", limit=5)


# ---------------------------------------------------------------------------- follow-ups


@pytest.mark.parametrize("reply", ["but never bought one", "but didn't buy them", "but never purchased"])
def test_a_negated_verb_in_a_follow_up_refers_to_the_previous_products(reply):
    first = ask("Customers who added jackets to the cart", SYNTH)
    q = segment(reply, SYNTH, previous=first)
    assert q.behaviours == [
        Behaviour(event_types=CART, products=["jacket"]),
        Behaviour(event_types=PURCHASE, products=["jacket"], negate=True),
    ]


# ---------------------------------------------------------------------------- vague and impossible


def test_an_audience_without_anything_to_go_on_is_a_question_back():
    p = ask("I need an audience for next week", SYNTH)
    assert p.kind == "clarify" and "couldn't tell" in p.message
    assert segment("list customers", SYNTH) == AudienceQuery()  # an explicit request for everyone stays one


@pytest.mark.parametrize("question", ["Which customers will churn next quarter?", "predict next month's buyers"])
def test_predictions_are_a_clear_cant(question):
    p = ask(question, SYNTH)
    assert p.kind == "clarify" and "not predictions" in p.message


@pytest.mark.parametrize(
    ("question", "activity"),
    [
        ("Customers who returned an item", "return"),
        ("customers with refunds in the last 30 days", "return"),
        ("Customers who subscribed to the newsletter", "subscription"),
        ("newsletter subscribers in Germany", "subscription"),
    ],
)
def test_activities_the_data_has_no_events_for_are_a_clear_cant(question, activity):
    p = ask(question, SYNTH)
    assert p.kind == "clarify" and f"no {activity} events" in p.message and "purchase" in p.message


@pytest.mark.parametrize(
    "question",
    [
        "Can you find the right people?",
        "Find good customers",
        "Show me the ideal audience",
        "I want the most relevant users",
        "Who are the perfect customers?",
        "find the right ones please",
    ],
)
def test_customers_judged_but_not_described_are_a_question_back(question):
    p = ask(question, SYNTH)
    assert p.kind == "clarify" and "couldn't tell which customers" in p.message
    assert "backpack" in p.message  # it lists what the data holds


def test_evaluative_words_beside_real_conditions_are_not_the_intent():
    assert segment("Find the right people in Germany", SYNTH) == AudienceQuery(crm=CRMFilter(countries=["DE"]))
    assert segment("ideal customers for a hiking campaign", SYNTH).intent == "hiking"
    assert segment("the best customers", SYNTH).order_by == "total_spent"  # "best customers" is an order


@pytest.mark.parametrize(
    ("question", "intent", "luxury"),
    [
        ("sporty customers", "sporty", None),
        ("outdoor lovers", "outdoor", None),
        ("luxury shoppers", "luxury", None),  # issue 16: a taste, matched on the profiles
        ("fashion lovers", "fashion", None),
        ("bargain hunters", "bargain hunters", False),
        ("tech fans", "tech", None),
    ],
)
def test_descriptive_one_word_intents_stay_segments(question, intent, luxury):
    q = segment(question, SYNTH)
    assert (q.intent, q.crm.likes_luxury, q.behaviours) == (intent, luxury, [])


@pytest.mark.parametrize(
    "question",
    [
        "Customers who opened our last email",
        "users who clicked the link in our newsletter",
        "people who replied to the spring campaign email",
        "email openers in Poland",
        "customers who didn't open any of our emails",
        "Customers who unsubscribed from our emails",
        "newsletter clicks in the last 30 days",
    ],
)
def test_email_engagement_the_data_has_no_events_for_is_a_clear_cant(question):
    p = ask(question, SYNTH)
    assert p.kind == "clarify" and "purchase" in p.message
    assert "no e-mail engagement events" in p.message or "no subscription events" in p.message


def test_email_engagement_maps_to_an_email_event_type_when_the_data_has_one():
    cat = replace(SYNTH, event_types=(*SYNTH.event_types, "email_open"))
    q = segment("Customers who opened our last email", cat)
    assert q.behaviours == [Behaviour(event_types=["email_open"])] and q.intent is None


def test_clicking_on_a_product_is_still_a_view():
    q = segment("customers who clicked on jackets for the summer campaign", SYNTH)
    assert q.behaviours == [Behaviour(event_types=VIEW, products=["jacket"])]


@pytest.mark.parametrize(
    "question",
    [
        "Who will buy a tent next month?",
        "Which customers are going to buy a tent?",
        "customers likely to buy tents",
        "who'll purchase a tent soon",
        "Who buys a tent next month?",
        "customers who will order tents in the next 30 days",
        "likely buyers of tents",
    ],
)
def test_future_purchases_are_a_cant_that_suggests_a_past_behaviour_question(question):
    p = ask(question, SYNTH)
    assert p.kind == "clarify" and "not predictions" in p.message and "cannot tell who will buy" in p.message
    suggestion = p.message.split("e.g. “")[1].split("”")[0]
    assert suggestion == "customers who added tent to the cart in the last 30 days but never bought it"
    assert segment(suggestion, SYNTH).behaviours == [  # the suggestion is a question the planner answers
        Behaviour(event_types=CART, products=["tent"], window=TimeWindow(last=30)),
        Behaviour(event_types=PURCHASE, products=["tent"], negate=True),
    ]


@pytest.mark.parametrize(
    ("question", "behaviours"),
    [
        ("Customers who bought a tent last month", [Behaviour(event_types=PURCHASE, products=["tent"],
                                                             window=TimeWindow(last=1, unit="months"))]),
        ("tent buyers for next month's campaign", [Behaviour(event_types=PURCHASE, products=["tent"])]),
        ("customers who bought tents, to email them next week", [Behaviour(event_types=PURCHASE, products=["tent"])]),
    ],
)  # fmt: skip
def test_past_purchases_beside_a_future_date_are_not_predictions(question, behaviours):
    assert segment(question, SYNTH).behaviours == behaviours


# ---------------------------------------------------------------------------- windows outside the data

DATED = replace(SYNTH, data_min=datetime(2025, 9, 20, 8, 0), data_max=datetime(2026, 3, 14, 18, 0))  # today: 03-15


@pytest.mark.parametrize(
    "question",
    [
        "Who bought a watch in 2024?",
        "How many purchases were there in Q2 2025?",
        "customers who viewed tents before August 2025",
        "Who bought anything today?",
        "top products sold in April",  # April 2025, before the data starts
    ],
)
def test_a_window_outside_the_data_says_the_data_holds_no_events_then(question):
    p = ask(question, DATED)
    assert p.kind == "clarify"
    assert "There are no events" in p.message and "from 2025-09-20 to 2026-03-14" in p.message


@pytest.mark.parametrize(
    "question",
    [
        "Who bought a watch in January?",
        "customers who bought socks in the last 30 days",
        "customers who did not buy anything in 2024",  # negated: everyone qualifies, not a data gap
        "customers who bought socks since 2025-01-01",  # overlaps the data
    ],
)
def test_a_window_inside_or_overlapping_the_data_is_answered(question):
    assert ask(question, DATED).kind == "segment"
    assert ask(question, SYNTH).kind == "segment"  # no data range known: nothing to check


def test_youngest_ranks_youngest_first():
    q = segment("the 5 youngest customers in Poland", SYNTH)
    assert (q.limit, q.order_by, q.crm.countries) == (5, "age", ["PL"])


def test_oldest_first_compiles_to_a_descending_age_order():
    from discovery.compile import gate_sql

    sql = gate_sql(AudienceQuery(order_by="age_desc"), datetime(2026, 11, 1)).sql
    assert sql.endswith("ORDER BY c.age DESC NULLS LAST, c.customer_id")  # an unknown age last
