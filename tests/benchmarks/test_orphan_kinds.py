"""The split of the series-list orphans into later entries, later-made prequels and parent links."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.orphan_kinds import orphan_kinds
from gnn.franchise import Franchises
from gnn.train.metrics import orphan_sequel_share


def test_orphans_split_by_what_they_are_and_sum_to_the_orphan_share():
    # 1 A (2010) -> 2 B (2012): a sequel. 3 C (2015) states a PREQUEL 4 D made in 2018: release order keeps
    # C first. 5 E is a spin-off of 6 F (PARENT / SPIN_OFF: separate works). 7 G: no relations.
    display = [None,
               {"relations": [[2, "SEQUEL"]], "year": 2010}, {"relations": [[1, "PREQUEL"]], "year": 2012},
               {"relations": [[4, "PREQUEL"]], "year": 2015}, {"relations": [[3, "SEQUEL"]], "year": 2018},
               {"relations": [[6, "PARENT"]], "year": 2016}, {"relations": [[5, "SPIN_OFF"]], "year": 2010},
               {"relations": [], "year": 2000}]
    by_order = Franchises.from_display(display)
    types = [set()] + [{t for _, t in e["relations"]} for e in display[1:]]
    # The orphan share's definition: any anime with a PREQUEL or PARENT relation is a later entry.
    by_relation = replace(by_order, later=np.array([bool(t & {"PREQUEL", "PARENT"}) for t in types]))
    assert list(np.flatnonzero(by_relation.later)) == [2, 3, 5] and list(np.flatnonzero(by_order.later)) == [2]
    lists = [[2, 3, 5, 7], [2, 0, 0]]   # user 1 rated A: B continues a started franchise, no orphan
    rated = [[], [1]]
    r = orphan_kinds(lists, rated, by_relation, by_order, types)
    assert r["slots"] == 5
    assert (r["later entry"], r["prequel made later"], r["parent link"]) == (0.2, 0.2, 0.2)
    assert r["orphan_share"] == pytest.approx(orphan_sequel_share([[2, 3, 5, 7], [2]], rated, by_relation))


def test_the_raw_lists_split_sums_to_the_new_user_rows_orphan_share(tiny_processed, tmp_path, capsys):
    from benchmarks.orphan_kinds import main
    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model
    from gnn.processed import load_processed
    from gnn.train.metrics import new_user_ranking

    data = load_processed(tiny_processed)
    model = build_model("most_popular", ModelContext.from_processed(data), None)
    assert model.fit_closed_form(data.train)
    for seed in (0, 1):
        main(["--results", str(tmp_path), "--data-dir", str(tiny_processed), "--models", "most_popular",
              "--list", "raw", "--given", "5", "--seed", str(seed), "--name", "2"])
        out = capsys.readouterr().out.splitlines()
        assert "ranked top-10" in out[0] and f"(seed {seed})" in out[0]
        share = float(out[3].split("|")[2])
        expected = new_user_ranking(model, data, seed=seed)["k=5"]["orphan_share@10"]
        assert share == pytest.approx(expected, abs=5e-4)
        # --name 2: the two anime in most orphan slots, by title, each at most the whole orphan share.
        assert out[5] == "most_popular: the anime in most orphan slots (share of all slots, kind)"
        named = [re.fullmatch(r"  (Show \d+ S\d): (\d\.\d{3}) \((later entry|prequel made later|parent link)\)", line)
                 for line in out[6:]]
        assert len(named) == 2 and all(named) and sum(float(m[2]) for m in named) <= share + 1e-9


def test_named_counts_each_orphan_slot_by_anime_and_kind():
    # 1 A -> 2 B (a sequel); 3 C, a spin-off, states a PARENT 1 A. Both are orphans for a user who rated nothing.
    display = [None, {"relations": [[2, "SEQUEL"], [3, "SPIN_OFF"]], "year": 2010},
               {"relations": [[1, "PREQUEL"]], "year": 2012}, {"relations": [[1, "PARENT"]], "year": 2013}]
    by_order = Franchises.from_display(display)
    types = [set()] + [{t for _, t in e["relations"]} for e in display[1:]]
    by_relation = replace(by_order, later=np.array([bool(t & {"PREQUEL", "PARENT"}) for t in types]))
    named = Counter()
    r = orphan_kinds([[2, 3, 1], [2, 0, 0], [3, 2, 0]], [[], [], [1]], by_relation, by_order, types, named)
    # User 3 rated A: B continues their franchise; C is a franchise of its own, still an orphan.
    assert named == Counter({(2, "later entry"): 2, (3, "parent link"): 2})
    assert sum(named.values()) / r["slots"] == pytest.approx(r["orphan_share"])
