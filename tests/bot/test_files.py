"""Uploaded files: names, the JSON contract document, CSV (with e-mails: the file is the segment), the chart."""

from __future__ import annotations

import csv
import io
import json

from bot.files import base_name, chart_file, csv_file, json_file, slug
from tests.bot.factories import CONTRACT_KEYS, analytics, segment


def test_slug_and_names():
    assert slug("customers who bought socks and like luxury") == "bought-socks-luxury"
    assert slug("Find customers who bought red socks in the last 6 months!") == "bought-red-socks-last-6"
    assert slug("???") == "audience"
    doc = segment(3).to_json()
    assert base_name(doc) == "segment-bought-socks-luxury-20261123-2015"
    assert json_file(doc)[0] == "segment-bought-socks-luxury-20261123-2015.json"
    assert base_name(analytics().to_json()).startswith("analytics-country-20261123")


def test_json_file_is_the_contract_document():
    result = segment(3)
    name, content = json_file(result.to_json())
    doc = json.loads(content)
    assert doc == json.loads(json.dumps(result.to_json(), default=str))
    assert set(doc) >= CONTRACT_KEYS
    assert doc["customers"][0]["email"] == "anna1@example.com"


def test_csv_file():
    name, content = csv_file(segment(3).to_json())
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert name.endswith(".csv") and len(rows) == 3
    assert rows[0]["email"] == "anna1@example.com" and rows[0]["calculated_interests"] == "socks;watch"
    doc = segment(1).to_json()
    doc["customers"][0]["first_name"] = "=HYPERLINK(1)"
    assert "'=HYPERLINK" in csv_file(doc)[1].decode()
    name, content = csv_file(analytics().to_json())
    assert content.decode().splitlines()[:2] == ["country,customers", "DE,20"]


def test_chart_png():
    name, content = chart_file(analytics([[f"c{i}", i] for i in range(40)]).to_json())
    assert name.endswith(".png") and content.startswith(b"\x89PNG") and len(content) > 1000
