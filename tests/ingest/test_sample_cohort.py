"""`ingest sample --cohort N`: a hidden group sharing one facet combination; everyone else unchanged."""

from __future__ import annotations

import json

import pandas as pd

from ingest.cli import main
from ingest.sample import generate
from tests.conftest import SAMPLE_END


def test_a_planted_cohort_shares_its_facets_and_leaves_the_rest_alone(tmp_path):
    plain = generate(tmp_path / "plain", 1500, 6, seed=9, end=SAMPLE_END)
    planted = generate(tmp_path / "planted", 1500, 6, seed=9, end=SAMPLE_END, cohort=75)
    cohort = planted.cohort
    assert plain.cohort is None and len(cohort.ids) == len(set(cohort.ids)) == 75
    crm = pd.read_csv(planted.crm).set_index("customer_id")
    members = crm.loc[list(cohort.ids)]
    assert set(members.country) == {cohort.country} and set(members.favorite_color) == {cohort.favorite_color}
    assert members.age.between(*cohort.ages).all() and members.total_spent.between(*cohort.spend).all()
    events = pd.read_csv(planted.events)
    theirs = events[events.customer_id.isin(cohort.ids)]
    assert set(theirs["product"]) <= set(cohort.products) and set(theirs.color) == {cohort.color}
    others = ~crm.index.isin(cohort.ids)
    before = pd.read_csv(plain.crm).set_index("customer_id")
    assert crm[others].equals(before[others])  # everyone else exactly as without a cohort
    before_events = pd.read_csv(plain.events)
    assert theirs.shape[0] == before_events[before_events.customer_id.isin(cohort.ids)].shape[0]


def test_the_cli_writes_the_cohort_beside_the_files(tmp_path, capsys):
    assert main(["sample", "--customers", "300", "--out", str(tmp_path), "--cohort", "30", "--end", "2026-11-01"]) == 0
    stored = json.loads((tmp_path / "cohort.json").read_text())
    assert len(stored["ids"]) == 30 and len(stored["products"]) == 2
    assert "planted a cohort of 30 customers" in capsys.readouterr().out
    assert "cohort" not in (tmp_path / "crm_customers.csv").read_text().splitlines()[0]
