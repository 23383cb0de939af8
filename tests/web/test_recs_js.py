"""public/js/recs.js's filters (run in Node): what gnn.filters.Filters leaves out, adult titles included."""

from __future__ import annotations

from gnn.filters import ADULT_GENRES
from tests.web.node import run_node

RUNNER = """
import { passes, isAdult, ADULT_GENRES } from %s;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { entries, filters } = JSON.parse(input);
const f = (x) => ({ formats: x.formats ? new Set(x.formats) : null, statuses: x.statuses ? new Set(x.statuses) : null,
                    yearMin: x.yearMin ?? null, yearMax: x.yearMax ?? null, adult: Boolean(x.adult) });
process.stdout.write(JSON.stringify({ genres: [...ADULT_GENRES].sort(), adult: entries.map(isAdult),
                                      passes: filters.map((x) => entries.map((e) => passes(e, f(x)))) }));
"""


def test_filters_leave_out_adult_titles_unless_asked_and_match_python():
    entries = [{"genres": ["Action"], "format": "TV", "status": "FINISHED", "year": 2010},
               {"genres": ["Romance", "Hentai"], "format": "OVA", "status": "FINISHED", "year": 2010},
               {"genres": ["Erotica"], "format": "TV", "status": "RELEASING", "year": 2020},
               {"genres": [], "format": "TV", "status": None, "year": None},
               None]
    filters = [{}, {"adult": True}, {"formats": ["TV"], "adult": True}, {"statuses": ["FINISHED"]}, {"yearMin": 2015,
                                                                                                    "adult": True}]
    out = run_node(RUNNER, ["recs.js"], {"entries": entries, "filters": filters})
    assert out["genres"] == sorted(ADULT_GENRES)
    assert out["adult"] == [False, True, True, False, False]
    assert out["passes"] == [[True, False, False, True, False],      # adult titles hidden by default
                             [True, True, True, True, False],
                             [True, False, True, True, False],
                             [True, False, False, False, False],     # unknown status fails a status filter
                             [False, False, True, False, False]]     # unknown year fails a year filter


DISCOVER_RUNNER = """
import { discounted, logRatings } from %s;
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { display, order, weights } = JSON.parse(input);
const logN = logRatings(display);
const scores = Float32Array.from(order.map((s) => (s === null ? -Infinity : s)));
const out = (a) => Array.from(a, (s) => (Number.isFinite(s) ? s : null));
process.stdout.write(JSON.stringify({ logN: out(logN), without: logRatings([null, { title: 'no count' }]),
                                      discounted: weights.map((w) => out(discounted(scores, logN, w))) }));
"""


def test_discounted_order_matches_gnn_discover_bit_for_bit():
    """The page's "discover" (js/recs.js) gives the float32 scores gnn.discover gives, -inf kept."""
    import numpy as np

    from gnn.discover import discounted, log_ratings

    display = [None, {"ratings": 0}, {"ratings": 7}, {"ratings": 1234}, {"ratings": 55}]
    order = [None, 3.25, -1.5, 7.125, None]
    weights = [0, 0.5, 1, 1.7]
    out = run_node(DISCOVER_RUNNER, ["recs.js"], {"display": display, "order": order, "weights": weights})
    log_n = log_ratings(display)
    assert out["logN"] == log_n.tolist() and out["without"] is None
    py_order = np.array([-np.inf if s is None else s for s in order], dtype=np.float32)
    for w, got in zip(weights, out["discounted"]):
        want = discounted(py_order, log_n, w)
        assert got == [float(s) if np.isfinite(s) else None for s in want], w
