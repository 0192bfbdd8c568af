"""Where should a semantic intent cut a gate? Candidate cut methods measured on generated data.

python -m bench refine [--customers 2000] [--events-per-customer 10]

The sample (bench.ingest_bench.sample, seed 42) is ingested into fresh embedded stores; every
customer's profile vector is read back. For intents whose property is held by a known subset of the
profiles — the luxury sentence (spend above the threshold) and interests (the products in a profile's
"Interested in" sentence) — each method cuts several gates (everyone, a country, the subset itself:
a non-selective intent, the subset plus others) and is scored by precision / recall of the kept set
against the subset inside the gate. Methods:

- population break: the natural break (Otsu) of every customer's scores, applied to the gate
  (discovery.refine, the method the product uses);
- gate break: the natural break of the gate's own scores;
- mixture: a two-component Gaussian mixture of the gate's scores (EM), kept where the high
  component is more likely;
- largest gap: the widest gap between neighbouring sorted scores of the gate (5 %–95 % of them).
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from bench.ingest_bench import sample
from bench.stores import temp_stores
from cdp.db import get_engine
from cdp.embedder import embedder_for
from cdp.vectors import get_qdrant
from discovery.catalogue import load_catalogue
from discovery.engine import DiscoveryEngine
from discovery.refine import natural_break
from ingest.pipeline import run
from ingest.progress import Progress

# (intent, the property's name, the profile words that hold it)
INTENTS = (
    ("luxury", "luxury", ("luxury",)),
    ("luxury lifestyle", "luxury", ("luxury",)),
    ("likes luxury items", "luxury", ("luxury",)),
    ("hiking camping", "outdoor", ("hiking boots", "tent")),
    ("outdoor lifestyle", "outdoor", ("hiking boots", "tent")),
    ("sporty activewear", "sneakers", ("sneakers",)),
)


def _gate_break(s: np.ndarray, _pop: np.ndarray) -> float | None:
    return natural_break(s)


def _population_break(_s: np.ndarray, pop: np.ndarray) -> float | None:
    return natural_break(pop)


def _mixture(s: np.ndarray, _pop: np.ndarray, rounds: int = 200) -> float | None:
    t = natural_break(s)
    if t is None:
        return None
    r = (s >= t).astype(np.float64)
    for _ in range(rounds):
        w = r.mean()
        if w in (0.0, 1.0):
            break
        mu1, mu0 = (r * s).sum() / r.sum(), ((1 - r) * s).sum() / (1 - r).sum()
        v1 = (r * (s - mu1) ** 2).sum() / r.sum() + 1e-8
        v0 = ((1 - r) * (s - mu0) ** 2).sum() / (1 - r).sum() + 1e-8
        p1 = w * np.exp(-((s - mu1) ** 2) / 2 / v1) / np.sqrt(v1)
        p0 = (1 - w) * np.exp(-((s - mu0) ** 2) / 2 / v0) / np.sqrt(v0)
        r = p1 / (p1 + p0)
    return float(s[r >= 0.5].min()) if (r >= 0.5).any() else float(s.max()) + 1


def _largest_gap(s: np.ndarray, _pop: np.ndarray) -> float | None:
    x = np.sort(s)
    lo, hi = int(len(x) * 0.05), int(len(x) * 0.95)
    if hi - lo < 2:
        return None
    i = lo + int(np.argmax(np.diff(x)[lo:hi]))
    return float((x[i] + x[i + 1]) / 2)


METHODS = {
    "population break": _population_break,
    "gate break": _gate_break,
    "mixture": _mixture,
    "largest gap": _largest_gap,
}


def _profiles(customers: int, per: float):
    crm, events, _ = sample(customers, per)
    with temp_stores("bench-refine-", database_url=None, qdrant_url=None) as settings:
        run(settings, crm, events, progress=Progress(False))
        engine = get_engine(settings)
        de = DiscoveryEngine(settings, engine, get_qdrant(settings), embedder_for(settings), load_catalogue(engine))
        matrix = de._vector_matrix()
        with engine.connect() as conn:
            rows = list(
                conn.execute(
                    sa.text(
                        "SELECT p.customer_id, p.profile_text, c.country FROM customer_profiles p "
                        "JOIN customers c USING (customer_id) ORDER BY 1"
                    )
                )
            )
        ids = np.asarray([r[0] for r in rows])
        vectors = matrix.vectors[np.searchsorted(matrix.ids, ids)]
        texts = [r[1] for r in rows]
        countries = np.asarray([r[2] for r in rows])
        embed = de.embedder.embed_one
        queries = {intent: embed(intent) for intent, _, _ in INTENTS}
    return vectors, texts, countries, queries


def refine(customers: int = 2000, per: float = 10) -> str:
    vectors, texts, countries, queries = _profiles(customers, per)
    everyone = np.ones(len(texts), dtype=bool)
    totals = {m: [] for m in METHODS}
    lines = [
        f"Cut methods on the generated sample ({customers:,} customers, seed 42): precision / recall of the kept set "
        "against the customers holding the intent's property, inside each gate.",
        "",
        "| intent | gate | gate size | holders | " + " | ".join(METHODS) + " |",
        "|---|---|---:|---:|" + "---|" * len(METHODS),
    ]
    for intent, prop, words in INTENTS:
        held = np.asarray([any(w in _held_part(t, prop) for w in words) for t in texts])
        pop = vectors @ queries[intent]
        top_country = max(set(countries), key=lambda c: (countries == c).sum())
        gates = {
            "everyone": everyone,
            f"country {top_country}": countries == top_country,
            "the holders (non-selective)": held,
            f"holders + {top_country}": held | (countries == top_country),
        }
        for gname, g in gates.items():
            s, h = pop[g], held[g]
            cells = []
            for m, f in METHODS.items():
                t = f(s, pop)
                kept = np.ones(len(s), dtype=bool) if t is None else s >= t
                tp = int((kept & h).sum())
                p = tp / kept.sum() if kept.any() else 0.0
                r = tp / h.sum() if h.any() else 1.0
                totals[m].append((p, r))
                cells.append(f"{p:.2f} / {r:.2f} ({int(kept.sum())})")
            lines.append(f"| {intent} | {gname} | {int(g.sum())} | {int(h.sum())} | " + " | ".join(cells) + " |")
    lines += ["", "| method | mean precision | mean recall | mean F1 |", "|---|---:|---:|---:|"]
    for m, pr in totals.items():
        p = float(np.mean([a for a, _ in pr]))
        r = float(np.mean([b for _, b in pr]))
        f1 = float(np.mean([2 * a * b / (a + b) if a + b else 0.0 for a, b in pr]))
        lines.append(f"| {m} | {p:.2f} | {r:.2f} | {f1:.2f} |")
    return "\n".join(lines)


def _held_part(text: str, prop: str) -> str:
    """The sentence of a profile that holds the property: the luxury sentence or the interests."""
    if prop == "luxury":
        return text
    start = text.find("Interested in ")
    return text[start : text.find(".", start)] if start >= 0 else ""
