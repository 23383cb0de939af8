"""public/js/franchise.js must build the same franchises and cards as gnn/franchise.py, and reasons.js's
cardReason say what gnn.reasons.card_reason says (run in Node).

The hand-written catalogs of tests/test_franchise.py plus random ones (franchises, side stories,
spin-offs, cycles, one-ended relations, bad indices, null entries, tied scores, filters, rated
entries with and without a score) go through both; skips when ``node`` is not installed.
"""

from __future__ import annotations

import random

import numpy as np

from gnn.franchise import Franchises, continue_list, franchise_list, next_candidates
from gnn.reasons import card_reason
from tests.test_franchise import episode_zeros, moved_prequel, three_seasons
from tests.web.node import run_node

RELATIONS = ["PREQUEL", "SEQUEL", "PARENT", "SIDE_STORY", "SPIN_OFF", "ALTERNATIVE", "SUMMARY", "CHARACTER",
             "OTHER", None]
RUNNER = """
import { Franchises, franchiseList, continueList, nextCandidates } from %s;
import { cardReason } from %s;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map(({display, scores, rating, rated, allowed, k}) => {
  const fr = new Franchises(display);
  const ratedMap = new Map(rated);
  const title = (i) => String(display[i]?.title ?? i);
  const cards = franchiseList(Float32Array.from(scores), ratedMap, fr, allowed, k);
  return {franchise: fr.franchise, depth: fr.depth, later: fr.later, entry: [...fr.entry].sort((a, b) => a[0] - b[0]),
          cards: cards.map((c) => ({...c, reason: cardReason(c, fr, title, ratedMap, 'base', c.anime %% 2 ? null : 'link',
                                                        c.anime %% 3 ? null : 'mine')})),
          next_candidates: nextCandidates(ratedMap, fr, allowed),
          continue: continueList(Float32Array.from(rating, (r) => r ?? NaN), ratedMap, fr, allowed, k)};
});
process.stdout.write(JSON.stringify(out));
"""


def random_case(rng: random.Random) -> dict:
    n = rng.randint(2, 30)
    display: list = [None]
    for i in range(1, n):
        if rng.random() < 0.05:
            display.append(None)
            continue
        rels = []
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            j = rng.choice([rng.randint(0, n + 1), max(1, i - 1), min(n - 1, i + 1)])
            rels.append([j, rng.choice(RELATIONS)])
        display.append({"title": f"T{i}", "year": rng.choice([None, 2000, 2001, 2002, 2001.0]),
                        "format": rng.choice(["TV", "MOVIE", "OVA", "tv", None]), "relations": rels})
    scores = [rng.choice([0.0, 1.0, 2.5, rng.random() * 10]) for _ in range(n)]
    rated = {a: rng.choice([None, 9.0, 7.5, 3.0]) for a in rng.sample(range(1, n), rng.randint(0, min(5, n - 1)))}
    allowed = [i > 0 and display[i] is not None and i not in rated and rng.random() < 0.85 for i in range(n)]
    rating = [rng.choice([None, 5.0, 7.5, rng.random() * 10]) for _ in range(n)]   # None: not rated by the model
    return {"display": display, "scores": scores, "rating": rating, "rated": list(rated.items()), "allowed": allowed,
            "k": rng.choice([0, 1, 3, 10, 50])}


def python_result(case: dict) -> dict:
    display = case["display"]
    fr = Franchises.from_display(display)
    rated = dict(case["rated"])
    cards = franchise_list(np.asarray(case["scores"], dtype=np.float32), rated, fr,
                           np.asarray(case["allowed"], dtype=bool), case["k"])

    def title(i: int) -> str:
        return str((display[i] or {}).get("title", i))

    allowed = np.asarray(case["allowed"], dtype=bool)
    rating = np.array([np.nan if r is None else r for r in case["rating"]], dtype=np.float32)
    return {"franchise": fr.franchise.tolist(), "depth": fr.depth.tolist(), "later": fr.later.tolist(),
            "entry": sorted([f, e] for f, e in fr.entry.items()),
            "cards": [{"anime": c.anime, "kind": c.kind, "candidate": c.candidate, "via": c.via, "others": list(c.others),
                       "size": c.size, "reason": card_reason(c, fr, title, rated, "base", None if c.anime % 2 else "link",
                                              None if c.anime % 3 else "mine")}
                      for c in cards],
            "next_candidates": next_candidates(rated, fr, allowed),
            "continue": [{"anime": c.anime, "kind": c.kind, "candidate": c.candidate, "via": c.via, "size": c.size,
                          "others": list(c.others)} for c in continue_list(rating, rated, fr, allowed, case["k"])]}


def test_franchise_js_matches_python():
    rng = random.Random(0)
    hand = three_seasons()
    cases = [{"display": hand, "scores": [0, 0, 5.0, 9.0, 1.0, 2.0], "rating": [None, None, 6.0, None, 9.0, 1.0],
              "rated": [[1, 9.0]], "allowed": [False, False, True, True, True, True], "k": 10},
             {"display": hand, "scores": [0, 1.0, 5.0, 9.0, 7.0, 8.0], "rating": [None] * 6, "rated": [],
              "allowed": [False] + [True] * 5, "k": 10}]
    the = [dict(e, title=f"The {e['title']}") if e else e for e in hand]  # "start of The ... series", one "the"
    cases += [{**cases[1], "display": the}]
    cases += [{"display": episode_zeros(), "scores": [0, 1.0, 1.0, 1.0, 1.0, 9.0, 3.0, 2.0, 1.0],
               "rating": [None] * 9, "rated": [[1, 8.0], [2, 8.0], [3, 7.0], [4, 7.0]],
               "allowed": [False] * 5 + [True] * 4, "k": 10}]
    cases += [{"display": moved_prequel(), "scores": [0, 1.0, 1.0, 9.0, 2.0, 3.0], "rating": [None] * 6,
               "rated": [[1, 8.0], [2, 8.0]], "allowed": [False] * 3 + [True] * 3, "k": 10}]
    cases += [random_case(rng) for _ in range(400)]
    got = run_node(RUNNER, ["franchise.js", "reasons.js"], cases)
    assert got[0]["cards"][0]["anime"] == 2 and got[1]["cards"][0]["anime"] == 1  # season 2; the first entry
    assert [c["anime"] for c in got[0]["continue"]] == [2]                         # the sequel, not the OVA
    assert got[3]["depth"][5] == 4 and got[3]["cards"][0]["kind"] == "next"      # the episode 0 before S3 kept
    assert got[4]["depth"][3] == 2 and got[4]["cards"][0]["anime"] == 3          # S2 after the special
    kinds, continued = set(), 0
    for case, js in zip(cases, got):
        assert js == python_result(case), case
        kinds |= {c["kind"] for c in js["cards"]}
        continued += len(js["continue"]) > 1
    assert kinds == {"standalone", "entry", "next", "candidate"} and continued >= 5   # lists long enough to order
    assert any(c["reason"].startswith("in the series of") for js in got for c in js["cards"])   # a started candidate
    assert any(c["reason"].endswith("which you have not started") for js in got for c in js["cards"])  # and one not
