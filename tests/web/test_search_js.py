"""public/js/search.js and gnn/title_search.py (the CLI's `search` and `similar`) must fold the same way and
find the same anime in the same order (run in Node; skips when ``node`` is not installed)."""

from __future__ import annotations

import random

from gnn.title_search import TitleIndex, fold
from tests.web.node import run_node

RUNNER = """
import { fold, TitleIndex } from %s;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map(({display, queries, limit}) => {
  const index = new TitleIndex(display);
  return {hits: queries.map((q) => index.search(q, limit)), folded: queries.map(fold)};
});
process.stdout.write(JSON.stringify(out));
"""
WORDS = ["Attack", "on", "Titan", "Re:Zero", "Pokémon", "ＦＵＬＬ", "metal", "進撃", "ｶｳﾎﾞｰｲ", "Season 2", "-", "!!",
         "the", "Movie", "0", "Ōkami", "K-ON!", "Steins;Gate", "  "]


def _title(rng: random.Random) -> str | None:
    if rng.random() < 0.1:
        return None
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4)))


def random_case(rng: random.Random) -> dict:
    display: list = [None]
    for _ in range(rng.randint(1, 25)):
        if rng.random() < 0.05:
            display.append(None)
            continue
        display.append({"title": _title(rng) or "x", "title_romaji": _title(rng), "title_english": _title(rng),
                        "title_native": _title(rng), "popularity": rng.choice([None, 0, 1.5, 1.5, rng.random()])})
    queries = [_title(rng) or "" for _ in range(6)] + [rng.choice(WORDS).lower(), "attack titan", "ONTITAN"]
    return {"display": display, "queries": queries, "limit": rng.choice([1, 3, 12, 50])}


def test_search_js_matches_python():
    rng = random.Random(0)
    cases = [random_case(rng) for _ in range(300)]
    got = run_node(RUNNER, ["search.js"], cases)
    found = 0
    for case, js in zip(cases, got):
        index = TitleIndex(case["display"])
        assert js["folded"] == [fold(q) for q in case["queries"]], case
        assert js["hits"] == [index.search(q, case["limit"]) for q in case["queries"]], case
        found += sum(len(h) > 1 for h in js["hits"])
    assert found > 300   # most queries find several anime, so the order is compared, not only emptiness
