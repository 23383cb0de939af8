"""public/js/reasons.js must say exactly what gnn/reasons.py says (run in Node; no browser needed).

Random catalogs with franchises, shared studios, co-rated lists (or none) and genres, equal ratings (ties) and odd rating
values exercise every branch and tie-break; skips when ``node`` is not installed.
"""

from __future__ import annotations

import random

from gnn.reasons import ReasonBuilder, _fmt
from tests.web.node import run_node

RELATIONS = ["PREQUEL", "SEQUEL", "PARENT", "SIDE_STORY", "SPIN_OFF", "ALTERNATIVE", "SUMMARY", "CHARACTER",
             "OTHER", "UNKNOWN_TYPE"]
RUNNER = """
import { ReasonBuilder, fmtRating } from %s;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const cases = JSON.parse(input);
const out = cases.map(({display, rated, low, high, candidates, numbers}) => {
  const rb = new ReasonBuilder(display, new Map(rated), low, high);
  return {reasons: candidates.map((c) => rb.reason(c)), personal: candidates.map((c) => rb.personal(c)),
          numbers: numbers.map(fmtRating)};
});
process.stdout.write(JSON.stringify(out));
"""


def random_case(rng: random.Random) -> dict:
    n = rng.randint(2, 25)
    studios = [f"Studio {i}" for i in range(rng.randint(1, 4))]
    genres = ["Action", "Drama", "Comedy", "Ärger", "Mecha"]
    display = [None]
    for i in range(1, n):
        if rng.random() < 0.1:
            display.append(None)
            continue
        display.append({
            "id": 100 + i, "title": rng.choice([f"Show {i}", None, "", f"<b>{i}</b>"]),
            "studios": rng.sample(studios, rng.randint(0, len(studios))),
            "producers": rng.sample(studios, rng.randint(0, len(studios))),  # never a studio reason
            "genres": rng.sample(genres, rng.randint(0, 3)),
            "relations": [[rng.randint(0, n - 1), rng.choice(RELATIONS)] for _ in range(rng.randint(0, 3))],
            **({"corated": rng.sample(range(1, n + 2), rng.randint(0, min(n, 5)))} if rng.random() < 0.7 else {}),
        })
    low, high = rng.choice([(1, 10), (1, 5), (0, 100)])
    rated = {}
    for a in rng.sample(range(0, n + 2), rng.randint(0, min(n, 8))):
        rated[a] = rng.choice([high, high, low + (high - low) * 2 / 3, rng.uniform(low, high), float(rng.randint(low, high))])
    numbers = [rng.choice([7.0, 8.25, 8.75, 0.35, 9.5, rng.uniform(0, 10), float(rng.randint(1, 10))]) for _ in range(4)]
    return {"display": display, "rated": list(rated.items()), "low": low, "high": high,
            "candidates": list(range(1, n)), "numbers": numbers}


def test_reasons_match_python():
    rng = random.Random(0)
    cases = [random_case(rng) for _ in range(300)]
    got = run_node(RUNNER, ["reasons.js"], cases)
    for case, js in zip(cases, got):
        python = ReasonBuilder(case["display"], dict(case["rated"]), case["low"], case["high"])
        assert js["reasons"] == [python(c) for c in case["candidates"]], case
        assert js["personal"] == [python.personal(c) for c in case["candidates"]], case
        assert js["numbers"] == [_fmt(x) for x in case["numbers"]]
