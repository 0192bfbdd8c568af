"""A realistic CRM and clickstream export made for the tests: German Excel style (`;`, a BOM
on the CRM file, Windows-1252 city names with umlauts, dd.mm.yyyy dates, decimal commas,
German headers), with extra columns a marketing team segments on."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

CRM_HEADER = [
    "Kunden-ID", "Vorname", "Nachname", "E-Mail-Adresse", "Land", "Alter", "Umsatz", "Lieblingsfarbe",
    "Anmeldedatum", "Loyalty Tier", "Stadt", "Signup Source", "E-Mail Opt-in", "Lifetime Orders", "Tags", "Joined",
]  # fmt: skip
EVENT_HEADER = [
    "Ereignis-ID", "Kunden-ID", "Ereignistyp", "Produkt", "Farbe", "Preis", "Zeitstempel", "Kanal", "Kategorie",
]  # fmt: skip
TIERS = ("bronze", "silver", "gold", "platinum")
CITIES = ("München", "Köln", "Düsseldorf", "Nürnberg", "Berlin", "Hamburg", "Zürich", "Wien")
SOURCES = ("instagram", "newsletter", "google", "referral", "tiktok")
COUNTRIES = ("DE", "AT", "CH", "FR", "US")
COLORS = ("red", "blue", "black", "white", "green")
PRODUCTS = ("sneakers", "jacket", "handbag", "watch", "scarf")
TYPES = ("view", "add_to_cart", "purchase")


@dataclass
class Export:
    crm: Path
    events: Path
    customers: pd.DataFrame  # the values as written, typed by pandas (the independent truth)
    events_frame: pd.DataFrame
    event_rows: int


def make_export(folder: Path, customers: int = 120, seed: int = 7) -> Export:
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows, events = [], []
    start = datetime(2024, 6, 1)
    eid = 5000
    for i in range(customers):
        cid = 1000 + i
        signup = start + timedelta(days=rnd.randrange(0, 600))
        row = {
            "Kunden-ID": str(cid),
            "Vorname": rnd.choice(["Jürgen", "Anna", "Lena", "Max", "Sophie", "Ömer"]),
            "Nachname": rnd.choice(["Müller", "Schmidt", "Weiß", "Becker", "Groß"]),
            "E-Mail-Adresse": f"kunde{cid}@example.de",
            "Land": rnd.choice(COUNTRIES),
            "Alter": str(rnd.randrange(18, 80)),
            "Umsatz": f"{rnd.randrange(0, 300000) / 100:.2f}".replace(".", ","),
            "Lieblingsfarbe": rnd.choice(COLORS),
            "Anmeldedatum": signup.strftime("%d.%m.%Y"),
            "Loyalty Tier": rnd.choice(TIERS),
            "Stadt": rnd.choice(CITIES),
            "Signup Source": rnd.choice(SOURCES),
            "E-Mail Opt-in": rnd.choice(["ja", "nein"]),
            "Lifetime Orders": str(rnd.randrange(0, 30)),
            "Tags": rnd.choice(["vip", "", "b2b", "vip b2b", "retoure", ""]),
            "Joined": (start + timedelta(days=rnd.randrange(0, 500))).strftime("%d.%m.%Y"),
        }
        rows.append(row)
        for _ in range(rnd.randrange(1, 6)):
            eid += 1
            ts = datetime(2025, 1, 1) + timedelta(minutes=rnd.randrange(0, 600 * 24 * 60))
            events.append({
                "Ereignis-ID": str(eid), "Kunden-ID": str(cid), "Ereignistyp": rnd.choice(TYPES),
                "Produkt": rnd.choice(PRODUCTS), "Farbe": rnd.choice(COLORS),
                "Preis": f"{rnd.randrange(500, 90000) / 100:.2f}".replace(".", ","),
                "Zeitstempel": ts.strftime("%d.%m.%Y %H:%M"), "Kanal": rnd.choice(["app", "web"]),
                "Kategorie": rnd.choice(["outdoor", "indoor", "sale"]),
            })  # fmt: skip
    crm = folder / "export.csv"
    with open(crm, "w", encoding="cp1252", newline="") as f:
        f.write(";".join(CRM_HEADER) + "\r\n")
        for r in rows:
            f.write(";".join(r[h] for h in CRM_HEADER) + "\r\n")
    raw = crm.read_bytes()
    crm.write_bytes(b"\xef\xbb\xbf" + raw.decode("cp1252").encode("cp1252"))  # BOM, then cp1252 bytes
    ev = folder / "clicks.csv"
    with open(ev, "w", encoding="utf-8", newline="") as f:
        f.write(";".join(EVENT_HEADER) + "\n")
        for r in events:
            f.write(";".join(r[h] for h in EVENT_HEADER) + "\n")
    frame = pd.read_csv(crm, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    frame.columns = [c.lstrip("\ufeff").lstrip("ï»¿") for c in frame.columns]
    return Export(crm, ev, frame, pd.read_csv(ev, sep=";", dtype=str, keep_default_na=False), len(events))
